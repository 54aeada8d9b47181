"""Simulated accounts as the platform sees them from outside: the eight public-profile columns, for real
users and for the bought followers that fraudulent creators carry, with the label kept as ground truth.

The shapes follow what is published about fake followers rather than anything the marketplace's model
assumes: bulk bots follow thousands of accounts (HypeAuditor's mass followers follow more than 1,500),
post nothing, keep the default nickname (小红薯 plus a hex tail) and no avatar; a third of bought
followers are "aged" accounts made to look real. Real users overlap them: many lurk without posting,
a fifth keep the default nickname, some follow thousands. The overlap is what keeps the fake-account
model honest.
"""

from __future__ import annotations

import numpy as np

from zhongcao.market import AGE_BUCKETS

DEFAULT_NAME = len("小红薯") + 8  # the platform's default nickname: 小红薯 and eight hex characters
SOPHISTICATED = 0.35  # [U] bought followers made to look like people


def _default_name(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(length, digits) of default nicknames: eight hex characters, each a digit with chance 10/16."""
    return np.full(n, DEFAULT_NAME), rng.binomial(8, 10 / 16, n)


def real(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    followers = rng.lognormal(np.log(60), 1.6, n)
    following = np.where(rng.random(n) < 0.04, rng.uniform(1_500, 4_000, n), rng.lognormal(np.log(180), 1.0, n))
    posts = np.where(rng.random(n) < 0.4, 0, rng.lognormal(np.log(12), 1.3, n))
    bio = np.where(rng.random(n) < 0.35, 0, rng.integers(4, 101, n))
    keeps_default = rng.random(n) < 0.2
    d_len, d_digits = _default_name(rng, n)
    nick_len = rng.integers(2, 13, n)
    nick_digits = np.where(rng.random(n) < 0.2, np.minimum(rng.integers(1, 7, n), nick_len), 0)
    return {"follower_count": followers.astype(np.int64),
            "following_count": np.minimum(following, 7_500).astype(np.int64),
            "media_count": posts.astype(np.int64), "has_profile_pic": rng.random(n) < 0.88,
            "is_private": rng.random(n) < 0.12, "biography_length": bio.astype(np.int64),
            "username_length": np.where(keeps_default, d_len, nick_len).astype(np.int64),
            "username_digit_count": np.where(keeps_default, d_digits, nick_digits).astype(np.int64)}


def fake(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    aged = rng.random(n) < SOPHISTICATED
    followers = np.where(aged, rng.lognormal(np.log(40), 1.2, n), rng.lognormal(np.log(8), 1.0, n))
    following = np.where(aged, rng.lognormal(np.log(600), 0.7, n),
                         np.where(rng.random(n) < 0.7, rng.uniform(1_500, 7_500, n), rng.uniform(300, 1_500, n)))
    posts = np.where(aged, np.where(rng.random(n) < 0.4, 0, rng.integers(1, 16, n)),
                     np.where(rng.random(n) < 0.85, 0, rng.integers(1, 4, n)))
    bio = np.where(aged, np.where(rng.random(n) < 0.6, 0, rng.integers(5, 41, n)),
                   np.where(rng.random(n) < 0.9, 0, rng.integers(2, 20, n)))
    d_len, d_digits = _default_name(rng, n)
    made_len = rng.integers(8, 16, n)
    made_digits = np.minimum(rng.integers(3, 9, n), made_len)
    default = rng.random(n) < np.where(aged, 0.3, 0.7)
    return {"follower_count": followers.astype(np.int64),
            "following_count": np.minimum(following, 7_500).astype(np.int64),
            "media_count": posts.astype(np.int64), "has_profile_pic": rng.random(n) < np.where(aged, 0.8, 0.35),
            "is_private": rng.random(n) < np.where(aged, 0.1, 0.03), "biography_length": bio.astype(np.int64),
            "username_length": np.where(default, d_len, made_len).astype(np.int64),
            "username_digit_count": np.where(default, d_digits, made_digits).astype(np.int64)}


def labelled(n: int, fake_share: float, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``n`` accounts, a ``fake_share`` of them bought, shuffled; (columns, is_fake)."""
    is_fake = rng.random(n) < fake_share
    columns = {k: np.empty(n, dtype=v.dtype) for k, v in real(1, rng).items()}
    for mask, make in ((~is_fake, real), (is_fake, fake)):
        part = make(int(mask.sum()), rng)
        for k in columns:
            columns[k][mask] = part[k]
    return columns, is_fake


def age_bucket(age: np.ndarray) -> np.ndarray:
    """Index into AGE_BUCKETS for ages in years."""
    return np.searchsorted(np.array([lo for lo, _ in AGE_BUCKETS[1:]]), age, side="right").astype(np.int16)


TRAINING_SEED = 20_240_101
TRAINING_ACCOUNTS = 40_000
TRAINING_FAKE_SHARE = 0.3


def training_set(seed: int = TRAINING_SEED, n: int = TRAINING_ACCOUNTS) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The labelled accounts the shipped fake-account model is fitted on (and a held-out set: another seed)."""
    return labelled(n, TRAINING_FAKE_SHARE, np.random.default_rng(seed))
