"""Conversion postbacks: an advertiser's server reports an order or lead that followed an ad click.

The click id travels to the advertiser's shop on the tracked link (``?zc_click=<click_id>``) and comes back
in the postback. The platform checks two signatures: its own on the click id (the click happened), and
the advertiser's HMAC-SHA256 over the raw request body with the advertiser's conversion secret
(the advertiser sent it). A postback is idempotent by the advertiser's ``external_id``: the same one again
gets the first answer, and a different body under it is refused.

Conversion tracking lives with ads rather than commerce because it validates ads' click ids; the commerce
slice will record on-platform orders as events of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from zhongcao.accounts import Actor, Capability, record_audit, require
from zhongcao.ads.clicks import ClickToken, load_secret, verify
from zhongcao.ads.models import CampaignRow, ConversionRow, ConversionSecret
from zhongcao.core import Conflict, Invalid, Runtime, Unauthenticated
from zhongcao.events import EventIds, EventKind, Surface, enqueue, make_batch

CONVERSION_WINDOW = timedelta(days=30)  # the longest off-site window reports use (FIELD_FACTS §2)
TYPES = {"order": EventKind.OFFSITE_ORDER, "lead": EventKind.LEAD, "valid_lead": EventKind.VALID_LEAD,
         "add_to_cart": EventKind.ADD_TO_CART, "shop_visit": EventKind.SHOP_VISIT}
SIGNATURE_HEADER = "X-Zhongcao-Signature"
PLATFORMS = ("taobao", "tmall", "jd", "pinduoduo", "wechat_mini_program", "own_site", "other")


@dataclass(frozen=True)
class IssuedSecret:
    account_id: int
    secret: str  # shown once


@dataclass(frozen=True)
class ConversionView:
    id: int
    external_id: str
    type: str
    value_fen: int
    campaign_id: int
    unit_id: int
    creative_id: int
    occurred_at: datetime
    platform: str


def do_issue_conversion_secret(rt: Runtime, account_id: int, *, actor: Actor) -> IssuedSecret:
    """Create or rotate an advertiser's postback secret; the old one stops working at once."""
    secret = secrets.token_hex(32)
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.MANAGE)
        row = s.get(ConversionSecret, account_id)
        if row is None:
            s.add(ConversionSecret(account_id=account_id, secret=secret, created_at=rt.now()))
        else:
            row.secret, row.created_at = secret, rt.now()
        record_audit(s, rt, actor, account_id=account_id, action="conversion_secret.issue",
                     target=f"account:{account_id}")
    return IssuedSecret(account_id, secret)


def sign_body(body: bytes, secret: str) -> str:
    """What an advertiser sends in ``X-Zhongcao-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _refuse(detail: str) -> Unauthenticated:
    return Unauthenticated("invalid_signature", detail, field=SIGNATURE_HEADER,
                           allowed="sha256=<hex HMAC-SHA256 of the raw body with your conversion secret>")


def record_conversion(rt: Runtime, ids: EventIds, body: bytes, signature: str | None) -> ConversionView:
    """Check and record one postback (its raw JSON body and signature header)."""
    try:
        data = json.loads(body)
        click_id, kind, external_id = str(data["click_id"]), str(data["type"]), str(data["external_id"])
        value = data.get("value_fen", 0)
        platform = str(data.get("platform", "other"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Invalid("invalid_conversion", "the body is JSON with click_id, type, external_id and value_fen",
                      field="body", allowed={"click_id": "…", "type": sorted(TYPES), "external_id": "…",
                                             "value_fen": 0, "platform": list(PLATFORMS)}) from None
    if platform not in PLATFORMS:
        raise Invalid("invalid_conversion", f"{platform!r} is not a shop platform", field="platform",
                      allowed=list(PLATFORMS))
    if kind not in TYPES:
        raise Invalid("invalid_conversion", f"{kind!r} is not a conversion type", field="type", allowed=sorted(TYPES))
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
        raise Invalid("invalid_conversion", "value_fen is a whole number of fen", field="value_fen",
                      allowed="0..10^12")
    if not 1 <= len(external_id) <= 100:
        raise Invalid("invalid_conversion", "external_id is 1 to 100 characters", field="external_id",
                      allowed="1..100 characters")
    now = rt.now()
    token = verify(click_id, load_secret(rt), now.timestamp(), ttl=CONVERSION_WINDOW)
    with rt.db.read() as s:
        account = s.scalar(select(CampaignRow.account_id).where(CampaignRow.id == token.campaign_id))
        secret = s.scalar(select(ConversionSecret.secret).where(ConversionSecret.account_id == account))
    if secret is None or not signature or not hmac.compare_digest(signature, sign_body(body, secret)):
        raise _refuse("the postback's signature does not match the advertiser's conversion secret")
    assert account is not None
    return _store(rt, ids, token, account, kind, external_id, value, platform, now)


def _store(rt: Runtime, ids: EventIds, token: ClickToken, account: int, kind: str, external_id: str, value: int,
           platform: str, now: datetime) -> ConversionView:
    where = "" if platform == "other" else f"|{platform}"  # postbacks from before platforms keep their fingerprint
    fingerprint = hashlib.sha256(f"{token.impression_id}|{kind}|{value}{where}".encode()).hexdigest()
    event_id = ids.take(1)
    try:
        with rt.db.transaction() as s:
            row = ConversionRow(account_id=account, external_id=external_id, fingerprint=fingerprint, type=kind,
                                value_fen=value, consumer_id=token.consumer_id, campaign_id=token.campaign_id,
                                unit_id=token.unit_id, creative_id=token.creative_id, occurred_at=now,
                                platform=platform)
            s.add(row)
            s.flush()
            enqueue(s, rt, make_batch({
                "event_id": event_id, "ts": [now.replace(tzinfo=None)], "kind": TYPES[kind].value,
                "consumer_id": token.consumer_id, "campaign_id": token.campaign_id, "unit_id": token.unit_id,
                "creative_id": token.creative_id, "note_id": token.note_id, "surface": Surface.SHOP.value,
                "value_fen": value, "policy": f"postback:{kind}"}))
            return _view(row)
    except IntegrityError:
        with rt.db.read() as s:
            seen = s.scalar(select(ConversionRow).where(ConversionRow.account_id == account,
                                                        ConversionRow.external_id == external_id))
        if seen is None:
            raise
        if seen.fingerprint != fingerprint:
            raise Conflict("conversion_conflict", f"external_id {external_id!r} was reported with another body",
                           field="external_id", allowed="the same body as the first report") from None
        return _view(seen)


def _view(row: ConversionRow) -> ConversionView:
    return ConversionView(row.id, row.external_id, row.type, row.value_fen, row.campaign_id, row.unit_id,
                          row.creative_id, row.occurred_at, row.platform)
