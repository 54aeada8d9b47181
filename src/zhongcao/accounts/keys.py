"""API keys: shown once, stored hashed, sent as ``Authorization: Bearer <key>``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from zhongcao.accounts.audit import record_audit
from zhongcao.accounts.models import ApiKey, Member, Role
from zhongcao.accounts.permissions import Actor, Capability, require, require_owner, require_platform
from zhongcao.core import NotFound, Runtime, Unauthenticated

KEY_PREFIX = "zc_"


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    prefix: str
    account_id: int | None
    member_id: int | None
    label: str
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class IssuedKey:
    """The secret exists only here, once."""

    view: ApiKeyView
    key: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _view(k: ApiKey) -> ApiKeyView:
    return ApiKeyView(k.id, k.prefix, k.account_id, k.member_id, k.label, k.created_at, k.revoked_at is not None)


def _issue(rt: Runtime, *, account_id: int | None, member_id: int | None, is_operator: bool, label: str,
           actor: Actor) -> IssuedKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with rt.db.transaction() as s:
        row = ApiKey(key_hash=_hash(secret), prefix=secret[:10], account_id=account_id, member_id=member_id,
                     is_operator=is_operator, label=label[:200], created_at=rt.now())
        s.add(row)
        s.flush()
        record_audit(s, rt, actor, account_id=account_id, action="api_key.create", target=f"api_key:{row.id}",
                     after={"prefix": row.prefix, "member_id": member_id, "operator": is_operator})
        return IssuedKey(_view(row), secret)


def do_create_api_key(rt: Runtime, account_id: int, *, member_id: int | None = None, label: str = "",
                      actor: Actor) -> IssuedKey:
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.MANAGE)
        if member_id is not None:
            member = s.get(Member, member_id)
            if member is None or member.account_id != account_id:
                raise NotFound("member", member_id)
        return _issue(rt, account_id=account_id, member_id=member_id, is_operator=False, label=label,
                      actor=actor)


def do_create_operator_key(rt: Runtime, *, label: str = "", actor: Actor) -> IssuedKey:
    require_platform(actor, "create operator keys")
    return _issue(rt, account_id=None, member_id=None, is_operator=True, label=label, actor=actor)


def list_api_keys(rt: Runtime, account_id: int, *, actor: Actor) -> list[ApiKeyView]:
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.MANAGE)
        rows = s.scalars(select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.id)).all()
        return [_view(k) for k in rows]


def do_revoke_api_key(rt: Runtime, key_id: int, *, actor: Actor) -> ApiKeyView:
    with rt.db.transaction() as s:
        row = s.get(ApiKey, key_id)
        if row is None or (row.account_id is None and not actor.is_platform):
            raise NotFound("api_key", key_id)
        if row.account_id is not None:
            require_owner(s, actor, row.account_id, Capability.MANAGE, "api_key", key_id)
        if row.revoked_at is None:
            row.revoked_at = rt.now()
            record_audit(s, rt, actor, account_id=row.account_id, action="api_key.revoke",
                         target=f"api_key:{row.id}", before={"revoked": False}, after={"revoked": True})
        return _view(row)


def authenticate(rt: Runtime, token: str | None) -> Actor:
    """The actor behind a bearer token, or 401. The bootstrap admin token is compared in constant time."""
    if not token:
        raise Unauthenticated("unauthenticated", "send Authorization: Bearer <api key>", field="authorization")
    admin = rt.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Actor.operator()
    with rt.db.read() as s:
        row = s.execute(
            select(ApiKey, Member.role).outerjoin(Member, Member.id == ApiKey.member_id)
            .where(ApiKey.key_hash == _hash(token))
        ).first()
    if row is None or row[0].revoked_at is not None:
        raise Unauthenticated("invalid_api_key", "the API key is unknown or revoked", field="authorization")
    key, role = row
    if key.is_operator:
        return Actor.operator()
    assert key.account_id is not None
    return Actor.of_account(key.account_id, key.member_id, Role(role) if role else Role.ADMIN)
