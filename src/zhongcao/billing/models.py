"""Wallets, the double-entry ledger, budget leases, daily caps and pooled budgets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime


class Wallet(Base):
    """One per account, plus system wallets (``platform:*``) and pool wallets (``pool:<id>``).

    ``delegated_fen`` is the part of the balance that came down the KOB tree: a parent may reclaim it,
    and revocation returns it. Spend draws on it first, since a brand allocates budget to be spent."""

    __tablename__ = "wallet"
    __table_args__ = (
        CheckConstraint("external OR balance_fen >= 0", name="balance_not_negative"),
        CheckConstraint("external OR (reserved_fen >= 0 AND reserved_fen <= balance_fen)", name="reserved_in_range"),
        CheckConstraint("delegated_fen >= 0 AND (external OR delegated_fen <= balance_fen)",
                        name="delegated_in_range"),
        CheckConstraint("(account_id IS NULL) <> (system_key IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), unique=True, nullable=True)
    system_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    external: Mapped[bool] = mapped_column(default=False)  # stands for money outside the platform
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    delegated_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class Txn(Base):
    __tablename__ = "txn"
    __table_args__ = (UniqueConstraint("scope_account_id", "idempotency_key", name="uq_txn_idempotency"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    scope_account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    memo: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Entry(Base):
    __tablename__ = "entry"
    __table_args__ = (Index("ix_entry_wallet_id_id", "wallet_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    txn_id: Mapped[int] = mapped_column(ForeignKey("txn.id"), index=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallet.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Lease(Base):
    """A slice of a wallet reserved by one serving process, spent in memory, committed in batches."""

    __tablename__ = "lease"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("spent_fen >= 0 AND spent_fen <= amount_fen", name="spent_in_range"),
        CheckConstraint("state IN ('open', 'closed')", name="state_allowed"),
        Index("ix_lease_state_expires_at", "state", "expires_at"),
        Index("ix_lease_wallet_id_state", "wallet_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallet.id"))
    account_id: Mapped[int] = mapped_column(BigInteger)  # who spends: the wallet's account, or the store on a pool
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(8), default="open")
    holder: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when the account's KOB authorization was revoked while this lease was open: on settlement,
    # up to ``return_cap_fen`` of what is left goes back to the former parent's wallet.
    return_to_wallet_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    return_cap_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class CapUsage(Base):
    """How much of a daily cap is taken (reserved or spent) on a budget day; locked at reserve time."""

    __tablename__ = "cap_usage"
    __table_args__ = (CheckConstraint("used_fen >= 0", name="used_not_negative"),)

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class LeaseCap(Base):
    __tablename__ = "lease_cap"

    lease_id: Mapped[int] = mapped_column(ForeignKey("lease.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date)


class Pool(Base):
    """A brand's budget that several of its stores draw on, each under a daily cap."""

    __tablename__ = "pool"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallet.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PoolMember(Base):
    __tablename__ = "pool_member"
    __table_args__ = (CheckConstraint("daily_cap_fen > 0", name="cap_positive"),)

    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    daily_cap_fen: Mapped[int] = mapped_column(BigInteger)
