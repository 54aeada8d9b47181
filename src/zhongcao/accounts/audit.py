"""Every action leaves who, when, what, before and after; reads of it are scoped like the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from zhongcao.accounts.models import AuditEntry
from zhongcao.accounts.permissions import Actor, Capability, require
from zhongcao.core import Runtime


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    account_id: int | None
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record_audit(
    session: Session,
    rt: Runtime,
    actor: Actor,
    *,
    account_id: int | None,
    action: str,
    target: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEntry(
        at=rt.now(), actor=actor.label, actor_account_id=actor.account_id, account_id=account_id,
        action=action, target=target, before=before, after=after,
    ))


def record_audits(session: Session, rt: Runtime, actor: Actor,
                  entries: list[tuple[int | None, str, str, dict[str, Any] | None]],
                  before: dict[str, Any] | None = None) -> None:
    """Many entries in one statement: (account id, action, target, after) each, by one actor, now, from one
    ``before`` state."""
    if entries:
        now = rt.now()
        session.execute(insert(AuditEntry), [
            {"at": now, "actor": actor.label, "actor_account_id": actor.account_id, "account_id": account_id,
             "action": action, "target": target, "before": before, "after": after}
            for account_id, action, target, after in entries])


def read_audit(
    rt: Runtime, account_id: int, *, actor: Actor, limit: int = 100, before_id: int | None = None,
    target_prefix: str | None = None,
) -> list[AuditView]:
    """Newest first; page with ``before_id``. ``target_prefix`` keeps one target and what nests under it
    (``campaign:7`` keeps ``campaign:7/unit:9``, not ``campaign:70``)."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        stmt = select(AuditEntry).where(AuditEntry.account_id == account_id)
        if target_prefix is not None:
            stmt = stmt.where(or_(AuditEntry.target == target_prefix,
                                  AuditEntry.target.startswith(target_prefix + "/", autoescape=True)))
        if before_id is not None:
            stmt = stmt.where(AuditEntry.id < before_id)
        rows = s.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)).all()
        return [AuditView(r.id, r.at, r.actor, r.account_id, r.action, r.target, r.before, r.after) for r in rows]
