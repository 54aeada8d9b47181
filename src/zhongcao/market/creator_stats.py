"""The creator snapshot: every creator's 30-day analytics, estimates, tier, audience and authenticity,
computed in one vectorized pass over the folded tables and written as one row per creator.

Medians are over the notes a creator published in the last 30 days, with each note's traffic to date:
what a brand expects from the next note. Everyday and sponsored notes are split because sponsored ones
carry ad traffic and a brief's product, and organic figures leave ad traffic out (FIELD_FACTS §4).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from zhongcao.content import CATEGORIES, recent_notes
from zhongcao.core import Runtime, budget_day, insert_for
from zhongcao.market import authenticity, fake_accounts
from zhongcao.market.analytics import (
    DUPLICATE_AT,
    ENGAGEMENTS,
    KOC_MAX_FOLLOWERS,
    KOC_MAX_SPONSORED_SHARE,
    SAMPLE_COLUMNS,
    TIERS,
    WINDOW,
    cost_per,
    tier_of,
)
from zhongcao.market.audience import DIMENSIONS, composition
from zhongcao.market.collaborations import REPLY_WINDOW
from zhongcao.market.models import (
    AudienceSampleRow,
    CollaborationRow,
    CommentSampleRow,
    CreatorProfileRow,
    CreatorStatsRow,
    FollowerDayRow,
    NoteDayRow,
)

TRAFFIC = ("exposures", "organic_exposures", "reads", "organic_reads", *ENGAGEMENTS, "organic_engagements")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if len(values) else 0.0


def _groups(keys: np.ndarray, creators: np.ndarray) -> list[np.ndarray]:
    """Row indexes per creator (in ``creators`` order) for rows keyed by creator id."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    lo = np.searchsorted(sorted_keys, creators, side="left")
    hi = np.searchsorted(sorted_keys, creators, side="right")
    return [order[a:b] for a, b in zip(lo, hi, strict=True)]


def refresh(rt: Runtime) -> int:
    """Recompute every profiled creator's snapshot; returns how many were written."""
    now = rt.now()
    since = now - WINDOW
    first = budget_day(since, rt.settings.budget_day_utc_offset_hours)  # the platform's days, as analytics keeps them
    with rt.db.read() as s:
        profiles = s.scalars(select(CreatorProfileRow).order_by(CreatorProfileRow.creator_id)).all()
        if not profiles:
            return 0
        days = s.execute(select(FollowerDayRow.creator_id, FollowerDayRow.day, FollowerDayRow.followers).where(
            FollowerDayRow.day >= first - timedelta(days=1), FollowerDayRow.day <= rt.today())).all()
        traffic = s.execute(select(NoteDayRow.note_id, *(getattr(NoteDayRow, c) for c in TRAFFIC)).where(
            NoteDayRow.day >= first)).all()
        sample = s.execute(select(AudienceSampleRow.creator_id, *(getattr(AudienceSampleRow, c)
                                                                  for c in SAMPLE_COLUMNS))).all()
        comments = s.execute(select(CommentSampleRow.creator_id, CommentSampleRow.text)).all()
        credit = {int(c): (int(n), None if r is None else float(r)) for c, n, r in s.execute(
            select(CollaborationRow.creator_id, func.count(), func.avg(CollaborationRow.creator_rating)).where(
                CollaborationRow.state == "settled").group_by(CollaborationRow.creator_id))}
        invites = s.execute(select(CollaborationRow.creator_id, CollaborationRow.created_at,
                                   CollaborationRow.replied_at).where(
            CollaborationRow.origin == "invitation", CollaborationRow.created_at >= since)).all()
    notes = recent_notes(rt, since)
    creators = np.array([p.creator_id for p in profiles], dtype=np.int64)
    n = len(creators)

    # per-note totals to date, aligned with the recent notes
    totals = {c: np.zeros(len(notes.ids), dtype=np.int64) for c in TRAFFIC}
    if traffic:
        cols = list(zip(*traffic, strict=True))
        note_ids = np.asarray(cols[0], dtype=np.int64)
        pos = np.searchsorted(notes.ids, note_ids)
        hit = (pos < len(notes.ids)) & (notes.ids[np.minimum(pos, len(notes.ids) - 1)] == note_ids)
        for c, values in zip(TRAFFIC, cols[1:], strict=True):
            np.add.at(totals[c], pos[hit], np.asarray(values, dtype=np.int64)[hit])
    engaged = sum((totals[c] for c in ENGAGEMENTS), np.zeros(len(notes.ids), dtype=np.int64))
    by_creator = _groups(notes.authors, creators)

    followers, growth, spike = np.zeros(n, dtype=np.int64), np.zeros(n), np.full(n, np.nan)
    if days:
        d_creator = np.array([r[0] for r in days], dtype=np.int64)
        d_day = np.array([r[1].toordinal() for r in days])
        d_count = np.array([r[2] for r in days], dtype=np.int64)
        for i, idx in enumerate(_groups(d_creator, creators)):
            if not len(idx):
                continue
            idx = idx[np.argsort(d_day[idx], kind="stable")]
            counts = d_count[idx]
            followers[i] = counts[-1]
            gains = np.diff(counts)
            growth[i] = (counts[-1] - counts[0]) / max(counts[-1], 1)
            positive = gains[gains > 0]
            spike[i] = positive.max() / positive.sum() if len(positive) else np.nan

    fake_share = np.full(n, np.nan)
    audiences: list[dict[str, dict[str, float]] | None] = [None] * n
    if sample:
        cols = list(zip(*sample, strict=True))
        s_creator = np.asarray(cols[0], dtype=np.int64)
        columns = {c: np.asarray(v) for c, v in zip(SAMPLE_COLUMNS, cols[1:], strict=True)}
        p_fake = fake_accounts.shipped().predict(fake_accounts.features(columns))
        for i, idx in enumerate(_groups(s_creator, creators)):
            if len(idx):
                fake_share[i] = float(p_fake[idx].mean())
                audiences[i] = composition({d: columns[d][idx] for d in DIMENSIONS}, 1.0 - p_fake[idx])

    duplicates = np.full(n, np.nan)
    if comments:
        c_creator = np.array([r[0] for r in comments], dtype=np.int64)
        texts = [_PUNCTUATION.sub("", r[1]).lower() for r in comments]
        for i, idx in enumerate(_groups(c_creator, creators)):
            if len(idx):
                seen = Counter(texts[j] for j in idx)
                duplicates[i] = sum(c for c in seen.values() if c >= DUPLICATE_AT) / len(idx)

    replied: dict[int, list[bool]] = {}
    for creator, created, answered in invites:
        created = created if created.tzinfo else created.replace(tzinfo=now.tzinfo)
        if answered is None and now - created < REPLY_WINDOW:
            continue  # still inside its window: neither a reply nor a miss yet
        ok = answered is not None and (answered.replace(tzinfo=now.tzinfo) if answered.tzinfo is None
                                       else answered) - created <= REPLY_WINDOW
        replied.setdefault(int(creator), []).append(ok)

    week_ago = np.datetime64((now - timedelta(days=7)).replace(tzinfo=None), "s")
    local = np.timedelta64(rt.settings.budget_day_utc_offset_hours, "h")  # a note's day is the platform's day
    stats: list[dict[str, Any]] = []
    per_follower = np.full(n, np.nan)
    likes_per_read = np.full(n, np.nan)
    for i, (profile, idx) in enumerate(zip(profiles, by_creator, strict=True)):
        sponsored = notes.sponsored[idx]
        likes, reads = int(totals["likes"][idx].sum()), int(totals["reads"][idx].sum())
        comments_n = int(totals["comments"][idx].sum())
        med = {c: _median(totals[c][idx]) for c in ("exposures", "organic_exposures", "reads", "organic_reads",
                                                    "organic_engagements")}
        med_engaged = _median(engaged[idx])
        if followers[i] > 0 and len(idx) and reads >= authenticity.MIN_READS:  # fewer reads say nothing yet
            per_follower[i] = med_engaged / followers[i]
        if reads > 0:
            likes_per_read[i] = likes / reads
        quote = profile.quote_image_fen or profile.quote_video_fen
        cats = Counter(int(c) for c in notes.category[idx])
        answers = replied.get(profile.creator_id)
        stats.append({
            "creator_id": profile.creator_id, "category": profile.category, "region": profile.region,
            "gender": profile.gender, "quote_image_fen": profile.quote_image_fen,
            "quote_video_fen": profile.quote_video_fen, "followers": int(followers[i]),
            "followers_growth_30d": round(float(growth[i]), 4),
            "notes_30d": len(idx), "notes_per_week": round(len(idx) * 7 / WINDOW.days, 2),
            "median_exposures": med["exposures"], "median_reads": med["reads"], "median_engagements": med_engaged,
            "organic_median_exposures": med["organic_exposures"], "organic_median_reads": med["organic_reads"],
            "organic_median_engagements": med["organic_engagements"],
            "everyday_notes": int((~sponsored).sum()), "sponsored_notes": int(sponsored.sum()),
            "everyday_median_engagements": _median(engaged[idx][~sponsored]),
            "sponsored_median_engagements": _median(engaged[idx][sponsored]),
            "share_over_100_likes": round(float((totals["likes"][idx] >= 100).mean()), 4) if len(idx) else 0.0,
            "share_over_1000_likes": round(float((totals["likes"][idx] >= 1_000).mean()), 4) if len(idx) else 0.0,
            "engagement_rate": round(float(engaged[idx].sum()) / reads, 4) if reads else 0.0,
            "comment_like_ratio": round(comments_n / likes, 4) if likes else 0.0,
            "reply_rate_48h": round(sum(answers) / len(answers), 4) if answers else None,
            # cooperation credit: deals completed, and how brands rated them (1-5)
            "deals_settled": credit.get(profile.creator_id, (0, None))[0],
            "rating": None if (r := credit.get(profile.creator_id, (0, None))[1]) is None else round(r, 2),
            "active_days_7": len(np.unique((notes.created_at[idx][notes.created_at[idx] >= week_ago] + local)
                                               .astype("datetime64[D]"))),
            "category_shares": {CATEGORIES[c][0]: round(k / len(idx), 4) for c, k in cats.most_common(5)},
            "audience": audiences[i], "fake_share": None if np.isnan(fake_share[i]) else round(float(fake_share[i]), 4),
            "cpm_fen": cost_per(quote, med["exposures"], 1_000) if quote else None,
            "cost_per_read_fen": cost_per(quote, med["reads"]) if quote else None,
            "cost_per_engagement_fen": cost_per(quote, med_engaged) if quote else None,
            "tier": TIERS[int(tier_of(followers[i:i + 1])[0])][0],
            "koc": bool(1_000 <= followers[i] < KOC_MAX_FOLLOWERS
                        and (sponsored.mean() if len(idx) else 0.0) <= KOC_MAX_SPONSORED_SHARE),
        })
    scores, reasons = authenticity.score(authenticity.Signals(
        fake_share, per_follower, tier_of(followers), followers.astype(np.float64), spike, growth, likes_per_read,
        duplicates))
    rows = [{"creator_id": st["creator_id"], "computed_at": now, "stats": st, "authenticity": int(sc),
             "reasons": rs} for st, sc, rs in zip(stats, scores, reasons, strict=True)]
    with rt.db.transaction() as s:
        ins = insert_for(s)(CreatorStatsRow)
        s.execute(ins.on_conflict_do_update(index_elements=["creator_id"], set_={
            c: ins.excluded[c] for c in ("computed_at", "stats", "authenticity", "reasons")}), rows)
    return len(rows)

