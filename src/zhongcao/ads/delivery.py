"""Delivery: ``decide`` takes a batch of ad requests and returns, per request, the winning ads and prices.

Policy around the mechanisms: eligibility (targeting index, keywords, schedule, pacing, frequency cap,
money) chooses who enters; the auction (``gsp``) ranks by eCPM and prices by the next one.

- eCPM = bid × pCTR (× pCVR when the bid is per conversion) × 1000 × quality, in fen. In search, a
  keyword's own bid stands in for the unit's, and a quick-cast feed campaign bids × its coefficient.
- Feed units are scanned in eCPM order, a window at a time, until every request has its slots and one
  more (whose score prices the last slot): exact GSP without scoring every unit for every request.
- Prices are per click: the eCPM price ÷ (1000 × pCTR × quality), rounded up to whole fen, never above
  the bid.
- Each slot carries its propensity: the probability the pacer let its campaign into this auction, the
  only random step of the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.ads.auction import gsp_rows
from zhongcao.ads.bidding import AutoBidder
from zhongcao.ads.book import Book
from zhongcao.ads.estimates import Estimates, EstimateSpec
from zhongcao.ads.pacing import Pacer, PacingSpec
from zhongcao.ads.targeting import Audience
from zhongcao.core import kernel

POLICY = "ads.gsp.v1"


@dataclass(frozen=True)
class DeliverySpec:
    reserve_ecpm_fen: float = 1_000.0  # ¥10 per thousand: below FIELD_FACTS' feed CPM of ¥30–100 [U]
    window: int = 256                  # feed units scanned per step, in eCPM order
    frequency_cap: int = 3             # impressions per consumer per unit per budget day [U]
    default_target_fen: int = 100      # cost control without a target cost, per result [U]
    cap_slots: int = 1 << 22           # frequency counters (hashed; a collision only withholds an ad)

    def __post_init__(self) -> None:
        if self.reserve_ecpm_fen < 0 or self.window < 8 or self.frequency_cap < 1 or self.default_target_fen < 1:
            raise ValueError("DeliverySpec: reserve >= 0, window >= 8, frequency_cap >= 1, default_target_fen >= 1")


def ad_positions(n: int, first: int, every: int, page: int = 1) -> list[int]:
    """1-based positions of ad slots on a page of ``n`` items: ``first``, then every ``every``-th after."""
    start = (page - 1) * n
    return [p - start for p in range(start + 1, start + n + 1) if p >= first and (p - first) % every == 0]


@dataclass(frozen=True)
class AdRequests:
    consumer: np.ndarray  # (r,) consumer ids
    audience: Audience
    search: np.ndarray    # (r,) bool: a search page, else a feed page
    query: list[str]      # the query of each search request ("" for feed)
    slots: np.ndarray     # (r,) ad slots each request has


    def take(self, rows: np.ndarray) -> AdRequests:
        return AdRequests(self.consumer[rows], self.audience.take(rows), self.search[rows],
                          [self.query[i] for i in rows.tolist()], self.slots[rows])


@dataclass(frozen=True)
class Decisions:
    """Flat arrays, one row per filled slot, in request order then slot rank."""

    request: np.ndarray
    rank: np.ndarray            # 0 for the request's first ad slot
    unit: np.ndarray            # book indices
    creative: np.ndarray
    keyword_id: np.ndarray      # the keyword that triggered a search ad; 0 in feed
    ecpm: np.ndarray            # the winner's score
    price_ecpm: np.ndarray      # what it pays, per thousand impressions
    price_click_fen: np.ndarray  # what a click on it costs
    propensity: np.ndarray
    policy: str = POLICY

    def take(self, keep: np.ndarray) -> Decisions:
        return Decisions(self.request[keep], self.rank[keep], self.unit[keep], self.creative[keep],
                         self.keyword_id[keep], self.ecpm[keep], self.price_ecpm[keep], self.price_click_fen[keep],
                         self.propensity[keep], self.policy)

    def merge(self, other: Decisions) -> Decisions:
        """Both sets of slots, back in request order then slot rank."""
        columns = [np.concatenate([getattr(self, f), getattr(other, f)]) for f in (
            "request", "rank", "unit", "creative", "keyword_id", "ecpm", "price_ecpm", "price_click_fen",
            "propensity")]
        order = np.lexsort((columns[1], columns[0]))
        request, rank, unit, creative, keyword, ecpm, price, price_click, propensity = (c[order] for c in columns)
        return Decisions(request, rank, unit, creative, keyword, ecpm, price, price_click, propensity, self.policy)


class FrequencyCap:
    """Impressions per (consumer, unit) today, in one hashed counter array: a collision over-counts, so a
    consumer may see an ad less often than the cap, never more."""

    def __init__(self, slots: int) -> None:
        """``slots`` counters, rounded up to a power of two: a mask picks one (a modulo per lookup cost a
        third of the check)."""
        self.counts = np.zeros(1 << max(slots - 1, 1).bit_length(), dtype=np.uint8)
        self.day: int | None = None

    def _slot(self, consumer: np.ndarray, unit_id: np.ndarray) -> np.ndarray:
        h = consumer.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ unit_id.astype(np.uint64) * np.uint64(
            0xC2B2AE3D27D4EB4F)
        return (h & np.uint64(len(self.counts) - 1)).astype(np.int64)

    def roll(self, day: int) -> None:
        if day != self.day:
            self.day, self.counts[:] = day, 0

    def add(self, consumer: np.ndarray, unit_id: np.ndarray) -> None:
        slot, n = np.unique(self._slot(consumer, unit_id), return_counts=True)
        self.counts[slot] = np.minimum(self.counts[slot].astype(np.int64) + n, 255)


class Delivery:
    """The serving state for one book: estimates, pacing, frequency and bid multipliers."""

    def __init__(self, book: Book, spec: DeliverySpec | None = None, pacing: PacingSpec | None = None,
                 estimates: EstimateSpec | None = None) -> None:
        self.book = book
        self.spec = spec or DeliverySpec()
        self.pacer = Pacer(book.budget_fen, book.even, book.schedule, pacing or PacingSpec(),
                           utc_offset_hours=book.utc_offset_hours)
        self.estimates = Estimates(book.creative_unit, book.unit_category, estimates or EstimateSpec())
        self.frequency = FrequencyCap(self.spec.cap_slots)
        self.quality = np.ones(book.units)     # note quality per unit, set by the caller from content
        self.multiplier = np.ones(book.units)  # auto bidding's steering of each unit's bid
        self.bidder = AutoBidder(book.units)
        self._tuning = 0  # bumped when quality or multipliers change
        self._best: tuple[object, ...] | None = None
        self._feed_order: tuple[object, np.ndarray] | None = None

    def tune(self, *, quality: np.ndarray | None = None, multiplier: np.ndarray | None = None) -> None:
        """Set note quality or auto-bid multipliers per unit; cached scores are recomputed."""
        if quality is not None:
            self.quality = np.asarray(quality, dtype=np.float64)
        if multiplier is not None:
            self.multiplier = np.asarray(multiplier, dtype=np.float64)
        self._tuning += 1

    def targets(self) -> np.ndarray:
        """Each auto unit's cost per result to steer to (or never pass, for a cap)."""
        b = self.book
        return np.where(b.target_cost_fen > 0, b.target_cost_fen, self.spec.default_target_fen).astype(np.float64)

    def bids(self) -> np.ndarray:
        """Each unit's bid per result now: its own, or the auto bidder's (a cost cap is never exceeded)."""
        b = self.book
        auto = self.targets() * np.where(b.cap, np.minimum(self.multiplier, 1.0), self.multiplier)
        return np.where(b.auto, auto, b.bid_fen).astype(np.float64)

    def steer(self) -> None:
        """One auto-bidding step on the evidence gathered since the last."""
        b = self.book
        self.tune(multiplier=self.bidder.step(self.multiplier, self.targets(), b.auto, b.cap))

    def expected_cost(self, out: Decisions) -> np.ndarray:
        """Fen each won slot is expected to cost its campaign: a CPM winner's price per impression, a CPC
        winner's price per click times its predicted click-through (the eCPM divided by the quality that
        scaled it)."""
        _, _, _, value = self._scores()
        b = self.book
        ctr = value[out.unit] / (1_000 * np.maximum(self.quality[out.unit], 1e-9))
        return np.where(b.per_mille[out.unit], out.price_ecpm / 1_000, out.price_click_fen * ctr)

    def _scores(self) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
        """Request-independent parts of the score, recomputed only when the estimates have learned
        something or the tuning changed: each unit's creative (its best predicted click-through, the
        older on a tie), its bid per click, and the eCPM one fen of that bid buys. A CPM unit bids per thousand
        impressions already: one fen of it buys one fen of eCPM, times the note's quality."""
        est = self.estimates
        key = (float(est.impressions.sum() + est.clicks.sum() + est.conversions.sum()), self._tuning)
        if self._best is None or self._best[0] != key:
            b = self.book
            ctr = est.ctr(np.arange(len(b.creative_id)))
            by_unit = np.lexsort((b.creative_id, -ctr, b.creative_unit))
            starts = np.r_[0, np.flatnonzero(np.diff(b.creative_unit[by_unit])) + 1] if len(by_unit) else by_unit
            first = by_unit[starts]
            per_click = self.bids() * np.where(b.per_result, est.cvr(first), 1.0)
            value = np.where(b.per_mille, 1.0, ctr[first] * 1_000) * self.quality
            self._best = (key, first, per_click, value)
        return self._best  # type: ignore[return-value]

    def decide(self, req: AdRequests, now: float, funded: np.ndarray, rng: np.random.Generator) -> Decisions:
        """``funded`` says which campaigns hold money to spend now (their budget leases)."""
        b = self.book
        if not b.units:
            empty = np.empty(0, dtype=np.int64)
            return Decisions(empty, empty, empty, empty, empty, np.empty(0), np.empty(0), empty, np.empty(0))
        rates = self.pacer.rates(now)
        live = funded & (rates > 0) & (b.start <= now) & (now < b.end)
        self.frequency.roll(int((now + b.utc_offset_hours * 3_600) // 86_400))
        key, creative, per_click, value = self._scores()
        out: list[tuple[np.ndarray, ...]] = []
        wanted = req.slots > 0
        feed_rows, search_rows = np.flatnonzero(~req.search & wanted), np.flatnonzero(req.search & wanted)
        if len(feed_rows):
            order_key = (key, live.tobytes())
            if self._feed_order is None or self._feed_order[0] != order_key:
                units = np.flatnonzero(live[b.unit_campaign] & b.serves_feed[b.unit_campaign])
                ecpm = per_click[units] * value[units]
                self._feed_order = (order_key, units[np.lexsort((b.unit_id[units], -ecpm))])
            cand = self._scan(req, feed_rows, self._feed_order[1], rates, rng)
            scores = np.where(cand >= 0, (per_click * value)[np.maximum(cand, 0)], -np.inf)
            out.append(self._auction(req, feed_rows, cand.ravel(), np.zeros(cand.size, dtype=np.int64), scores.ravel(),
                                     per_click, value, rates, np.arange(len(feed_rows) + 1) * cand.shape[1]))
        if len(search_rows):
            out.append(self._search(req, search_rows, live, per_click, value, rates, rng))
        parts: list[np.ndarray] = ([np.concatenate(col) for col in zip(*out, strict=True)] if out
                                   else [np.empty(0, np.int64)] * 8)
        request, rank, unit, keyword, ecpm, price, price_click, propensity = parts
        by_slot = np.lexsort((rank, request))
        won = unit[by_slot].astype(np.int64)
        self.frequency.add(req.consumer[request[by_slot]], b.unit_id[won])
        return Decisions(request[by_slot].astype(np.int64), rank[by_slot].astype(np.int64), won, creative[won],
                         keyword[by_slot].astype(np.int64), ecpm[by_slot], price[by_slot],
                         price_click[by_slot].astype(np.int64), propensity[by_slot])

    def _admission(self, req: AdRequests) -> tuple[object, ...]:
        """What ``_admit`` reads besides the units and draws: the requests' attributes and interests, the
        consumers the frequency cap counts and those behaviour audiences admit (and whether the requests name
        them), the book's targeting arrays, and the frequency counters, cap and unit ids."""
        b, a = self.book, req.audience
        consumer = np.asarray(req.consumer, dtype=np.int64)
        named = np.asarray(a.consumer if a.consumer is not None else consumer, dtype=np.int64)
        return (a.gender, a.age, a.device, a.city, a.interests, consumer, named, a.consumer is not None,
                *b.targeting.arrays(), self.frequency.counts, self.spec.frequency_cap, b.unit_id)

    def _scan(self, req: AdRequests, rows: np.ndarray, order: np.ndarray, rates: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        """Per request, the first ``slots + 1`` units of ``order`` that pass targeting, the frequency cap and
        the pacer's draw: (rows, max slots + 1), -1 padded."""
        cand = self._walk(req, rows, order, np.zeros(len(rows), dtype=np.int64), np.full(len(rows), len(order)),
                          rates, rng, 32)  # most requests fill from the first few units
        return np.where(cand >= 0, np.r_[order, -1][cand], -1)

    def _walk(self, req: AdRequests, rows: np.ndarray, units: np.ndarray, begin: np.ndarray, end: np.ndarray,
              rates: np.ndarray, rng: np.random.Generator, step: int) -> np.ndarray:
        """Each request walks its units, ``units[begin:end]`` best first, to its first ``slots + 1`` that pass
        targeting, the frequency cap and the pacer's draw: their positions in ``units``, (rows, max slots +
        1), -1 padded. GSP's winners and their prices come from those alone. The units go a window at a
        time, doubling, to the requests still open; each window's draws are drawn for all of them, whether
        or not a request fills before its end."""
        need = req.slots[rows] + 1
        cand = np.full((len(rows), int(need.max(initial=1))), -1, dtype=np.int64)
        found = np.zeros(len(rows), dtype=np.int64)
        admission, rate = self._admission(req), rates[self.book.unit_campaign]
        at, step = begin.copy(), min(step, self.spec.window)
        while True:
            open_ = np.flatnonzero((found < need) & (at < end))
            if not len(open_):
                return cand
            start = at[open_]
            stop = np.minimum(start + step, end[open_])
            _admit(open_, rows, units, start, stop, rng.random((len(open_), int((stop - start).max()))), *admission,
                   rate, need, found, cand)
            at[open_], step = stop, min(2 * step, self.spec.window)

    def _search(self, req: AdRequests, rows: np.ndarray, live: np.ndarray, per_click: np.ndarray,
                value: np.ndarray, rates: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        b = self.book
        # Each distinct (query, city) is matched once, to its triggered units that take the city, serve
        # search and clear the reserve, ranked as GSP ranks them (eCPM, then the older unit); a request walks
        # its list, laid end to end with the others', to its slots and one more. A batch repeats its head
        # queries many times over, and a brand word triggers every store's keyword.
        city = req.audience.city[rows].tolist()
        distinct: dict[tuple[str, int], int] = {}
        which = np.array([distinct.setdefault((req.query[i], c), len(distinct)) for i, c in
                          zip(rows.tolist(), city, strict=True)], dtype=np.int64)
        triggered = [t.take(b.targeting.in_city(c, t.unit)) for t, c in
                     ((b.keywords.match(q), c) for q, c in distinct)]
        lists = np.repeat(np.arange(len(triggered)), [len(t.unit) for t in triggered])
        cand = np.concatenate([np.empty(0, np.int64), *(t.unit for t in triggered)])
        keyword = np.concatenate([np.empty(0, np.int64), *(t.keyword_id for t in triggered)])
        bid = np.concatenate([np.empty(0, np.int64), *(t.bid_fen for t in triggered)]).astype(np.float64)
        # A keyword's own bid stands in for a manual unit's; auto units bid as the bidder says.
        unit_bid = np.where(b.auto[cand] | (bid <= 0), per_click[cand],
                            bid * np.where(b.per_result[cand], per_click[cand] / np.maximum(b.bid_fen[cand], 1), 1.0))
        unit_bid = unit_bid * b.search_coefficient[b.unit_campaign[cand]]
        score = unit_bid * value[cand]
        ok = np.flatnonzero(live[b.unit_campaign[cand]] & b.serves_search[b.unit_campaign[cand]]
                            & (score >= self.spec.reserve_ecpm_fen))
        ranked = ok[np.lexsort((b.unit_id[cand[ok]], -score[ok], lists[ok]))]
        counts = np.bincount(lists[ranked], minlength=len(triggered))
        first = np.cumsum(counts) - counts
        got = self._walk(req, rows, cand[ranked], first[which], (first + counts)[which], rates, rng, 8)
        at = ranked[got[got >= 0]]  # each request's admitted, best first, end to end
        starts = np.r_[0, np.cumsum((got >= 0).sum(axis=1))]
        return self._auction(req, rows, cand[at], keyword[at], score[at], unit_bid[at], value, rates, starts,
                             per_cell=True)

    def _auction(self, req: AdRequests, rows: np.ndarray, cand: np.ndarray, keyword: np.ndarray,
                 scores: np.ndarray, bid: np.ndarray, value: np.ndarray, rates: np.ndarray, starts: np.ndarray,
                 per_cell: bool = False) -> tuple[np.ndarray, ...]:
        """GSP over each request's candidates, ``cand[starts[i]:starts[i + 1]]`` (-1 for none) and their
        scores; ``bid`` is per candidate (``per_cell``) or per unit."""
        b = self.book
        slots = req.slots[rows]
        result = gsp_rows(scores, starts, int(slots.max()), self.spec.reserve_ecpm_fen, b.unit_id[np.maximum(cand, 0)])
        filled = (result.winner >= 0) & (np.arange(result.winner.shape[1])[None, :] < slots[:, None])
        i, k = np.nonzero(filled)
        at = starts[i] + result.winner[i, k]
        unit = cand[at]
        own_bid = bid[at] if per_cell else bid[unit]
        # Whole fen, rounded up so the price never dips under the next bid or the reserve; never above the bid.
        price_click = np.minimum(np.maximum(np.ceil(result.price[i, k] / value[unit] - 1e-9), 1), np.ceil(own_bid))
        return (rows[i], k, unit, keyword[at], result.score[i, k], result.price[i, k], price_click,
                rates[b.unit_campaign[unit]])


@kernel
def _admit(open_: np.ndarray, rows: np.ndarray, units: np.ndarray, begin: np.ndarray, end: np.ndarray,
           draws: np.ndarray, gender: np.ndarray,
           age: np.ndarray, device: np.ndarray, city: np.ndarray, interests: np.ndarray, consumer: np.ndarray,
           named: np.ndarray, known: bool, ready: np.ndarray, open_interest: np.ndarray, wants: np.ndarray,
           gender_ok: np.ndarray, age_ok: np.ndarray, device_ok: np.ndarray, city_ok: np.ndarray, ruled: np.ndarray,
           member_start: np.ndarray, members: np.ndarray, counts: np.ndarray, cap: int, unit_id: np.ndarray,
           unit_rate: np.ndarray, need: np.ndarray, found: np.ndarray, cand: np.ndarray) -> None:
    """For each open request (``open_`` indexes ``rows``, which index the request arrays), its units
    ``units[begin[o]:end[o]]`` in order (a window of the feed's order, the same for all; of the request's
    own triggered list in search), with their draws ``draws[o, :]``, each let in by its targeting
    (``TargetingIndex.arrays``: attributes, then interests, then behaviour audiences), the frequency cap
    (``FrequencyCap``'s hashed counters, by ``consumer``) and the pacer's draw; its position in ``units``
    is appended to the request's candidates until it has ``need``. Behaviour audiences admit ``named``
    consumers, and only when ``known``."""
    mask = np.uint64(len(counts) - 1)
    for o in range(len(open_)):
        q = open_[o]
        i = rows[q]
        for j in range(begin[o], end[o]):
            if found[q] >= need[q]:
                break
            u = units[j]
            if not (draws[o, j - begin[o]] < unit_rate[u] and ready[u] and gender_ok[gender[i] + 1, u]
                    and age_ok[age[i] + 1, u] and device_ok[device[i] + 1, u] and city_ok[city[i] + 1, u]):
                continue
            if not open_interest[u]:
                overlap = False
                for k in range(wants.shape[0]):
                    if interests[i, k] and wants[k, u]:
                        overlap = True
                        break
                if not overlap:
                    continue
            if ruled[u]:
                lo, hi = member_start[u], member_start[u + 1]
                c = np.uint64(named[i])
                while lo < hi:
                    mid = (lo + hi) // 2
                    if members[mid] < c:
                        lo = mid + 1
                    else:
                        hi = mid
                if not (known and lo < member_start[u + 1] and members[lo] == c):
                    continue
            h = (np.uint64(consumer[i]) * np.uint64(0x9E3779B97F4A7C15)) ^ (
                np.uint64(unit_id[u]) * np.uint64(0xC2B2AE3D27D4EB4F))
            if counts[h & mask] >= cap:
                continue
            cand[q, found[q]] = j
            found[q] += 1
