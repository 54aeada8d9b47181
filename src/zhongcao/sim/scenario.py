"""Scenarios: what a simulated campaign is, as TOML a marketer can read and edit.

A scenario names the population, the days and the seed; the brands with their stores (KOB), products,
budgets by city tier and campaigns; and the creators and organic posting around them. The first brand is
the one simulated (its consumers' journeys, its ground truth, its creator programme); the others are its
competitors, whose stores' campaigns bid in the same auctions and spend their own wallets. Every field has a
default, so a scenario states only what it changes; anything unknown or out of range is refused with the
path of the field and what it allows, before anything is created.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from zhongcao.ads import MAX_DAILY_BUDGET_FEN, MIN_DAILY_BUDGET_FEN
from zhongcao.content import CODE
from zhongcao.core import Invalid
from zhongcao.market import OBJECTIVES, PRESETS

PLACEMENTS = ("feed", "search")
SHIPPED = Path(__file__).parent / "scenarios"  # the scenarios that come with the package, by file stem
DEFAULT = "kob_100_stores"                     # what ``zhongcao demo`` runs
BUDGET_SCALE = (0.05, 20.0)                    # how far a plan may scale the brand's money


@dataclass(frozen=True)
class Product:
    name: str
    price_fen: int


@dataclass(frozen=True)
class CampaignPlan:
    """One campaign per store (``level = "store"``) or one for the brand, promoting its stores' notes."""

    name: str
    placement: str = "feed"
    level: str = "store"
    objective: str = "seeding"
    bid_fen: int = 220
    daily_budget_fen: int = 30_000
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreatorProgramme:
    """The brand briefs creators through the marketplace: on ``start_day`` it plans a KOL mix within the
    budget under the strategy (from creators at or above ``min_authenticity``), invites them, and the
    deals run their course; notes publish within ``publish_days`` and settle after ``evaluation_days``."""

    budget_fen: int = 3_000_000
    strategy: str = "mid_plus_koc"
    maximize: str = "engagements"  # what the plan maximizes: engagements, reads, exposures or conversions
    contract: str = "fixed"
    format: str = "image"
    start_day: int = 2
    publish_days: int = 10
    evaluation_days: int = 14
    min_authenticity: int = 60


@dataclass(frozen=True)
class Brand:
    name: str
    category: str = "skincare"
    stores: int = 100
    budget_fen_by_tier: tuple[int, int, int, int] = (3_000_000, 1_500_000, 600_000, 600_000)  # a month, per store
    products: tuple[Product, ...] = (Product("修护面霜", 29_900), Product("保湿精华", 39_900))
    campaigns: tuple[CampaignPlan, ...] = (CampaignPlan("门店种草 Store seeding"),
                                           CampaignPlan("搜索拦截 Search capture", placement="search",
                                                        bid_fen=300, keywords=("面霜", "精华", "修护")))
    store_notes: int = 3                 # notes each store publishes at the start
    postback_coverage: float = 0.6       # share of off-platform orders posted back
    creator_programme: CreatorProgramme | None = None


@dataclass(frozen=True)
class Scenario:
    seed: int = 7
    consumers: int = 100_000
    days: int = 30
    start: date = date(2026, 3, 2)       # the first simulated budget day (Beijing)
    creators: int = 2_000
    creator_notes: int = 4_000           # organic notes on the platform at the start
    brands: tuple[Brand, ...] = (Brand("花间集美妆 Huajianji Beauty"),)

    def with_overrides(self, *, stores: int | None = None, **changes: Any) -> Scenario:
        """The scenario with the command line's ``--consumers``, ``--days``, ``--seed`` and ``--stores`` (every
        brand's store count) applied, each checked as the TOML's would be."""
        values = {k: v for k, v in changes.items() if v is not None}
        if stores is not None:
            values["brands"] = [_build(Brand, {**{f.name: getattr(b, f.name) for f in fields(b)}, "stores": stores},
                                       f"brands[{i}].") for i, b in enumerate(self.brands)]
        return _build(Scenario, {**{f.name: getattr(self, f.name) for f in fields(self)}, **values}, "")

    def with_budget_scale(self, scale: float) -> Scenario:
        """The scenario with the simulated brand's money times ``scale``: each store's monthly allocation, each
        campaign's daily budget (kept within the platform's ¥100 to ¥999,999) and the creator programme's
        budget. The competitors keep theirs: a plan asks what the brand's own money buys in the same market."""
        low, high = BUDGET_SCALE
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not low <= scale <= high:
            raise _bad("budget_scale", f"budget scale {scale!r}", f"a number {low:g}..{high:g}")
        if scale == 1:
            return self
        brand = self.brands[0]
        programme = brand.creator_programme

        def daily(fen: int) -> int:
            return min(max(round(fen * scale), MIN_DAILY_BUDGET_FEN), MAX_DAILY_BUDGET_FEN)

        t1, t2, t3, t4 = (round(b * scale) for b in brand.budget_fen_by_tier)

        scaled = replace(
            brand, budget_fen_by_tier=(t1, t2, t3, t4),
            campaigns=tuple(replace(c, daily_budget_fen=daily(c.daily_budget_fen)) for c in brand.campaigns),
            creator_programme=None if programme is None else replace(
                programme, budget_fen=max(round(programme.budget_fen * scale), 1)))
        return replace(self, brands=(scaled, *self.brands[1:]))


def _bad(path: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_scenario", detail, field=path or "scenario", allowed=allowed)


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(path, f"{path} is {value!r}", f"a whole number {low}..{high}")
    return value


def _check(cls: type, values: dict[str, Any], path: str) -> dict[str, Any]:
    """Values of ``cls``'s fields from TOML, nested tables built, each checked."""
    known = {f.name for f in fields(cls)}
    if unknown := sorted(set(values) - known):
        raise _bad(f"{path}{unknown[0]}", f"{path}{unknown[0]} is not a scenario field", sorted(known))
    out = dict(values)
    for name, value in values.items():
        where = f"{path}{name}"
        if name in ("seed",):
            out[name] = _int(value, where, 0, 2**63 - 1)
        elif name == "consumers":
            out[name] = _int(value, where, 100, 20_000_000)
        elif name == "days":
            out[name] = _int(value, where, 1, 366)
        elif name in ("creators", "creator_notes"):
            out[name] = _int(value, where, 0, 1_000_000)
        elif name == "stores":
            out[name] = _int(value, where, 1, 10_000)
        elif name == "store_notes":
            out[name] = _int(value, where, 0, 50)
        elif name == "budget_fen":
            out[name] = _int(value, where, 1, 10**11)
        elif name in ("start_day",):
            out[name] = _int(value, where, 0, 365)
        elif name in ("publish_days", "evaluation_days"):
            out[name] = _int(value, where, 1, 60)
        elif name == "min_authenticity":
            out[name] = _int(value, where, 0, 100)
        elif name in ("strategy", "maximize", "contract", "format"):
            allowed = {"strategy": sorted(PRESETS), "maximize": list(OBJECTIVES), "contract": ["fixed", "cps", "trial"],
                       "format": ["image", "video"]}[name]
            if value not in allowed:
                raise _bad(where, f"{value!r} is not a {name}", allowed)
        elif name == "creator_programme":
            out[name] = value if value is None or isinstance(value, CreatorProgramme) else \
                _build(CreatorProgramme, value, f"{where}.")  # None: an override keeping a brand without one
        elif name in ("price_fen", "bid_fen"):
            out[name] = _int(value, where, 1, 10**9)
        elif name == "daily_budget_fen":
            out[name] = _int(value, where, MIN_DAILY_BUDGET_FEN, MAX_DAILY_BUDGET_FEN)
        elif name == "start":
            if not isinstance(value, date):
                raise _bad(where, f"{where} is {value!r}", "a date: 2026-03-02")
        elif name == "category":
            if value not in CODE:
                raise _bad(where, f"{value!r} is not a category", sorted(CODE))
        elif name == "placement":
            if value not in PLACEMENTS:
                raise _bad(where, f"{value!r} is not a placement the simulator runs", list(PLACEMENTS))
        elif name == "level":
            if value not in ("store", "brand"):
                raise _bad(where, f"{value!r} is not a campaign level", ["store", "brand"])
        elif name == "postback_coverage":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise _bad(where, f"{where} is {value!r}", "a share 0..1")
            out[name] = float(value)
        elif name == "budget_fen_by_tier":
            if not isinstance(value, list | tuple) or len(value) != 4:
                raise _bad(where, f"{where} is {value!r}", "four monthly budgets in fen, tier 1 to tier 4")
            out[name] = tuple(_int(v, f"{where}[{i}]", 0, 10**11) for i, v in enumerate(value))
        elif name == "keywords":
            if not isinstance(value, list | tuple) or not all(isinstance(k, str) and 1 <= len(k) <= 20 for k in value):
                raise _bad(where, f"{where} is {value!r}", "a list of words of 1 to 20 characters")
            out[name] = tuple(value)
        elif name in ("name", "objective"):
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
                raise _bad(where, f"{where} is {value!r}", "1 to 100 characters")
        elif name in ("brands", "products", "campaigns"):
            item = {"brands": Brand, "products": Product, "campaigns": CampaignPlan}[name]
            if not isinstance(value, list | tuple) or not value:
                raise _bad(where, f"{where} is empty or not a list of tables", f"[[{where}]] tables")
            out[name] = tuple(v if isinstance(v, item) else _build(item, v, f"{where}[{i}].")
                              for i, v in enumerate(value))
            rival = next((i for i, b in enumerate(out[name]) if i and name == "brands" and b.creator_programme), None)
            if rival:
                raise _bad(f"{where}[{rival}].creator_programme", "only the first brand, the one simulated, "
                           "runs a creator programme; the others compete in the auctions",
                           "a creator_programme on brands[0] only")
    return out


def _build(cls: type, values: Any, path: str) -> Any:
    if not isinstance(values, dict):
        raise _bad(path.rstrip("."), f"{path.rstrip('.') or 'the scenario'} is not a table", "a TOML table")
    try:
        return cls(**_check(cls, values, path))
    except TypeError as exc:  # a required field is missing
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        raise _bad(path.rstrip("."), f"{path.rstrip('.') or 'the scenario'} misses a field ({exc})",
                   required) from None


def parse(values: dict[str, Any]) -> Scenario:
    scenario: Scenario = _build(Scenario, values, "")
    return scenario


def shipped() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))


def load(path: str | Path) -> Scenario:
    """A scenario file, or a shipped scenario by name (``kob_100_stores``); a missing file or broken TOML
    is refused like any other bad input."""
    if not Path(path).exists() and (SHIPPED / f"{path}.toml").exists():
        path = SHIPPED / f"{path}.toml"
    elif not Path(path).exists():
        raise _bad("path", f"no scenario file {path}", f"a TOML file, or one of {shipped()}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad("path", f"cannot read {path}: {exc.strerror}", "a readable TOML file") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad("path", f"{path} is not valid TOML: {exc}", "TOML (https://toml.io)") from None
    return parse(values)

