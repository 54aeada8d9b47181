"""Eligibility by inverted index: for each targeting dimension and value, the set of units that accept it.

Sets are packed bitsets over unit indices (one bit per unit), so a batch of requests is checked against
10,000 units with a few byte-wise ANDs per request. A unit that does not restrict a dimension accepts
every value of it, unknown included; a unit that restricts it accepts only consumers known to match:
a consumer of unknown gender never sees an ad targeted at women.

Interests match when the consumer's interests and the unit's overlap. Behaviour rules (keyword
behaviour, creator fans) admit the consumers in the unit's computed audience (``audiences``), so the
request must name its consumer. Audience packages come from the measurement slice; until one is
supplied, a unit naming it matches no one: delivering to people outside the audience the advertiser
chose would be worse than not delivering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zhongcao.ads.enums import AGE_BUCKETS, DEVICES, GENDERS, TargetingType
from zhongcao.ads.spec import Targeting
from zhongcao.content import CODE, N_CATEGORIES

UNKNOWN = -1


@dataclass(frozen=True)
class Audience:
    """A batch of consumers' known attributes as codes (``UNKNOWN`` = -1) and interest flags."""

    gender: np.ndarray     # (r,) index into GENDERS
    age: np.ndarray        # (r,) index into AGE_BUCKETS
    device: np.ndarray     # (r,) index into DEVICES
    city: np.ndarray       # (r,) index into the index's city dictionary (``TargetingIndex.city_code``)
    interests: np.ndarray  # (r, N_CATEGORIES) bool: the consumer's interest categories
    consumer: np.ndarray | None = None  # (r,) ids, for behaviour audiences; None admits to none of them

    def take(self, rows: np.ndarray) -> Audience:
        """The consumers at ``rows`` (repeats allowed)."""
        return Audience(self.gender[rows], self.age[rows], self.device[rows], self.city[rows], self.interests[rows],
                        None if self.consumer is None else self.consumer[rows])

    @classmethod
    def unknown(cls, r: int) -> Audience:
        none = np.full(r, UNKNOWN, dtype=np.int64)
        return cls(none, none, none, none, np.zeros((r, N_CATEGORIES), dtype=bool))


class TargetingIndex:
    """Built once per plan change for units 0..n-1; ``eligible`` is the hot path."""

    def __init__(self, targeting: Sequence[Targeting], members: Sequence[np.ndarray | None] | None = None) -> None:
        """``members``: per unit, the sorted consumer ids its behaviour rules admit, None without such rules."""
        self.n = len(targeting)
        self.members = list(members) if members is not None else [None] * self.n
        self.ruled = np.array([m is not None for m in self.members], dtype=bool)
        self._tables: list[np.ndarray] = []  # unpacked: gender, age, device, city, for column subsets
        self.cities: dict[str, int] = {}
        for t in targeting:
            for city in t.cities:
                self.cities.setdefault(city, len(self.cities))
        # One accept table per dimension: row v + 1 is the bitset of units accepting value v; row 0 is
        # "unknown", accepted only by units that leave the dimension open.
        self.gender = self._table(targeting, len(GENDERS), lambda t: [GENDERS.index(g) for g in t.genders])
        self.age = self._table(targeting, len(AGE_BUCKETS), lambda t: [AGE_BUCKETS.index(a) for a in t.ages])
        self.device = self._table(targeting, len(DEVICES), lambda t: [DEVICES.index(d) for d in t.devices])
        self.city = self._table(targeting, len(self.cities), lambda t: [self.cities[c] for c in t.cities])
        open_interest = np.array([not t.interests for t in targeting], dtype=bool)
        self._open_interest = np.packbits(open_interest)
        wants = np.zeros((N_CATEGORIES, self.n), dtype=bool)
        for u, t in enumerate(targeting):
            wants[[CODE[c] for c in t.interests], u] = True
        self._wants, self._open = wants.astype(np.float32), open_interest
        self._interest = np.packbits(wants, axis=1)  # (categories, bytes)
        self.audience_ready = np.array([t.type != TargetingType.ADVANCED or not t.audience_packages
                                        for t in targeting], dtype=bool)
        self._ready = np.packbits(self.audience_ready)
        self._arrays: tuple[np.ndarray, ...] | None = None

    def _table(self, targeting: Sequence[Targeting], values: int, accepted: object) -> np.ndarray:
        table = np.zeros((values + 1, self.n), dtype=bool)
        for u, t in enumerate(targeting):
            chosen = accepted(t)  # type: ignore[operator]
            if chosen:
                table[[v + 1 for v in chosen], u] = True
            else:
                table[:, u] = True
        self._tables.append(table)
        return np.packbits(table, axis=1)

    def _admitted(self, consumer: np.ndarray | None, unit: int) -> np.ndarray:
        """Which of ``consumer`` are in ``unit``'s behaviour audience."""
        m = self.members[unit]
        if consumer is None or m is None or not len(m):
            return np.zeros(0 if consumer is None else len(consumer), dtype=bool)
        c = consumer.astype(np.uint64)
        at = np.minimum(np.searchsorted(m, c), len(m) - 1)
        return np.asarray(m[at] == c)

    def _members_grid(self, audience: Audience, units: np.ndarray) -> np.ndarray:
        """(requests, len(units)) bool: behaviour audiences admit each request's consumer (true where none
        is needed)."""
        ok = np.ones((len(audience.gender), len(units)), dtype=bool)
        for j in np.flatnonzero(self.ruled[units]):
            ok[:, j] = self._admitted(audience.consumer, int(units[j])) if audience.consumer is not None else False
        return ok

    def arrays(self) -> tuple[np.ndarray, ...]:
        """What a compiled check of one (consumer, unit) pair reads, built once: per unit whether its
        audience is ready and whether it leaves interests open; the interests it wants (categories, units);
        the gender, age, device and city accept tables (value + 1, units); whether behaviour rules it, and
        the consumers they admit, sorted per unit and laid end to end from ``starts[unit]``."""
        if self._arrays is None:
            sizes = np.array([0 if m is None else len(m) for m in self.members], dtype=np.int64)
            starts = np.r_[0, np.cumsum(sizes)]
            members = (np.concatenate([m for m in self.members if m is not None and len(m)]).astype(np.uint64)
                       if sizes.sum() else np.zeros(0, dtype=np.uint64))
            self._arrays = (self.audience_ready, self._open, self._wants > 0, *self._tables, self.ruled, starts,
                            members)
        return self._arrays

    def city_code(self, names: Sequence[str | None]) -> np.ndarray:
        return np.array([self.cities.get(c, UNKNOWN) if c else UNKNOWN for c in names], dtype=np.int64)

    def in_city(self, code: int, units: np.ndarray) -> np.ndarray:
        """Which of ``units`` accept a consumer of city ``code`` (``city_code``'s)."""
        return self._tables[3][code + 1, units]

    def eligible_among(self, audience: Audience, units: np.ndarray) -> np.ndarray:
        """(requests, len(units)) bool for a subset of units: the path for scanning units in score order."""
        ok = self.audience_ready[units] & self._open[units]
        ok = np.broadcast_to(ok, (len(audience.gender), len(units))).copy()
        interested = audience.interests.any(axis=1)
        if interested.any():
            ok[interested] |= (audience.interests[interested].astype(np.float32) @ self._wants[:, units]) > 0
            ok[interested] &= self.audience_ready[units]
        for table, codes in zip(self._tables, (audience.gender, audience.age, audience.device, audience.city),
                                strict=True):
            ok &= table[np.ix_(codes + 1, units)]
        return ok & self._members_grid(audience, units) if self.ruled[units].any() else ok

    def eligible(self, audience: Audience) -> np.ndarray:
        """(requests, units) bool: which units may show to each consumer."""
        bits = (self.gender[audience.gender + 1] & self.age[audience.age + 1] & self.device[audience.device + 1]
                & self.city[audience.city + 1])
        # Interests: a unit restricting them needs one in common with the consumer.
        overlap = np.zeros_like(bits)
        for category in np.flatnonzero(audience.interests.any(axis=0)):
            has = audience.interests[:, category]
            overlap[has] |= self._interest[category]
        bits &= (overlap | self._open_interest) & self._ready
        ok = np.unpackbits(bits, axis=1, count=self.n).astype(bool)
        return ok & self._members_grid(audience, np.arange(self.n)) if self.ruled.any() else ok
