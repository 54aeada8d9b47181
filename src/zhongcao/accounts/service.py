"""Account actions: create, certify, members. Each ``do_*`` is one audited transaction."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from zhongcao.accounts.audit import record_audit, record_audits
from zhongcao.accounts.models import Account, AccountKind, Certification, Member, Role
from zhongcao.accounts.permissions import Actor, Capability, require, require_platform
from zhongcao.core import Conflict, Invalid, Runtime


@dataclass(frozen=True)
class AccountView:
    id: int
    kind: str
    name: str
    certification: str
    created_at: datetime

    @classmethod
    def of(cls, a: Account) -> AccountView:
        return cls(a.id, a.kind, a.name, a.certification, a.created_at)


@dataclass(frozen=True)
class MemberView:
    id: int
    account_id: int
    name: str
    role: str


E = TypeVar("E", bound=enum.StrEnum)


def parse_enum(enum_type: type[E], value: object, field: str) -> E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum_type(value)
    except ValueError:
        allowed = [e.value for e in enum_type]
        raise Invalid(f"invalid_{field}", f"{value!r} is not a valid {field}", field=field,
                      allowed=allowed) from None


def clean_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("invalid_name", f"{field} must be 1 to 200 characters", field=field,
                      allowed="non-blank text up to 200 characters")
    return name.strip()


def do_create_account(rt: Runtime, kind: str, name: str, *, actor: Actor) -> AccountView:
    """Onboarding is the operator's: an account is a legal party on the platform."""
    require_platform(actor, "create accounts")
    account_kind = parse_enum(AccountKind, kind, "kind")
    with rt.db.transaction() as s:
        account = Account(kind=account_kind.value, name=clean_name(name), created_at=rt.now(),
                          certification=Certification.UNCERTIFIED.value)
        s.add(account)
        s.flush()
        view = AccountView.of(account)
        record_audit(s, rt, actor, account_id=account.id, action="account.create",
                     target=f"account:{account.id}", after={"kind": view.kind, "name": view.name})
        return view


def kind_of(session: Session, account_id: int) -> str | None:
    """An account's kind, inside the caller's transaction; no rights needed: a slice recording what an
    account did names it by kind (a store's order, a creator's live room)."""
    kind: str | None = session.scalar(select(Account.kind).where(Account.id == account_id))
    return kind


def do_create_accounts(rt: Runtime, kind: str, names: Sequence[str], *, certified: bool = False,
                       actor: Actor) -> list[int]:
    """Onboard many accounts of one kind in one transaction (a simulated world's creators); each is audited
    as if created alone. ``certified`` records the operator's approval with it."""
    require_platform(actor, "create accounts")
    account_kind = parse_enum(AccountKind, kind, "kind")
    clean = [clean_name(n) for n in names]
    status = (Certification.CERTIFIED if certified else Certification.UNCERTIFIED).value
    now = rt.now()
    with rt.db.transaction() as s:
        ids = [int(i) for i in s.scalars(insert(Account).returning(Account.id, sort_by_parameter_order=True), [
            {"kind": account_kind.value, "name": n, "created_at": now, "certification": status} for n in clean])]
        record_audits(s, rt, actor, [(i, "account.create", f"account:{i}",
                                      {"kind": account_kind.value, "name": n, "certification": status})
                                     for i, n in zip(ids, clean, strict=True)])
    return ids


def get_account(rt: Runtime, account_id: int, *, actor: Actor) -> AccountView:
    with rt.db.read() as s:
        return AccountView.of(require(s, actor, account_id, Capability.READ))


def _set_certification(s: Session, rt: Runtime, actor: Actor, account: Account, new: Certification,
                       action: str) -> AccountView:
    before = account.certification
    account.certification = new.value
    record_audit(s, rt, actor, account_id=account.id, action=action, target=f"account:{account.id}",
                 before={"certification": before}, after={"certification": new.value})
    return AccountView.of(account)


def do_request_certification(rt: Runtime, account_id: int, *, actor: Actor) -> AccountView:
    with rt.db.transaction() as s:
        account = require(s, actor, account_id, Capability.MANAGE)
        if account.certification not in (Certification.UNCERTIFIED.value, Certification.REJECTED.value):
            raise Conflict("certification_not_requestable",
                           f"account {account_id} is {account.certification}", field="certification",
                           allowed=[Certification.UNCERTIFIED.value, Certification.REJECTED.value])
        return _set_certification(s, rt, actor, account, Certification.PENDING, "certification.request")


def do_decide_certification(rt: Runtime, account_id: int, decision: str, *, actor: Actor) -> AccountView:
    """The operator approves or rejects. It may decide an uncertified account directly (documents
    reviewed offline), but a decided account must be re-requested before it is decided again."""
    require_platform(actor, "decide certification")
    if decision not in ("approve", "reject"):
        raise Invalid("invalid_decision", f"{decision!r} is not a decision", field="decision",
                      allowed=["approve", "reject"])
    with rt.db.transaction() as s:
        account = require(s, actor, account_id, Capability.MANAGE)
        if account.certification not in (Certification.UNCERTIFIED.value, Certification.PENDING.value):
            raise Conflict("certification_already_decided", f"account {account_id} is {account.certification}",
                           field="certification",
                           allowed=[Certification.UNCERTIFIED.value, Certification.PENDING.value])
        new = Certification.CERTIFIED if decision == "approve" else Certification.REJECTED
        return _set_certification(s, rt, actor, account, new, f"certification.{decision}")


def do_add_member(rt: Runtime, account_id: int, name: str, role: str, *, actor: Actor) -> MemberView:
    member_role = parse_enum(Role, role, "role")
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.MANAGE)
        member = Member(account_id=account_id, name=clean_name(name), role=member_role.value,
                        created_at=rt.now())
        s.add(member)
        s.flush()
        record_audit(s, rt, actor, account_id=account_id, action="member.add", target=f"member:{member.id}",
                     after={"name": member.name, "role": member.role})
        return MemberView(member.id, account_id, member.name, member.role)


def list_members(rt: Runtime, account_id: int, *, actor: Actor) -> list[MemberView]:
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        rows = s.scalars(select(Member).where(Member.account_id == account_id).order_by(Member.id)).all()
        return [MemberView(m.id, m.account_id, m.name, m.role) for m in rows]
