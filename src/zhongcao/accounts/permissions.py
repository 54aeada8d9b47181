"""Who may do what to which account.

Rights flow down the active KOB tree: a brand acts on its authorized sub-accounts, never the reverse,
and siblings never see each other. An agency holds what a brand granted it. A member's role narrows
whatever its account may do. Anything the actor cannot even read answers exactly like an unknown id,
so one tenant cannot probe for another's resources.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.accounts.models import Account, AgencyGrant, Authorization, LinkStatus, Role
from zhongcao.core import Forbidden, NotFound


class Capability(enum.StrEnum):
    READ = "read"          # see the account, its wallet, ledger, reports and audit
    OPERATE = "operate"    # run campaigns and spend through leases
    FINANCE = "finance"    # move money: allocate, reclaim, fund pools
    MANAGE = "manage"      # members, keys, authorizations, grants


ALL = frozenset(Capability)
ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: ALL,
    Role.OPERATOR: frozenset({Capability.READ, Capability.OPERATE}),
    Role.FINANCE: frozenset({Capability.READ, Capability.FINANCE}),
    Role.ANALYST: frozenset({Capability.READ}),
}
AGENCY_SCOPES = frozenset({Capability.READ, Capability.OPERATE, Capability.FINANCE})


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``system`` is the platform itself (sweeper, simulator, CLI bootstrap)."""

    kind: str  # "operator" | "account" | "system"
    account_id: int | None = None
    member_id: int | None = None
    role: Role = Role.ADMIN

    @classmethod
    def operator(cls) -> Actor:
        return cls("operator")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def of_account(cls, account_id: int, member_id: int | None = None, role: Role = Role.ADMIN) -> Actor:
        return cls("account", account_id, member_id, role)

    @property
    def is_platform(self) -> bool:
        return self.kind in ("operator", "system")

    @property
    def label(self) -> str:
        if self.kind != "account":
            return self.kind
        if self.member_id is not None:
            return f"account:{self.account_id}/member:{self.member_id}"
        return f"account:{self.account_id}"


def ancestors(session: Session, account_id: int) -> list[int]:
    """The active KOB chain above an account, nearest first."""
    chain: list[int] = []
    current = account_id
    while True:
        parent = session.scalar(
            select(Authorization.parent_id).where(
                Authorization.child_id == current, Authorization.status == LinkStatus.ACTIVE.value
            )
        )
        if parent is None or parent in chain or parent == account_id:
            return chain
        chain.append(parent)
        current = parent


def descendants(session: Session, account_id: int) -> list[tuple[int, int, int]]:
    """The active subtree below an account as (account_id, parent_id, depth), breadth first."""
    out: list[tuple[int, int, int]] = []
    frontier = [account_id]
    seen = {account_id}
    depth = 1
    while frontier:
        rows = session.execute(
            select(Authorization.child_id, Authorization.parent_id)
            .where(Authorization.parent_id.in_(frontier), Authorization.status == LinkStatus.ACTIVE.value)
            .order_by(Authorization.child_id)
        ).all()
        frontier = []
        for child, parent in rows:
            if child not in seen:
                seen.add(child)
                out.append((child, parent, depth))
                frontier.append(child)
        depth += 1
    return out


def capabilities(session: Session, actor: Actor, account_id: int) -> frozenset[Capability]:
    if session.get(Account, account_id) is None:
        return frozenset()
    if actor.is_platform:
        return ALL
    role_caps = ROLE_CAPABILITIES[actor.role]
    if actor.account_id == account_id:
        return role_caps
    chain = ancestors(session, account_id)
    if actor.account_id in chain:
        return role_caps
    grants = session.scalars(
        select(AgencyGrant.scopes).where(
            AgencyGrant.agency_id == actor.account_id,
            AgencyGrant.active.is_(True),
            AgencyGrant.brand_id.in_([account_id, *chain]),
        )
    ).all()
    granted = {Capability(s) for scopes in grants for s in scopes.split(",") if s}
    return role_caps & frozenset(granted)


def require(session: Session, actor: Actor, account_id: int, capability: Capability) -> Account:
    """The account, if the actor holds ``capability`` on it; else 404 (cannot see) or 403 (can see)."""
    caps = capabilities(session, actor, account_id)
    if not caps:
        raise NotFound("account", account_id)
    if capability not in caps:
        raise Forbidden(
            "forbidden",
            f"{actor.label} may not {capability.value} on account {account_id}",
            field="capability",
            allowed=sorted(c.value for c in caps),
        )
    account = session.get(Account, account_id)
    assert account is not None
    return account


def require_owner(session: Session, actor: Actor, owner_id: int, capability: Capability, what: str,
                  ident: object) -> Account:
    """``require`` for a resource owned by an account: when the owner is invisible to the actor, the
    answer is that the *resource* does not exist, exactly as for an unknown id."""
    try:
        return require(session, actor, owner_id, capability)
    except NotFound:
        raise NotFound(what, ident) from None


def _load(session: Session, account_ids: Iterable[int]) -> list[Account]:
    """Accounts into the session, for checks that read them by id. The session keeps only weak references:
    the caller holds the list while it checks, or each read would query its account again."""
    return list(session.scalars(select(Account).where(Account.id.in_(list(account_ids)))))


def require_owners(session: Session, actor: Actor, owners: Mapping[int, object], capability: Capability,
                   what: str) -> None:
    """``require_owner`` for many resources, given as owner id → resource id: the owners load in one query
    (a batch of leases names a hundred stores), and each check reads its owner from the session."""
    loaded = _load(session, owners)
    for owner_id, ident in sorted(owners.items()):
        require_owner(session, actor, owner_id, capability, what, ident)
    del loaded


def require_all(session: Session, actor: Actor, account_ids: Iterable[int], capability: Capability) -> None:
    """``require`` for many accounts, in id order: they load in one query (a lease renewal names a hundred
    stores), and each check reads its account from the session."""
    ids = sorted(set(account_ids))
    loaded = _load(session, ids)
    for account_id in ids:
        require(session, actor, account_id, capability)
    del loaded


def require_platform(actor: Actor, action: str) -> None:
    if not actor.is_platform:
        raise Forbidden("operator_only", f"only the platform operator may {action}", field="actor",
                        allowed=["operator"])
