"""What consumers do with what the engine shows them, vectorized over a tick's batch.

Every probability is a function of the consumer and the item: interest in the note's category (relative
to an even spread, so 1 is average), the note's quality, and trust in creators against ads. The levels
are set so the defaults land inside the field's ranges (SIMULATOR.md): reads from a feed impression
around the 8% a note needs to climb the pools, likes the most common interaction, comments about 8% of
likes, ad CTR around 1–3%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.content import N_CATEGORIES
from zhongcao.events import EventKind

# Share of a day's sessions in each hour (Beijing): lunch and the evening peak [U].
HOURLY = np.array([1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.0, 2.0, 2.2, 2.6, 3.4, 3.0, 2.4, 2.2, 2.2, 2.4,
                   2.8, 3.4, 4.2, 4.6, 4.2, 2.6])
HOURLY /= HOURLY.sum()
PAGE = 10  # notes a feed session shows

# Interactions after a read, before quality and interest [U]; comment/like ≈ 8% [C].
AFTER_READ = {EventKind.LIKE: 0.10, EventKind.COLLECT: 0.05, EventKind.COMMENT: 0.008, EventKind.SHARE: 0.008,
              EventKind.FOLLOW: 0.01}


# A brand's or store's own account draws engagement rates of 1-3% against creators' 8-15% (FIELD_FACTS §6,
# [U]): its notes are read as advertising. Interactions after a read on its notes scale by this.
BRAND_ACCOUNT_ENGAGEMENT = 0.15


@dataclass(frozen=True)
class Reactions:
    read: np.ndarray                       # bool per impression
    interactions: dict[EventKind, np.ndarray]  # bool per impression, only where read


def match(interests: np.ndarray, consumer_row: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Interest in the item's category relative to an even spread (1 = average)."""
    return interests[consumer_row, category] * N_CATEGORIES


def react(rng: np.random.Generator, interest: np.ndarray, quality: np.ndarray, trust: np.ndarray,
          intent: np.ndarray | float = 1.0, engage: np.ndarray | float = 1.0) -> Reactions:
    """Reads and interactions for organic impressions; ``intent`` multiplies the read chance (a searcher
    reads the top results far more than a browser reads a feed card), ``engage`` the chance to interact
    once read (a brand's own account is read, and seldom liked: ``BRAND_ACCOUNT_ENGAGEMENT``)."""
    p_read = np.clip(0.09 * np.sqrt(interest) * (0.6 + quality) * np.sqrt(trust) * intent, 0, 0.8)
    read = rng.random(len(p_read)) < p_read
    lift = (0.5 + quality) * engage
    draws = rng.random((len(AFTER_READ), len(p_read)))
    interactions = {kind: read & (draws[k] < base * lift) for k, (kind, base) in enumerate(AFTER_READ.items())}
    return Reactions(read, interactions)


def click(rng: np.random.Generator, interest: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """Clicks on feed ads: CTR about 1–3%, higher for a matching interest, lower for those who trust
    creators far more than ads."""
    p = np.clip(0.018 * np.sqrt(interest) / np.sqrt(trust), 0, 0.3)
    return rng.random(len(p)) < p
