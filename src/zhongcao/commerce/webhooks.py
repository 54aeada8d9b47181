"""Lead webhooks to a brand's CRM: HMAC-signed, delivered at least once, retried with backoff, logged.

A delivery row is written in the same transaction as its lead, for the lead's account and each brand
above it that has a webhook, so no lead is missed even if the process dies right after. A sender claims
due rows by pushing their ``next_at`` past the request's timeout (``FOR UPDATE SKIP LOCKED`` where the
database has it), so concurrent senders never post the same row at once, and a sender that dies mid-post
leaves its rows to be claimed again: at least once. Receivers deduplicate by ``lead_id`` (sent in the
body and as ``Idempotency-Key``); a row per (account, lead) keeps the platform from queueing a lead twice.

Failures back off exponentially from ``ZHONGCAO_WEBHOOK_BACKOFF_SECONDS``, doubled each time with ±20%
jitter from the injected generator, capped at an hour; after ``ZHONGCAO_WEBHOOK_MAX_ATTEMPTS`` the row is
failed, and every try is in the delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, ancestors, record_audit, require
from zhongcao.commerce.models import AttemptRow, DeliveryRow, LeadRow, WebhookRow
from zhongcao.commerce.sources import Source
from zhongcao.core import Invalid, Runtime

SIGNATURE_HEADER = "X-Zhongcao-Signature"
MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class WebhookView:
    account_id: int
    url: str
    secret: str | None  # shown once, when set
    created_at: datetime


@dataclass(frozen=True)
class AttemptView:
    attempt: int
    at: datetime
    status_code: int | None
    error: str
    duration_ms: float


@dataclass(frozen=True)
class DeliveryView:
    id: int
    lead_id: int
    status: str
    attempts: int
    next_at: datetime | None
    delivered_at: datetime | None
    log: list[AttemptView]


def sign(body: bytes, secret: str) -> str:
    """What a CRM checks in ``X-Zhongcao-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def do_set_webhook(rt: Runtime, account_id: int, url: str, *, actor: Actor) -> WebhookView:
    """Point the account's leads at a CRM URL; a new secret is issued and shown once."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise Invalid("invalid_webhook", "a webhook URL is http(s) with a host, at most 500 characters",
                      field="url", allowed="https://crm.example.com/leads")
    if _internal(parts.hostname) and not rt.settings.webhook_allow_private:
        raise Invalid("invalid_webhook", f"{parts.hostname} is an internal address; leads go to a public CRM",
                      field="url", allowed="a public host (ZHONGCAO_WEBHOOK_ALLOW_PRIVATE=true allows internal ones)")
    secret = secrets.token_hex(32)
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.MANAGE)
        row = s.get(WebhookRow, account_id)
        now = rt.now()
        if row is None:
            row = WebhookRow(account_id=account_id, url=url.strip(), secret=secret, created_at=now)
            s.add(row)
        else:
            row.url, row.secret, row.created_at = url.strip(), secret, now
        record_audit(s, rt, actor, account_id=account_id, action="webhook.set", target=f"account:{account_id}",
                     after={"url": url.strip()})
        return WebhookView(account_id, row.url, secret, now)


def _internal(host: str) -> bool:
    """Loopback, private, link-local (cloud metadata) or unspecified: where a platform must not post for a
    tenant. Names are checked as written; a CRM that resolves to such an address is refused by the network."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def enqueue_deliveries(s: Session, rt: Runtime, lead_id: int, account_id: int) -> int:
    """Queue the lead for the webhooks of its account and the brands above it, in the lead's transaction."""
    return enqueue_deliveries_many(s, rt, [(lead_id, account_id)])


def enqueue_deliveries_many(s: Session, rt: Runtime, leads: Sequence[tuple[int, int]]) -> int:
    """The same for many (lead, account) pairs: one chain and one webhook read per account."""
    chains = {account: [account, *ancestors(s, account)] for account in dict.fromkeys(a for _, a in leads)}
    hooked = set(s.scalars(select(WebhookRow.account_id).where(
        WebhookRow.account_id.in_({a for chain in chains.values() for a in chain}))).all())
    now = rt.now()
    rows = [DeliveryRow(account_id=a, lead_id=lead_id, status="pending", attempts=0, next_at=now, created_at=now)
            for lead_id, account in leads for a in chains[account] if a in hooked]
    s.add_all(rows)
    return len(rows)


def _payload(lead: LeadRow) -> bytes:
    body = {"event": "lead.created", "lead_id": lead.id, "account_id": lead.account_id,
            "conversation_id": lead.conversation_id, "consumer_id": lead.consumer_id, "kind": lead.kind,
            "value": lead.value, "status": lead.status,
            "origin": Source.of(lead).view(),
            "created_at": lead.created_at.isoformat()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _claim(rt: Runtime, limit: int) -> list[tuple[int, int, str, str, bytes]]:
    """Due rows, claimed for this sender: (delivery id, attempt number, url, secret, body)."""
    now = rt.now()
    hold = timedelta(seconds=rt.settings.webhook_timeout_seconds * 2 + 30)
    with rt.db.transaction() as s:
        rows = s.scalars(select(DeliveryRow).where(DeliveryRow.status == "pending", DeliveryRow.next_at <= now)
                         .order_by(DeliveryRow.next_at, DeliveryRow.id).limit(limit)
                         .with_for_update(skip_locked=True)).all()
        hooks = {h.account_id: h for h in s.scalars(select(WebhookRow).where(
            WebhookRow.account_id.in_({r.account_id for r in rows})))}
        leads = {lead.id: lead for lead in s.scalars(select(LeadRow).where(LeadRow.id.in_([r.lead_id for r in rows])))}
        out = []
        for row in rows:
            row.next_at = now + hold
            hook = hooks[row.account_id]
            out.append((row.id, row.attempts + 1, hook.url, hook.secret, _payload(leads[row.lead_id])))
        return out


def _backoff(rt: Runtime, attempts: int, rng: np.random.Generator) -> float:
    base = rt.settings.webhook_backoff_seconds * 2 ** (attempts - 1)
    return float(min(MAX_BACKOFF, base * rng.uniform(0.8, 1.2)))


@dataclass(frozen=True)
class _Tried:
    delivery_id: int
    attempt: int
    status_code: int | None
    error: str
    duration_ms: float


def _post(rt: Runtime, client: httpx.Client, claim: tuple[int, int, str, str, bytes]) -> _Tried:
    delivery_id, attempt, url, secret, body = claim
    status: int | None = None
    error = ""
    started = time.perf_counter()
    try:
        r = client.post(url, content=body, timeout=rt.settings.webhook_timeout_seconds, headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret),
            "X-Zhongcao-Delivery": str(delivery_id), "X-Zhongcao-Attempt": str(attempt),
            "Idempotency-Key": f"lead-{json.loads(body)['lead_id']}"})
        status = r.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    return _Tried(delivery_id, attempt, status, error, round((time.perf_counter() - started) * 1000, 3))


def deliver_due(rt: Runtime, client: httpx.Client, rng: np.random.Generator, *, limit: int = 100,
                workers: int = 8) -> int:
    """Post every due delivery once; returns how many were tried. A job calls it every second or so.

    Posts go out concurrently, so one slow CRM does not hold up every other brand's leads, and their
    outcomes are recorded in one transaction: a sender that dies before it records them leaves the rows
    claimed until the hold passes, and they are posted again (at least once)."""
    claimed = _claim(rt, limit)
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(workers, len(claimed)), thread_name_prefix="webhook") as pool:
        tried = list(pool.map(lambda claim: _post(rt, client, claim), claimed))
    now = rt.now()
    with rt.db.transaction() as s:
        rows = {r.id: r for r in s.scalars(select(DeliveryRow).where(
            DeliveryRow.id.in_([t.delivery_id for t in tried])))}
        s.execute(insert(AttemptRow), [{"delivery_id": t.delivery_id, "attempt": t.attempt, "at": now,
                                        "status_code": t.status_code, "error": t.error, "duration_ms": t.duration_ms}
                                       for t in tried])
        for t in tried:
            row = rows[t.delivery_id]
            row.attempts = t.attempt
            if not t.error:
                row.status, row.delivered_at = "delivered", now
            elif t.attempt >= rt.settings.webhook_max_attempts:
                row.status = "failed"
            else:
                row.next_at = now + timedelta(seconds=_backoff(rt, t.attempt, rng))
    return len(claimed)


def list_deliveries(rt: Runtime, account_id: int, *, limit: int = 100, actor: Actor) -> list[DeliveryView]:
    """The delivery log of the account's webhook, newest first."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        rows = s.scalars(select(DeliveryRow).where(DeliveryRow.account_id == account_id)
                         .order_by(DeliveryRow.id.desc()).limit(limit)).all()
        log: dict[int, list[AttemptView]] = {}
        for a in s.scalars(select(AttemptRow).where(AttemptRow.delivery_id.in_([r.id for r in rows]))
                           .order_by(AttemptRow.id)):
            log.setdefault(a.delivery_id, []).append(AttemptView(a.attempt, a.at, a.status_code, a.error,
                                                                 a.duration_ms))
        return [DeliveryView(r.id, r.lead_id, r.status, r.attempts, r.next_at if r.status == "pending" else None,
                             r.delivered_at, log.get(r.id, [])) for r in rows]
