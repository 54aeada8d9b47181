"""Request bodies. Unknown fields are refused, and money is a strict integer of fen: "100" or 1.5 is an
error, never a guess."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Fen = Annotated[int, Field(strict=True, description="integer fen (1/100 yuan)")]
Id = Annotated[int, Field(strict=True, ge=1)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Body):
    kind: str = Field(description="brand | store | distributor | agency | creator | consumer")
    name: str


class CertificationDecision(Body):
    decision: str = Field(description="approve | reject")


class ApiKeyCreate(Body):
    member_id: Id | None = None
    label: str = ""


class MemberCreate(Body):
    name: str
    role: str = Field(description="admin | operator | analyst | finance")


class AuthorizationCreate(Body):
    sub_account_id: Id


class KosCreate(Body):
    account_id: Id


class AgencyGrantCreate(Body):
    agency_id: Id
    scopes: list[str] = Field(description="any of read, operate, finance")


class TopUp(Body):
    amount_fen: Fen
    idempotency_key: str
    note: str = ""


class Allocation(Body):
    to_account_id: Id
    amount_fen: Fen
    idempotency_key: str | None = None


class Reclaim(Body):
    from_account_id: Id
    amount_fen: Fen
    idempotency_key: str | None = None


class Money(Body):
    amount_fen: Fen
    idempotency_key: str | None = None


class LeaseCreate(Body):
    amount_fen: Fen
    ttl_seconds: Annotated[int, Field(strict=True)] = 30
    holder: str = Field(default="", description="which serving process holds the lease")


class PoolLeaseCreate(LeaseCreate):
    store_id: Id


class LeaseCommitBody(Body):
    spent_fen: Fen = Field(description="the lease's cumulative spend so far, not an increment")


class LeaseCommitItem(LeaseCommitBody):
    lease_id: Id


class LeaseCommitBatch(Body):
    commits: list[LeaseCommitItem] = Field(max_length=10_000)


class LeaseRelease(Body):
    spent_fen: Fen | None = None


class NoteCreate(Body):
    author_id: Id
    title: str
    body: str = ""
    topics: list[str] = Field(default_factory=list, description="#tags; the # is optional")
    kind: str = Field(default="image", description="image | video")
    category: str | None = Field(default=None, description="a taxonomy code (GET /v1/categories); default other")
    sponsored: bool = False
    collaboration_id: Id | None = None
    product_ids: list[int] = Field(default_factory=list)


class NoteStatusSet(Body):
    status: str = Field(description="published | in_review | restricted | deleted")
    reason: str = Field(default="", description="Kept in the audit log.")


class EngagementCreate(Body):
    consumer_id: Id
    kind: str = Field(description="read | like | collect | comment | share | follow")


class PoolCreate(Body):
    name: str


class PoolMemberSet(Body):
    store_id: Id
    daily_cap_fen: Fen
