"""Accounts, the KOB tree, members, keys and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime


class AccountKind(enum.StrEnum):
    BRAND = "brand"
    STORE = "store"
    DISTRIBUTOR = "distributor"
    AGENCY = "agency"
    CREATOR = "creator"
    CONSUMER = "consumer"


class Certification(enum.StrEnum):
    UNCERTIFIED = "uncertified"
    PENDING = "pending"
    CERTIFIED = "certified"
    REJECTED = "rejected"


class LinkStatus(enum.StrEnum):
    """The life of an invitation: KOB authorizations and KOS bindings share it."""

    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    REVOKED = "revoked"


class Role(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    ANALYST = "analyst"
    FINANCE = "finance"


def _enum_check(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (_enum_check("kind", AccountKind), _enum_check("certification", Certification))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    certification: Mapped[str] = mapped_column(String(16), default=Certification.UNCERTIFIED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Authorization(Base):
    """A KOB edge: ``parent`` (brand or distributor) has rights over ``child`` while it is active."""

    __tablename__ = "authorization"
    __table_args__ = (
        _enum_check("status", LinkStatus),
        CheckConstraint("parent_id <> child_id", name="not_self"),
        # A sub-account has at most one active parent, enforced by the database under any race.
        Index("uq_authorization_one_active_parent", "child_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        Index("ix_authorization_parent_status", "parent_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    status: Mapped[str] = mapped_column(String(16), default=LinkStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class KosBinding(Base):
    """A KOS (employee) personal account bound to an enterprise account, with the person's consent."""

    __tablename__ = "kos_binding"
    __table_args__ = (
        _enum_check("status", LinkStatus),
        Index("uq_kos_binding_one_active", "kos_account_id", unique=True,
              sqlite_where=text("status IN ('active', 'pending')"),
              postgresql_where=text("status IN ('active', 'pending')")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kos_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    status: Mapped[str] = mapped_column(String(16), default=LinkStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgencyGrant(Base):
    """A brand's grant of scoped rights to an agency, over the brand and its KOB subtree."""

    __tablename__ = "agency_grant"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(100))  # comma-separated Capability values
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (_enum_check("role", Role),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """Keys are shown once and stored as a SHA-256: they carry 256 random bits, so no slow hash is needed."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), nullable=True)
    is_operator: Mapped[bool] = mapped_column(default=False)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_account_at", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))  # "operator", "account:7", "account:7/member:3", "system"
    actor_account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(100), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
