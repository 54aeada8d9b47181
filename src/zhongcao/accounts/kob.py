"""KOB: a brand's authorized tree of distributors and stores, its KOS staff and its agencies.

Since KOB 3.0 authorization is online: the brand (or a distributor under it) invites, the sub-account
confirms. Both sides must be certified, a sub-account answers to one parent at a time, and a chain is
at most ``kob_max_levels`` deep counting the brand. Revocation lives in ``billing``, which also returns
the delegated budget; ``revoke_authorization`` here is its step inside that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zhongcao.accounts.audit import record_audit
from zhongcao.accounts.models import (
    Account,
    AccountKind,
    AgencyGrant,
    Authorization,
    Certification,
    KosBinding,
    LinkStatus,
)
from zhongcao.accounts.permissions import (
    AGENCY_SCOPES,
    Actor,
    Capability,
    ancestors,
    descendants,
    require,
    require_owner,
)
from zhongcao.core import Conflict, Forbidden, Invalid, NotFound, Runtime

PARENT_KINDS = {AccountKind.BRAND.value, AccountKind.DISTRIBUTOR.value}
CHILD_KINDS = {AccountKind.DISTRIBUTOR.value, AccountKind.STORE.value}
KOS_KINDS = {AccountKind.CREATOR.value, AccountKind.CONSUMER.value}


@dataclass(frozen=True)
class AuthorizationView:
    id: int
    parent_id: int
    child_id: int
    status: str
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, a: Authorization) -> AuthorizationView:
        return cls(a.id, a.parent_id, a.child_id, a.status, a.created_at, a.decided_at)


@dataclass(frozen=True)
class SubAccountView:
    id: int
    kind: str
    name: str
    certification: str
    parent_id: int
    depth: int


@dataclass(frozen=True)
class KosView:
    id: int
    brand_id: int
    kos_account_id: int
    status: str


@dataclass(frozen=True)
class AgencyGrantView:
    id: int
    brand_id: int
    agency_id: int
    scopes: list[str]
    active: bool


def lock_accounts(rt: Runtime, s: Session, *ids: int) -> None:
    """Serialize changes to the same KOB edges: lock account rows in ascending id, the global order."""
    for account_id in sorted(set(ids)):
        s.execute(rt.db.for_update(select(Account.id).where(Account.id == account_id)))


def _require_certified(account: Account, field: str) -> None:
    if account.certification != Certification.CERTIFIED.value:
        raise Conflict("not_certified", f"account {account.id} is {account.certification}; KOB needs both "
                       "sides certified", field=field, allowed=[Certification.CERTIFIED.value])


def _subtree_height(s: Session, account_id: int) -> int:
    below = descendants(s, account_id)
    return 1 + max((depth for _, _, depth in below), default=0)


def _check_edge(rt: Runtime, s: Session, parent: Account, child: Account) -> None:
    """Every rule an edge must satisfy, checked at invite and again at confirm (state may have moved)."""
    _require_certified(parent, "parent_id")
    _require_certified(child, "sub_account_id")
    active_parent = s.scalar(select(Authorization.parent_id).where(
        Authorization.child_id == child.id, Authorization.status == LinkStatus.ACTIVE.value))
    if active_parent is not None:
        raise Conflict("sub_account_already_authorized",
                       f"account {child.id} already has an active brand; it must be revoked first",
                       field="sub_account_id")
    chain = ancestors(s, parent.id)
    if child.id in chain:
        raise Conflict("kob_cycle", f"account {child.id} is above account {parent.id}", field="sub_account_id")
    levels = 1 + len(chain) + _subtree_height(s, child.id)
    limit = rt.settings.kob_max_levels
    if levels > limit:
        raise Conflict("kob_too_deep", f"the chain would have {levels} levels", field="sub_account_id",
                       allowed=f"at most {limit} levels, brand included")


def do_invite(rt: Runtime, parent_id: int, sub_account_id: int, *, actor: Actor) -> AuthorizationView:
    with rt.db.transaction() as s:
        parent = require(s, actor, parent_id, Capability.MANAGE)
        child = s.get(Account, sub_account_id)
        if child is None:
            raise NotFound("account", sub_account_id)
        if parent.kind not in PARENT_KINDS:
            raise Invalid("invalid_parent_kind", f"a {parent.kind} cannot hold sub-accounts", field="parent_id",
                          allowed=sorted(PARENT_KINDS))
        if child.kind not in CHILD_KINDS:
            raise Invalid("invalid_sub_account_kind", f"a {child.kind} cannot be a KOB sub-account",
                          field="sub_account_id", allowed=sorted(CHILD_KINDS))
        lock_accounts(rt, s, parent.id, child.id)
        _check_edge(rt, s, parent, child)
        pending = s.scalar(select(Authorization.id).where(
            Authorization.parent_id == parent.id, Authorization.child_id == child.id,
            Authorization.status == LinkStatus.PENDING.value))
        if pending is not None:
            raise Conflict("authorization_pending", f"invitation {pending} is already pending",
                           field="sub_account_id")
        auth = Authorization(parent_id=parent.id, child_id=child.id, status=LinkStatus.PENDING.value,
                             created_at=rt.now())
        s.add(auth)
        s.flush()
        view = AuthorizationView.of(auth)
        for account_id in (parent.id, child.id):
            record_audit(s, rt, actor, account_id=account_id, action="authorization.invite",
                         target=f"authorization:{auth.id}", after={"status": view.status,
                         "parent_id": parent.id, "child_id": child.id})
        return view


def _load_authorization(s: Session, actor: Actor, authorization_id: int) -> Authorization:
    """An authorization is visible to whoever can read either end."""
    auth = s.get(Authorization, authorization_id)
    if auth is None:
        raise NotFound("authorization", authorization_id)
    for end in (auth.child_id, auth.parent_id):
        try:
            require(s, actor, end, Capability.READ)
            return auth
        except NotFound:
            continue
    raise NotFound("authorization", authorization_id)


def _transition(rt: Runtime, s: Session, actor: Actor, auth: Authorization, new: LinkStatus,
                expected: LinkStatus) -> AuthorizationView:
    if auth.status != expected.value:
        raise Conflict("authorization_not_" + expected.value, f"authorization {auth.id} is {auth.status}",
                       field="status", allowed=[expected.value])
    before = auth.status
    auth.status = new.value
    auth.decided_at = rt.now()
    s.flush()
    for account_id in (auth.parent_id, auth.child_id):
        record_audit(s, rt, actor, account_id=account_id, action=f"authorization.{new.value}",
                     target=f"authorization:{auth.id}", before={"status": before}, after={"status": new.value})
    return AuthorizationView.of(auth)


def _answer(rt: Runtime, authorization_id: int, accept: bool, actor: Actor) -> AuthorizationView:
    """Only the invited sub-account answers; its brand cannot answer for it."""
    with rt.db.transaction() as s:
        auth = _load_authorization(s, actor, authorization_id)
        if not actor.is_platform and actor.account_id != auth.child_id:
            raise Forbidden("sub_account_only", "only the invited sub-account can answer an invitation",
                            field="actor", allowed=[f"account:{auth.child_id}"])
        require(s, actor, auth.child_id, Capability.MANAGE)
        lock_accounts(rt, s, auth.parent_id, auth.child_id)
        if accept and auth.status == LinkStatus.PENDING.value:
            _check_edge(rt, s, s.get_one(Account, auth.parent_id), s.get_one(Account, auth.child_id))
        new = LinkStatus.ACTIVE if accept else LinkStatus.DECLINED
        return _transition(rt, s, actor, auth, new, LinkStatus.PENDING)


def do_confirm(rt: Runtime, authorization_id: int, *, actor: Actor) -> AuthorizationView:
    return _answer(rt, authorization_id, True, actor)


def do_decline(rt: Runtime, authorization_id: int, *, actor: Actor) -> AuthorizationView:
    return _answer(rt, authorization_id, False, actor)


def revoke_authorization(rt: Runtime, authorization_id: int, *, actor: Actor) -> AuthorizationView:
    """The parent side ends an active authorization (or withdraws a pending invitation).

    Call ``billing.do_revoke_authorization``, which wraps this and returns the delegated budget."""
    with rt.db.transaction() as s:
        auth = _load_authorization(s, actor, authorization_id)
        require(s, actor, auth.parent_id, Capability.MANAGE)
        lock_accounts(rt, s, auth.parent_id, auth.child_id)
        expected = LinkStatus.PENDING if auth.status == LinkStatus.PENDING.value else LinkStatus.ACTIVE
        return _transition(rt, s, actor, auth, LinkStatus.REVOKED, expected)


def get_authorization(rt: Runtime, authorization_id: int, *, actor: Actor) -> AuthorizationView:
    with rt.db.read() as s:
        return AuthorizationView.of(_load_authorization(s, actor, authorization_id))


def list_authorizations(rt: Runtime, account_id: int, *, actor: Actor) -> list[AuthorizationView]:
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        rows = s.scalars(select(Authorization).where(
            or_(Authorization.parent_id == account_id, Authorization.child_id == account_id)
        ).order_by(Authorization.id)).all()
        return [AuthorizationView.of(a) for a in rows]


def list_sub_accounts(rt: Runtime, account_id: int, *, actor: Actor) -> list[SubAccountView]:
    """The whole active subtree, breadth first, with each account's parent and depth."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        below = descendants(s, account_id)
        accounts = {a.id: a for a in s.scalars(select(Account).where(Account.id.in_([b[0] for b in below])))}
        return [SubAccountView(i, accounts[i].kind, accounts[i].name, accounts[i].certification, p, d)
                for i, p, d in below]


# --- KOS: employee accounts bound to an enterprise account -----------------------------------------

def do_bind_kos(rt: Runtime, brand_id: int, kos_account_id: int, *, actor: Actor) -> KosView:
    with rt.db.transaction() as s:
        brand = require(s, actor, brand_id, Capability.MANAGE)
        person = s.get(Account, kos_account_id)
        if person is None:
            raise NotFound("account", kos_account_id)
        if brand.kind not in PARENT_KINDS | {AccountKind.STORE.value}:
            raise Invalid("invalid_parent_kind", f"a {brand.kind} cannot bind KOS accounts", field="brand_id",
                          allowed=sorted(PARENT_KINDS | {AccountKind.STORE.value}))
        if person.kind not in KOS_KINDS:
            raise Invalid("invalid_kos_kind", f"a {person.kind} cannot be a KOS account", field="account_id",
                          allowed=sorted(KOS_KINDS))
        lock_accounts(rt, s, brand.id, person.id)
        bound = s.scalar(select(func.count()).select_from(KosBinding).where(
            KosBinding.brand_id == brand.id, KosBinding.status.in_(["active", "pending"])))
        limit = rt.settings.kos_limit
        if (bound or 0) >= limit:
            raise Conflict("kos_limit_reached", f"account {brand.id} already has {bound} KOS bindings",
                           field="account_id", allowed=f"at most {limit} (ZHONGCAO_KOS_LIMIT)")
        taken = s.scalar(select(KosBinding.id).where(
            KosBinding.kos_account_id == person.id, KosBinding.status.in_(["active", "pending"])))
        if taken is not None:
            raise Conflict("kos_already_bound", f"account {person.id} is already bound or invited",
                           field="account_id")
        row = KosBinding(brand_id=brand.id, kos_account_id=person.id, status=LinkStatus.PENDING.value,
                         created_at=rt.now())
        s.add(row)
        s.flush()
        record_audit(s, rt, actor, account_id=brand.id, action="kos.invite", target=f"kos_binding:{row.id}",
                     after={"kos_account_id": person.id, "status": row.status})
        return KosView(row.id, row.brand_id, row.kos_account_id, row.status)


def do_answer_kos(rt: Runtime, binding_id: int, accept: bool, *, actor: Actor) -> KosView:
    with rt.db.transaction() as s:
        row = s.get(KosBinding, binding_id)
        if row is None or not (actor.is_platform or actor.account_id in (row.kos_account_id, row.brand_id)):
            raise NotFound("kos_binding", binding_id)
        if not actor.is_platform and actor.account_id != row.kos_account_id:
            raise Forbidden("kos_account_only", "only the invited person answers", field="actor",
                            allowed=[f"account:{row.kos_account_id}"])
        if row.status != LinkStatus.PENDING.value:
            raise Conflict("kos_binding_not_pending", f"binding {row.id} is {row.status}", field="status",
                           allowed=["pending"])
        row.status = (LinkStatus.ACTIVE if accept else LinkStatus.DECLINED).value
        record_audit(s, rt, actor, account_id=row.brand_id, action=f"kos.{row.status}",
                     target=f"kos_binding:{row.id}", before={"status": "pending"}, after={"status": row.status})
        return KosView(row.id, row.brand_id, row.kos_account_id, row.status)


def list_kos(rt: Runtime, brand_id: int, *, actor: Actor) -> list[KosView]:
    with rt.db.read() as s:
        require(s, actor, brand_id, Capability.READ)
        rows = s.scalars(select(KosBinding).where(KosBinding.brand_id == brand_id).order_by(KosBinding.id))
        return [KosView(r.id, r.brand_id, r.kos_account_id, r.status) for r in rows]


# --- agencies ---------------------------------------------------------------------------------------

def do_grant_agency(rt: Runtime, brand_id: int, agency_id: int, scopes: list[str], *,
                    actor: Actor) -> AgencyGrantView:
    allowed = sorted(c.value for c in AGENCY_SCOPES)
    if not scopes or any(sc not in allowed for sc in scopes):
        raise Invalid("invalid_scopes", f"scopes {scopes!r} are not grantable", field="scopes", allowed=allowed)
    with rt.db.transaction() as s:
        brand = require(s, actor, brand_id, Capability.MANAGE)
        if brand.kind != AccountKind.BRAND.value:
            raise Invalid("invalid_parent_kind", "only a brand grants agency access", field="brand_id",
                          allowed=[AccountKind.BRAND.value])
        agency = s.get(Account, agency_id)
        if agency is None or agency.kind != AccountKind.AGENCY.value:
            raise Invalid("invalid_agency", f"account {agency_id} is not an agency", field="agency_id",
                          allowed=["an agency account id"])
        row = AgencyGrant(brand_id=brand_id, agency_id=agency_id, scopes=",".join(sorted(set(scopes))),
                          active=True, created_at=rt.now())
        s.add(row)
        s.flush()
        record_audit(s, rt, actor, account_id=brand_id, action="agency.grant", target=f"agency_grant:{row.id}",
                     after={"agency_id": agency_id, "scopes": row.scopes})
        return AgencyGrantView(row.id, brand_id, agency_id, row.scopes.split(","), True)


def do_revoke_agency_grant(rt: Runtime, grant_id: int, *, actor: Actor) -> AgencyGrantView:
    with rt.db.transaction() as s:
        row = s.get(AgencyGrant, grant_id)
        if row is None:
            raise NotFound("agency_grant", grant_id)
        require_owner(s, actor, row.brand_id, Capability.MANAGE, "agency_grant", grant_id)
        if row.active:
            row.active = False
            record_audit(s, rt, actor, account_id=row.brand_id, action="agency.revoke",
                         target=f"agency_grant:{row.id}", before={"active": True}, after={"active": False})
        return AgencyGrantView(row.id, row.brand_id, row.agency_id, row.scopes.split(","), row.active)


def list_agency_grants(rt: Runtime, account_id: int, *, actor: Actor) -> list[AgencyGrantView]:
    """Grants an account gave (a brand) or holds (an agency)."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        rows = s.scalars(select(AgencyGrant).where(
            or_(AgencyGrant.brand_id == account_id, AgencyGrant.agency_id == account_id)).order_by(AgencyGrant.id))
        return [AgencyGrantView(r.id, r.brand_id, r.agency_id, r.scopes.split(","), r.active) for r in rows]
