"""Click ids: what an ad impression hands out, signed so that a click can be priced without a lookup.

A click id carries the impression it came from (consumer, plan ids, the auction's price per click, the
time) and an HMAC over them with a key every process shares through State. A forged or altered id
fails the signature; an id older than ``CLICK_TTL`` is refused. The same id carried to an off-platform
shop (a tracked link) comes back in a conversion postback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from zhongcao.ads.models import AdSecret
from zhongcao.core import Invalid, Runtime

CLICK_TTL = timedelta(days=1)  # a click counts within a day of its impression [U]
# impression, consumer, campaign, unit, creative, note, keyword, price, at, surface, position
_LAYOUT = struct.Struct(">QQqqqqqqqBH")


@dataclass(frozen=True)
class ClickToken:
    impression_id: int
    consumer_id: int
    campaign_id: int
    unit_id: int
    creative_id: int
    note_id: int
    keyword_id: int
    price_fen: int
    at: int  # unix seconds of the impression
    surface: int
    position: int  # the ad's rank among the page's ads, 1 first: keyword reports count top-1 and top-3


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(rt: Runtime) -> bytes:
    """The click-signing key, created by the first process that needs it."""
    for _ in range(3):
        with rt.db.read() as s:
            found = s.scalar(select(AdSecret.secret).where(AdSecret.name == "click"))
        if found is not None:
            return bytes.fromhex(found)
        try:
            with rt.db.transaction() as s:
                s.add(AdSecret(name="click", secret=secrets.token_hex(32)))
        except IntegrityError:
            continue  # another process made it first: read theirs
    raise RuntimeError("could not create or read the click-signing key")


def sign(token: ClickToken, key: bytes) -> str:
    payload = _LAYOUT.pack(token.impression_id, token.consumer_id, token.campaign_id, token.unit_id,
                           token.creative_id, token.note_id, token.keyword_id, token.price_fen, token.at,
                           token.surface, token.position)
    return f"{_b64(payload)}.{_b64(hmac.new(key, payload, hashlib.sha256).digest()[:16])}"


def _bad(detail: str) -> Invalid:
    return Invalid("invalid_click_id", detail, field="click_id", allowed="a click id from an ad item, within a day")


def verify(click_id: str, key: bytes, now: float, ttl: timedelta = CLICK_TTL) -> ClickToken:
    try:
        body, mac = click_id.split(".")
        payload, tag = _unb64(body), _unb64(mac)
    except (ValueError, TypeError):
        raise _bad("the click id is malformed") from None
    if len(payload) != _LAYOUT.size or not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest()[:16],
                                                                tag):
        raise _bad("the click id's signature does not match")
    token = ClickToken(*_LAYOUT.unpack(payload))
    if not token.at - 60 <= now <= token.at + ttl.total_seconds():
        raise _bad("the click id has expired")
    return token


def click_key(click_id: str) -> str:
    return hashlib.sha256(click_id.encode()).hexdigest()
