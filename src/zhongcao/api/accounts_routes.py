"""/v1 routes for accounts, certification, KOB authorizations, members, keys, KOS, agencies and audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from zhongcao import accounts as acc
from zhongcao import billing
from zhongcao.api import schemas as s
from zhongcao.api.deps import RT, Who

router = APIRouter(prefix="/v1", tags=["accounts"])
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("/accounts", status_code=201)
def create_account(body: s.AccountCreate, rt: RT, who: Who) -> acc.AccountView:
    return acc.do_create_account(rt, body.kind, body.name, actor=who)


@router.get("/accounts/{account_id}")
def get_account(account_id: int, rt: RT, who: Who) -> acc.AccountView:
    return acc.get_account(rt, account_id, actor=who)


@router.post("/accounts/{account_id}/certification/request")
def request_certification(account_id: int, rt: RT, who: Who) -> acc.AccountView:
    return acc.do_request_certification(rt, account_id, actor=who)


@router.post("/accounts/{account_id}/certification")
def decide_certification(account_id: int, body: s.CertificationDecision, rt: RT, who: Who) -> acc.AccountView:
    return acc.do_decide_certification(rt, account_id, body.decision, actor=who)


@router.post("/accounts/{account_id}/api-keys", status_code=201)
def create_api_key(account_id: int, rt: RT, who: Who,
                   body: Annotated[s.ApiKeyCreate | None, Body()] = None) -> dict[str, object]:
    body = body or s.ApiKeyCreate()
    issued = acc.do_create_api_key(rt, account_id, member_id=body.member_id, label=body.label, actor=who)
    return {"id": issued.view.id, "key": issued.key, "prefix": issued.view.prefix, "account_id": account_id,
            "member_id": issued.view.member_id}


@router.get("/accounts/{account_id}/api-keys")
def list_api_keys(account_id: int, rt: RT, who: Who) -> list[acc.ApiKeyView]:
    return acc.list_api_keys(rt, account_id, actor=who)


@router.post("/api-keys/{key_id}/revoke")
def revoke_api_key(key_id: int, rt: RT, who: Who) -> acc.ApiKeyView:
    return acc.do_revoke_api_key(rt, key_id, actor=who)


@router.post("/accounts/{account_id}/members", status_code=201)
def add_member(account_id: int, body: s.MemberCreate, rt: RT, who: Who) -> acc.MemberView:
    return acc.do_add_member(rt, account_id, body.name, body.role, actor=who)


@router.get("/accounts/{account_id}/members")
def list_members(account_id: int, rt: RT, who: Who) -> list[acc.MemberView]:
    return acc.list_members(rt, account_id, actor=who)


@router.post("/accounts/{brand_id}/authorizations", status_code=201)
def invite(brand_id: int, body: s.AuthorizationCreate, rt: RT, who: Who) -> acc.AuthorizationView:
    return acc.do_invite(rt, brand_id, body.sub_account_id, actor=who)


@router.get("/accounts/{account_id}/authorizations")
def list_authorizations(account_id: int, rt: RT, who: Who) -> list[acc.AuthorizationView]:
    return acc.list_authorizations(rt, account_id, actor=who)


@router.get("/authorizations/{authorization_id}")
def get_authorization(authorization_id: int, rt: RT, who: Who) -> acc.AuthorizationView:
    return acc.get_authorization(rt, authorization_id, actor=who)


@router.post("/authorizations/{authorization_id}/confirm")
def confirm(authorization_id: int, rt: RT, who: Who) -> acc.AuthorizationView:
    return acc.do_confirm(rt, authorization_id, actor=who)


@router.post("/authorizations/{authorization_id}/decline")
def decline(authorization_id: int, rt: RT, who: Who) -> acc.AuthorizationView:
    return acc.do_decline(rt, authorization_id, actor=who)


@router.post("/authorizations/{authorization_id}/revoke")
def revoke(authorization_id: int, rt: RT, who: Who) -> dict[str, object]:
    """Revoking returns the sub-account's available delegated budget to the brand at once."""
    r = billing.do_revoke_authorization(rt, authorization_id, actor=who)
    return {"id": r.authorization.id, "status": r.authorization.status, "parent_id": r.authorization.parent_id,
            "child_id": r.authorization.child_id, "returned_fen": r.returned_fen,
            "pending_return_fen": r.pending_return_fen}


@router.get("/accounts/{account_id}/sub-accounts")
def sub_accounts(account_id: int, rt: RT, who: Who) -> list[acc.SubAccountView]:
    return acc.list_sub_accounts(rt, account_id, actor=who)


@router.post("/accounts/{brand_id}/kos", status_code=201)
def bind_kos(brand_id: int, body: s.KosCreate, rt: RT, who: Who) -> acc.KosView:
    return acc.do_bind_kos(rt, brand_id, body.account_id, actor=who)


@router.get("/accounts/{brand_id}/kos")
def list_kos(brand_id: int, rt: RT, who: Who) -> list[acc.KosView]:
    return acc.list_kos(rt, brand_id, actor=who)


@router.post("/kos-bindings/{binding_id}/confirm")
def confirm_kos(binding_id: int, rt: RT, who: Who) -> acc.KosView:
    return acc.do_answer_kos(rt, binding_id, True, actor=who)


@router.post("/kos-bindings/{binding_id}/decline")
def decline_kos(binding_id: int, rt: RT, who: Who) -> acc.KosView:
    return acc.do_answer_kos(rt, binding_id, False, actor=who)


@router.post("/accounts/{brand_id}/agency-grants", status_code=201)
def grant_agency(brand_id: int, body: s.AgencyGrantCreate, rt: RT, who: Who) -> acc.AgencyGrantView:
    return acc.do_grant_agency(rt, brand_id, body.agency_id, body.scopes, actor=who)


@router.get("/accounts/{account_id}/agency-grants")
def list_agency_grants(account_id: int, rt: RT, who: Who) -> list[acc.AgencyGrantView]:
    return acc.list_agency_grants(rt, account_id, actor=who)


@router.post("/agency-grants/{grant_id}/revoke")
def revoke_agency_grant(grant_id: int, rt: RT, who: Who) -> acc.AgencyGrantView:
    return acc.do_revoke_agency_grant(rt, grant_id, actor=who)


@router.get("/accounts/{account_id}/audit")
def audit(account_id: int, rt: RT, who: Who, limit: Limit = 100, before_id: int | None = None) -> list[acc.AuditView]:
    return acc.read_audit(rt, account_id, actor=who, limit=limit, before_id=before_id)
