"""What commerce needs from ads, which sits above it: checking the ad click a consumer arrived through,
and what ads spent on the clicks that brought viewers into a live room."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from zhongcao.ads.clicks import click_key, load_secret, verify
from zhongcao.ads.conversions import CONVERSION_WINDOW
from zhongcao.ads.models import AdClick
from zhongcao.commerce import AdClickRef, ClickResolver
from zhongcao.core import Runtime, in_lists


def click_resolver(rt: Runtime) -> ClickResolver:
    """Checks a click id's signature and age (up to the longest attribution window, 30 days)."""
    secret = load_secret(rt)

    def resolve(click_id: str) -> AdClickRef:
        token = verify(click_id, secret, rt.now().timestamp(), ttl=CONVERSION_WINDOW)
        return AdClickRef(token.consumer_id, token.note_id, token.campaign_id, token.unit_id, token.creative_id)

    return resolve


def spend_on_clicks(rt: Runtime, click_ids: Sequence[str]) -> int:
    """What was charged for these clicks, in fen (CPM ads charge per impression, so their clicks are 0)."""
    keys = [click_key(c) for c in click_ids]
    total = 0
    with rt.db.read() as s:
        for chunk in in_lists(keys):
            total += int(s.scalar(select(func.coalesce(func.sum(AdClick.charged_fen), 0))
                                  .where(AdClick.click_key.in_(chunk))) or 0)
    return total
