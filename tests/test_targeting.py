"""Targeting tables: which consumer each unit may reach, dimension by dimension, through the packed index."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from zhongcao.ads.enums import AGE_BUCKETS, DEVICES, GENDERS
from zhongcao.ads.spec import Targeting
from zhongcao.ads.targeting import UNKNOWN, Audience, TargetingIndex
from zhongcao.content import CODE, N_CATEGORIES

UNITS: list[dict[str, Any]] = [
    {},                                                                       # 0: everyone
    {"type": "advanced", "genders": ["female"]},                              # 1
    {"type": "advanced", "ages": ["18-22", "23-27"], "devices": ["ios"]},     # 2
    {"type": "advanced", "cities": ["上海", "杭州"]},                            # 3
    {"type": "advanced", "interests": ["beauty", "fashion"]},                 # 4
    {"type": "advanced", "genders": ["male"], "interests": ["auto"], "cities": ["成都"]},  # 5
    {"type": "advanced", "audience_packages": [7]},                           # 6: needs audiences we lack yet
]


def consumer(gender: str | None = None, age: str | None = None, device: str | None = None,
             city: str | None = None, interests: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"gender": gender, "age": age, "device": device, "city": city, "interests": interests}


CASES = [
    (consumer(), [0]),  # knowing nothing, only the open unit reaches them
    (consumer("female", "23-27", "ios", "上海", ("beauty",)), [0, 1, 2, 3, 4]),
    (consumer("female", "28-32", "ios", "北京", ("food",)), [0, 1]),
    (consumer("male", "18-22", "android", "杭州", ("fashion", "auto")), [0, 3, 4]),
    (consumer("male", "32-100", None, "成都", ("auto",)), [0, 5]),
    (consumer("male", None, None, "成都", ("beauty",)), [0, 4]),
]


def audience(rows: list[dict[str, Any]], index: TargetingIndex) -> Audience:
    def code(values: tuple[str, ...], v: str | None) -> int:
        return values.index(v) if v else UNKNOWN

    interests = np.zeros((len(rows), N_CATEGORIES), dtype=bool)
    for i, r in enumerate(rows):
        interests[i, [CODE[c] for c in r["interests"]]] = True
    return Audience(np.array([code(GENDERS, r["gender"]) for r in rows]),
                    np.array([code(AGE_BUCKETS, r["age"]) for r in rows]),
                    np.array([code(DEVICES, r["device"]) for r in rows]),
                    index.city_code([r["city"] for r in rows]), interests)


@pytest.mark.parametrize(("who", "reached"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_targeting_table(who: dict[str, Any], reached: list[int]) -> None:
    index = TargetingIndex([Targeting.parse(u) for u in UNITS])
    assert np.flatnonzero(index.eligible(audience([who], index))[0]).tolist() == reached


def test_a_batch_answers_as_its_rows_do_one_by_one() -> None:
    index = TargetingIndex([Targeting.parse(u) for u in UNITS])
    batch = index.eligible(audience([c for c, _ in CASES], index))
    assert [np.flatnonzero(row).tolist() for row in batch] == [r for _, r in CASES]
    assert index.audience_ready.tolist() == [True] * 6 + [False]


def test_many_units_pack_across_byte_boundaries() -> None:
    """Unit 8k+j restricts to female for odd j: bits must line up across bytes, to the last unit."""
    units = [Targeting.parse({"type": "advanced", "genders": ["female"]} if u % 2 else {}) for u in range(1_003)]
    index = TargetingIndex(units)
    rows = index.eligible(audience([consumer("male"), consumer("female")], index))
    assert rows.shape == (2, 1_003)
    assert np.flatnonzero(rows[0]).tolist() == list(range(0, 1_003, 2))
    assert rows[1].all()


def test_a_subset_of_units_answers_as_the_full_index_does() -> None:
    index = TargetingIndex([Targeting.parse(u) for u in UNITS])
    people = audience([c for c, _ in CASES], index)
    subset = np.array([6, 4, 0, 5, 1])
    assert (index.eligible_among(people, subset) == index.eligible(people)[:, subset]).all()
