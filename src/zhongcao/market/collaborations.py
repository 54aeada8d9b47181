"""Collaborations: one brand and one creator walk a brief's deal from invitation (or application) to
settlement and ratings, each step a ``do_*`` action that locks the deal, checks the table below, moves
the money with it and writes an audit row.

Money. Accepting fixes the fee (a fixed fee, a CPS deal's commission cap, nothing for a product trial)
and the 10% platform fee on it (FIELD_FACTS §4: the brand pays it and prepays). Funding moves both
into the deal's escrow. Settlement, after the evaluation window, pays the creator (the fixed fee, or the
commission on the orders the note was the last touch of, up to the cap), the platform its fee on what
was paid, and refunds the rest; the escrow is empty afterwards, so nothing can settle twice.

Cancellation rules [U, common marketplace practice, written down here]: before the creator has
delivered a draft, the whole escrow goes back to the brand. When the brand cancels a fixed-fee deal
after a draft was delivered, the creator keeps a 30% kill fee (with its platform fee) for the work
done. A creator who cancels, or lets a deadline lapse, gets nothing. A brand that leaves a draft
unreviewed for 72 hours has approved it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, capabilities, kind_of, record_audit
from zhongcao.billing import escrow_held, fund_escrow_in, settle_escrow_in
from zhongcao.commerce import NoteSales, note_sales
from zhongcao.content import NoteDraft, create_note_in
from zhongcao.core import MAX_FEN, Conflict, Forbidden, Invalid, NotFound, Runtime
from zhongcao.market.briefs import committed_fen, load
from zhongcao.market.models import BriefRow, CollaborationRow

PLATFORM_FEE_BP = 1_000   # 10% on each order, paid by the brand (FIELD_FACTS §4)
KILL_FEE_BP = 3_000       # [U] what a brand owes for a delivered draft it then cancels
REPLY_WINDOW = timedelta(hours=48)   # the creator answers an invitation (the field's 48-hour reply rate)
ANSWER_WINDOW = timedelta(days=7)    # the brand answers a quote or an application
FUND_WINDOW = timedelta(days=3)      # the brand funds the escrow after accepting
REVIEW_WINDOW = timedelta(hours=72)  # the brand reviews a draft; silence approves it
MAX_TITLE, MAX_BODY, MAX_FEEDBACK = 100, 5_000, 500

BRAND, CREATOR, PLATFORM = "brand", "creator", "platform"
TERMINAL = ("settled", "declined", "cancelled", "expired")
DELIVERED = ("draft_submitted", "changes_requested", "approved")


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    target: str
    sides: tuple[str, ...]


# Every transition: which states it leaves, where it goes, and which side may take it. Creating a deal
# (invite, apply) has no source state. ``expire`` and the review lapse are the sweeper's (the platform).
STEPS: dict[str, Step] = {
    "invite": Step((), "invited", (BRAND,)),
    "apply": Step((), "applied", (CREATOR,)),
    "quote": Step(("invited",), "quoted", (CREATOR,)),
    "decline": Step(("invited", "applied", "quoted"), "declined", (BRAND, CREATOR)),
    "accept": Step(("applied", "quoted"), "accepted", (BRAND,)),
    "fund": Step(("accepted",), "funded", (BRAND,)),
    "ship_sample": Step(("funded",), "sample_shipped", (BRAND,)),
    "submit_draft": Step(("funded", "sample_shipped", "changes_requested"), "draft_submitted", (CREATOR,)),
    "request_changes": Step(("draft_submitted",), "changes_requested", (BRAND,)),
    "approve": Step(("draft_submitted",), "approved", (BRAND, PLATFORM)),
    "publish": Step(("approved",), "published", (CREATOR,)),
    "settle": Step(("published",), "settled", (BRAND, PLATFORM)),
    "cancel": Step(("invited", "applied", "quoted", "accepted", "funded", "sample_shipped", *DELIVERED),
                   "cancelled", (BRAND, CREATOR)),
    "expire": Step(("invited", "applied", "quoted", "accepted", "funded", "sample_shipped", "changes_requested",
                    "approved"), "expired", (PLATFORM,)),
    "rate": Step(("settled",), "settled", (BRAND, CREATOR)),
}
ACTIONS = tuple(STEPS)


@dataclass(frozen=True)
class CollaborationView:
    id: int
    brief_id: int
    brand_id: int
    creator_id: int
    origin: str
    state: str
    quote_fen: int | None
    fee_fen: int
    platform_fee_fen: int
    escrow_fen: int
    revisions: int
    draft_title: str | None
    draft_body: str | None
    feedback: str | None
    note_id: int | None
    deadline_at: datetime | None
    replied_at: datetime | None
    published_at: datetime | None
    settled_at: datetime | None
    settlement: dict[str, Any] | None
    brand_rating: int | None
    creator_rating: int | None
    created_at: datetime
    actions: list[str]  # what may happen next, by either side


def allowed_actions(state: str) -> list[str]:
    return [a for a, step in STEPS.items() if state in step.sources]


def _view(s: Session, row: CollaborationRow) -> CollaborationView:
    return CollaborationView(row.id, row.brief_id, row.brand_id, row.creator_id, row.origin, row.state,
                             row.quote_fen, row.fee_fen, row.platform_fee_fen, escrow_held(s, _ref(row.id)),
                             row.revisions, row.draft_title, row.draft_body, row.feedback, row.note_id, row.deadline_at,
                             row.replied_at, row.published_at, row.settled_at, row.settlement, row.brand_rating,
                             row.creator_rating, row.created_at, allowed_actions(row.state))


def _ref(collaboration_id: int) -> str:
    return f"collaboration:{collaboration_id}"


def _side(s: Session, actor: Actor, row: CollaborationRow, step: Step, action: str) -> str:
    """Which side the actor acts for; refusal when it is neither (or not one this step allows)."""
    if actor.is_platform:
        if PLATFORM in step.sides:
            return PLATFORM
        if actor.kind == "operator":  # the operator acts for either side, as support does
            return step.sides[0]
    for side, account in ((BRAND, row.brand_id), (CREATOR, row.creator_id)):
        if side in step.sides and Capability.OPERATE in capabilities(s, actor, account):
            return side
    if not any(capabilities(s, actor, a) for a in (row.brand_id, row.creator_id)):
        raise NotFound("collaboration", row.id)
    raise Forbidden("forbidden", f"{actor.label} may not {action} collaboration {row.id}", field="actor",
                    allowed=list(step.sides))


def _refuse(row: CollaborationRow, action: str) -> Conflict:
    return Conflict("invalid_collaboration_transition",
                    f"collaboration {row.id} is {row.state}; {action} is not possible now", field="state",
                    allowed=allowed_actions(row.state), extra={"state": row.state})


Fen = TypeVar("Fen", int, np.ndarray)


def fees_of(fee_fen: Fen, bp: int = PLATFORM_FEE_BP) -> Fen:
    """A share of an amount (or of each amount in an array) in basis points, rounded half up to the fen."""
    return (fee_fen * bp + 5_000) // 10_000


Apply = Callable[[Session, CollaborationRow, BriefRow, str], dict[str, Any] | None]


def _step(rt: Runtime, collaboration_id: int, action: str, actor: Actor,
          apply: Apply | None = None) -> CollaborationView:
    """Lock the deal, check the table, run ``apply`` (which may refuse), move to the step's state and
    audit on both sides. A refusal anywhere changes nothing."""
    step = STEPS[action]
    with rt.db.transaction() as s:
        row = s.scalar(rt.db.for_update(select(CollaborationRow).where(CollaborationRow.id == collaboration_id)))
        if row is None:
            raise NotFound("collaboration", collaboration_id)
        side = _side(s, actor, row, step, action)
        if row.state not in step.sources:
            raise _refuse(row, action)
        brief = s.get(BriefRow, row.brief_id)
        assert brief is not None
        before = {"state": row.state}
        detail = apply(s, row, brief, side) if apply else None
        row.state = step.target
        row.deadline_at = _deadline(rt.now(), row, brief)
        row.updated_at = rt.now()
        s.flush()
        after = {"state": row.state, "by": side, **(detail or {})}
        for account in (row.brand_id, row.creator_id):
            record_audit(s, rt, actor, account_id=account, action=f"collaboration.{action}",
                         target=f"collaboration:{row.id}", before=before, after=after)
        return _view(s, row)


def _deadline(now: datetime, row: CollaborationRow, brief: BriefRow) -> datetime | None:
    """When the state the deal is entering lapses."""
    match row.state:
        case "invited":
            return now + REPLY_WINDOW
        case "applied" | "quoted":
            return now + ANSWER_WINDOW
        case "accepted":
            return now + FUND_WINDOW
        case "funded" | "sample_shipped" | "changes_requested" | "approved":
            return brief.publish_to
        case "draft_submitted":
            return now + REVIEW_WINDOW
        case "published":
            assert row.published_at is not None
            return row.published_at + timedelta(days=brief.evaluation_days)
        case _:
            return None


def _quote(brief: BriefRow, quote_fen: object) -> int:
    """A fixed fee or a CPS commission cap is positive and within the budget; a trial is free."""
    if brief.contract == "trial":
        if quote_fen not in (None, 0):
            raise Invalid("invalid_quote", "a product-trial deal carries no fee", field="quote_fen", allowed=[0])
        return 0
    if isinstance(quote_fen, bool) or not isinstance(quote_fen, int) or not 0 < quote_fen <= min(brief.budget_fen,
                                                                                                   MAX_FEN):
        raise Invalid("invalid_quote", f"a quote is 1 to {brief.budget_fen} fen (the brief's budget)",
                      field="quote_fen", allowed=f"1..{brief.budget_fen}")
    return quote_fen


def _open(rt: Runtime, brief_id: int, creator_id: int, action: str, actor: Actor,
          quote_fen: object) -> CollaborationView:
    step = STEPS[action]
    with rt.db.transaction() as s:
        brief = s.scalar(rt.db.for_update(select(BriefRow).where(BriefRow.id == brief_id)))
        if brief is None:
            raise NotFound("brief", brief_id)
        load(s, actor, brief_id)
        owner, account = (brief.brand_id, BRAND) if action == "invite" else (creator_id, CREATOR)
        if not actor.is_platform and Capability.OPERATE not in capabilities(s, actor, owner):
            raise Forbidden("forbidden", f"only the {account} side may {action}", field="actor", allowed=[account])
        if kind_of(s, creator_id) != "creator":
            raise NotFound("creator", creator_id)
        if brief.status != "open":
            raise Conflict("brief_closed", f"brief {brief_id} is closed", field="brief_id", allowed=["an open brief"])
        live = s.scalar(select(CollaborationRow.id).where(CollaborationRow.brief_id == brief_id,
                                                          CollaborationRow.creator_id == creator_id,
                                                          CollaborationRow.state.not_in(TERMINAL)))
        if live is not None:
            raise Conflict("collaboration_exists", f"collaboration {live} with this creator is still running",
                           field="creator_id", allowed="a creator without a running deal on this brief")
        quote = _quote(brief, quote_fen) if action == "apply" else None
        now = rt.now()
        row = CollaborationRow(brief_id=brief_id, brand_id=brief.brand_id, creator_id=creator_id, origin=action
                               .replace("apply", "application").replace("invite", "invitation"),
                               state=step.target, quote_fen=quote, created_at=now, updated_at=now)
        row.deadline_at = _deadline(now, row, brief)
        s.add(row)
        s.flush()
        for who in (brief.brand_id, creator_id):
            record_audit(s, rt, actor, account_id=who, action=f"collaboration.{action}",
                         target=f"collaboration:{row.id}", after={"state": row.state, "quote_fen": quote})
        return _view(s, row)


def do_invite(rt: Runtime, brief_id: int, creator_id: int, *, actor: Actor) -> CollaborationView:
    return _open(rt, brief_id, creator_id, "invite", actor, None)


def do_apply(rt: Runtime, brief_id: int, creator_id: int, quote_fen: int, *, actor: Actor) -> CollaborationView:
    return _open(rt, brief_id, creator_id, "apply", actor, quote_fen)


def do_quote(rt: Runtime, collaboration_id: int, quote_fen: int, *, actor: Actor) -> CollaborationView:
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        row.quote_fen = _quote(brief, quote_fen)
        row.replied_at = rt.now()
        return {"quote_fen": row.quote_fen}
    return _step(rt, collaboration_id, "quote", actor, apply)


def do_decline(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> None:
        if row.state == "invited" and side == CREATOR:
            row.replied_at = rt.now()
    return _step(rt, collaboration_id, "decline", actor, apply)


def do_accept(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    """Fix the fee and its platform fee; refused when the brief's accepted fees would pass its budget."""
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        fee = row.quote_fen or 0
        committed = committed_fen(s, brief.id)
        if committed + fee > brief.budget_fen:
            raise Conflict("brief_budget_exceeded", f"the brief has {brief.budget_fen - committed} fen of budget "
                           f"left, less than the {fee} fen fee", field="quote_fen",
                           allowed=f"at most {brief.budget_fen - committed} fen")
        row.fee_fen, row.platform_fee_fen = fee, fees_of(fee)
        return {"fee_fen": row.fee_fen, "platform_fee_fen": row.platform_fee_fen}
    return _step(rt, collaboration_id, "accept", actor, apply)


def do_fund(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    """Prepay: fee plus platform fee move from the brand's wallet into the deal's escrow."""
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        if side != PLATFORM and Capability.FINANCE not in capabilities(s, actor, row.brand_id):
            raise Forbidden("forbidden", "funding an escrow needs the finance capability", field="capability",
                            allowed=[Capability.FINANCE.value])
        amount = row.fee_fen + row.platform_fee_fen
        if amount:
            row.escrow_txn_id = fund_escrow_in(rt, s, row.brand_id, _ref(row.id), amount, actor=actor,
                                               memo={"collaboration_id": row.id})
        return {"escrow_fen": amount}
    return _step(rt, collaboration_id, "fund", actor, apply)


def do_ship_sample(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    return _step(rt, collaboration_id, "ship_sample", actor)


def _text(value: object, field: str, limit: int, *, code: str = "invalid_draft", empty: bool = False) -> str:
    text = str(value or "").strip()
    if not (0 if empty else 1) <= len(text) <= limit:
        raise Invalid(code, f"{field} is {0 if empty else 1} to {limit} characters", field=field,
                      allowed=f"{0 if empty else 1}..{limit} characters")
    return text


def do_submit_draft(rt: Runtime, collaboration_id: int, *, title: str, body: str, actor: Actor) -> CollaborationView:
    title, body = _text(title, "title", MAX_TITLE), _text(body, "body", MAX_BODY, empty=True)

    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        if row.state == "funded" and brief.sample_required:
            raise _refuse(row, "submit_draft (the brief ships a sample first)")
        row.draft_title, row.draft_body = title, body
        return {"draft_title": title}
    return _step(rt, collaboration_id, "submit_draft", actor, apply)


def do_request_changes(rt: Runtime, collaboration_id: int, *, feedback: str, actor: Actor) -> CollaborationView:
    feedback = _text(feedback, "feedback", MAX_FEEDBACK, code="invalid_draft")

    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        if row.revisions >= brief.max_revisions:
            raise Conflict("revision_limit_reached", f"the brief allows {brief.max_revisions} rounds of changes, "
                           "all used", field="revisions", allowed=["approve", "cancel"], extra={"state": row.state})
        row.revisions += 1
        row.feedback = feedback
        return {"revisions": row.revisions}
    return _step(rt, collaboration_id, "request_changes", actor, apply)


def do_approve(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    return _step(rt, collaboration_id, "approve", actor)


def do_publish(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    """The approved draft becomes a sponsored note linked to the deal; it enters distribution as any note
    does, and the evaluation window starts."""
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        now = rt.now()
        if not brief.publish_from <= now <= brief.publish_to:
            raise Conflict("outside_publish_window", f"the brief's window is {brief.publish_from.isoformat()} to "
                           f"{brief.publish_to.isoformat()}", field="publish_window",
                           allowed=[brief.publish_from.isoformat(), brief.publish_to.isoformat()])
        assert row.draft_title is not None
        note = create_note_in(rt, s, NoteDraft(
            row.creator_id, row.draft_title, row.draft_body or "", kind=brief.format, category=brief.category,
            sponsored=True, collaboration_id=row.id, boost_account_id=row.brand_id,
            product_ids=[brief.product_id] if brief.product_id is not None else []), actor=Actor.system())
        row.note_id, row.published_at = note.id, now
        return {"note_id": note.id}
    return _step(rt, collaboration_id, "publish", actor, apply)


def earnings(row: CollaborationRow, brief: BriefRow, gmv_fen: int) -> tuple[int, int]:
    """(what the creator earns, the platform fee on it) under the brief's contract, given the GMV of the
    orders the note was the last touch of: the fixed fee, the commission up to its cap, or nothing."""
    match brief.contract:
        case "fixed":
            return row.fee_fen, row.platform_fee_fen
        case "cps":
            earned = min(row.fee_fen, fees_of(gmv_fen, brief.cps_rate_bp))
            return earned, min(fees_of(earned), row.platform_fee_fen)
        case _:
            return 0, 0


def evaluation_sales(s: Session, row: CollaborationRow, brief: BriefRow) -> tuple[datetime, datetime, NoteSales]:
    """The evaluation window of a published deal and the orders its note was the last touch of in it."""
    assert row.published_at is not None
    assert row.note_id is not None
    until = row.published_at + timedelta(days=brief.evaluation_days)
    return row.published_at, until, note_sales(s, [row.note_id], row.published_at, until)[row.note_id]


def _release(rt: Runtime, s: Session, row: CollaborationRow, earned: int, fee: int, actor: Actor,
             **memo: object) -> dict[str, Any]:
    done = settle_escrow_in(rt, s, _ref(row.id), payouts={row.creator_id: earned} if earned else {}, fee_fen=fee,
                            refund_to=row.brand_id, actor=actor, memo={"collaboration_id": row.id, **memo})
    return {"txn_id": done.txn_id, "payout_fen": earned, "platform_fee_fen": fee, "refunded_fen": done.refunded_fen}


def do_settle(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    """After the evaluation window: pay the creator, the platform its fee, and refund the rest."""
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        now = rt.now()
        assert row.deadline_at is not None
        if now < row.deadline_at:
            raise Conflict("evaluation_not_over", f"the evaluation window ends at {row.deadline_at.isoformat()}",
                           field="settle_at", allowed=f"at or after {row.deadline_at.isoformat()}",
                           extra={"state": row.state})
        sales = evaluation_sales(s, row, brief)[2]
        earned, fee = earnings(row, brief, sales.gmv_fen)
        row.settlement = {**_release(rt, s, row, earned, fee, actor), "orders": sales.orders,
                          "gmv_fen": sales.gmv_fen}
        row.settled_at = now
        return row.settlement
    return _step(rt, collaboration_id, "settle", actor, apply)


def _unwind(rt: Runtime, s: Session, row: CollaborationRow, brief: BriefRow, side: str, actor: Actor,
            reason: str) -> dict[str, Any]:
    """The cancellation rules: the kill fee when the brand walks away from delivered work, else all back."""
    held = escrow_held(s, _ref(row.id))
    if not held:
        return {"reason": reason}
    kill = fees_of(row.fee_fen, KILL_FEE_BP) if (side == BRAND and row.state in DELIVERED
                                                  and brief.contract == "fixed") else 0
    row.settlement = {**_release(rt, s, row, kill, min(fees_of(kill), row.platform_fee_fen), actor, reason=reason),
                      "orders": 0, "gmv_fen": 0}
    row.settled_at = rt.now()
    return {"reason": reason, **row.settlement}


def do_cancel(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        return _unwind(rt, s, row, brief, side, actor, f"cancelled by {side}")
    return _step(rt, collaboration_id, "cancel", actor, apply)


def do_expire(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        assert row.deadline_at is not None
        if rt.now() < row.deadline_at:
            raise Conflict("invalid_collaboration_transition", f"collaboration {row.id} lapses at "
                           f"{row.deadline_at.isoformat()}", field="deadline_at", allowed=allowed_actions(row.state),
                           extra={"state": row.state})
        return _unwind(rt, s, row, brief, CREATOR, actor, f"{row.state} lapsed")
    return _step(rt, collaboration_id, "expire", actor, apply)


def do_rate(rt: Runtime, collaboration_id: int, rating: int, *, actor: Actor) -> CollaborationView:
    """Each side rates the other once, after settlement: the brand rates the creator, and back."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid("invalid_rating", "a rating is an integer from 1 to 5", field="rating", allowed="1..5")

    def apply(s: Session, row: CollaborationRow, brief: BriefRow, side: str) -> dict[str, Any]:
        column = "creator_rating" if side == BRAND else "brand_rating"  # the rating *of* the other side
        if getattr(row, column) is not None:
            raise Conflict("already_rated", f"the {side} has rated this collaboration", field="rating",
                           allowed=[], extra={"state": row.state})
        setattr(row, column, rating)
        return {column: rating}
    return _step(rt, collaboration_id, "rate", actor, apply)


ACT: Mapping[str, Callable[..., CollaborationView]] = {
    "quote": do_quote, "decline": do_decline, "accept": do_accept, "fund": do_fund, "ship_sample": do_ship_sample,
    "submit_draft": do_submit_draft, "request_changes": do_request_changes, "approve": do_approve,
    "publish": do_publish, "settle": do_settle, "cancel": do_cancel, "expire": do_expire, "rate": do_rate,
}


def sweep(rt: Runtime, *, limit: int = 1_000) -> dict[str, int]:
    """What deadlines decide: a draft left unreviewed is approved, a published deal past its window
    settles, and any other lapsed deal expires. Run by the platform (a scheduler or the simulator)."""
    with rt.db.read() as s:
        due = s.execute(select(CollaborationRow.id, CollaborationRow.state).where(
            CollaborationRow.deadline_at <= rt.now(), CollaborationRow.state.not_in(TERMINAL))
            .order_by(CollaborationRow.deadline_at, CollaborationRow.id).limit(limit)).all()
    done = {"approved": 0, "settled": 0, "expired": 0}
    system = Actor.system()
    for cid, state in due:
        if state == "draft_submitted":
            do_approve(rt, cid, actor=system)
            done["approved"] += 1
        elif state == "published":
            do_settle(rt, cid, actor=system)
            done["settled"] += 1
        else:
            do_expire(rt, cid, actor=system)
            done["expired"] += 1
    return done


def get_collaboration(rt: Runtime, collaboration_id: int, *, actor: Actor) -> CollaborationView:
    with rt.db.read() as s:
        row = s.get(CollaborationRow, collaboration_id)
        if row is None or not any(Capability.READ in capabilities(s, actor, a) for a in (row.brand_id, row.creator_id)):
            raise NotFound("collaboration", collaboration_id)
        return _view(s, row)


def list_collaborations(rt: Runtime, *, actor: Actor, brief_id: int | None = None,
                        creator_id: int | None = None) -> list[CollaborationView]:
    """A brief's deals (for its brand) or a creator's deals (for the creator)."""
    with rt.db.read() as s:
        stmt = select(CollaborationRow)
        if brief_id is not None:
            brief = load(s, actor, brief_id)
            if Capability.READ not in capabilities(s, actor, brief.brand_id):
                stmt = stmt.where(CollaborationRow.creator_id == actor.account_id)
            stmt = stmt.where(CollaborationRow.brief_id == brief_id)
        elif creator_id is not None:
            if Capability.READ not in capabilities(s, actor, creator_id):
                raise NotFound("creator", creator_id)
            stmt = stmt.where(CollaborationRow.creator_id == creator_id)
        else:
            raise Invalid("invalid_request", "list a brief's or a creator's collaborations", field="brief_id",
                          allowed=["brief_id", "creator_id"])
        return [_view(s, r) for r in s.scalars(stmt.order_by(CollaborationRow.id))]
