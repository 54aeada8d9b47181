"""Campaign, unit, targeting, keyword and creative specs: frozen, and each validates itself against the
platform's limits (FIELD_FACTS §1). An error's ``code`` names the kind of rule, its ``field`` the value,
its detail the rule itself, and ``allowed`` what would pass.

Numbers tagged [O] are the platform's own; [U] ones are our defaults where the field gives none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from zhongcao.ads.enums import (
    AGE_BUCKETS,
    DEVICES,
    FAN_DAYS,
    FAN_TRAFFIC,
    GENDERS,
    GOALS,
    KEYWORD_ACTIONS,
    KEYWORD_DAYS,
    Bidding,
    BillingEvent,
    Component,
    Match,
    Objective,
    OptimizeFor,
    Pacing,
    Placement,
    TargetingType,
)
from zhongcao.content import CODE, normalize
from zhongcao.core import Invalid

MIN_DAILY_BUDGET_FEN, MAX_DAILY_BUDGET_FEN = 10_000, 99_999_900  # ¥100 to under ¥999,999 [O]
MIN_BID_FEN, MAX_BID_FEN = 10, 100_000                           # ¥0.1 to ¥1,000 per result [U]
MAX_NOTES_PER_UNIT = 50                                          # SPU units bind 5–50 notes [O]
MIN_NOTES_PER_SPU_UNIT = 5
MAX_KEYWORDS, MAX_NEGATIVE_KEYWORDS, MAX_KEYWORD_CHARS = 500, 200, 20  # [U]
MAX_CITIES, MAX_PACKAGES, MAX_FAN_CREATORS = 500, 50, 50         # [U]
MIN_QUICK_CAST, MAX_QUICK_CAST = 1.0, 2.0                        # the peer platform's range [O]
ALL_HOURS = "1" * 24
_DAYPART = re.compile(r"^[01]{24}$")
_URL = re.compile(r"^https?://[^\s]{1,1000}$")

E = TypeVar("E", bound=StrEnum)


def broken(code: str, field: str, rule: str, allowed: object) -> Invalid:
    return Invalid(code, rule, field=field, allowed=allowed)


def parse_enum(kind: type[E], value: object, field: str, code: str) -> E:
    allowed = [m.value for m in kind]
    if not isinstance(value, str) or value not in allowed:
        raise broken(code, field, f"{value!r} is not a {field}", allowed)
    return kind(value)


def _strings(value: object, field: str, code: str, allowed: tuple[str, ...] | None = None,
             limit: int = 100) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise broken(code, field, f"{field} is a list of strings", list(allowed) if allowed else "strings")
    out = tuple(dict.fromkeys(v.strip() for v in value))
    if allowed is not None and (bad := [v for v in out if v not in allowed]):
        raise broken(code, field, f"{bad[0]!r} is not a {field} value", list(allowed))
    if len(out) > limit or any(not v or len(v) > 50 for v in out):
        raise broken(code, field, f"{field} takes at most {limit} values of 1 to 50 characters", f"<= {limit}")
    return out


def _ids(value: object, field: str, code: str, limit: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, int) and v > 0 for v in value):
        raise broken(code, field, f"{field} is a list of ids", "positive integers")
    out = tuple(dict.fromkeys(value))
    if len(out) > limit:
        raise broken(code, field, f"at most {limit} {field}", f"<= {limit}")
    return out


def _day(value: object, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise broken("invalid_schedule", field, f"{value!r} is not a date", "YYYY-MM-DD") from None


@dataclass(frozen=True)
class Campaign:
    name: str
    objective: Objective
    placement: Placement
    bidding: Bidding
    optimize_for: OptimizeFor
    daily_budget_fen: int | None = None  # None: unlimited
    pacing: Pacing = Pacing.EVEN
    start_date: date | None = None
    end_date: date | None = None
    dayparts: tuple[str, ...] = (ALL_HOURS,) * 7  # Monday first; hour h of the budget day is char h
    holiday_uplift: bool = False
    billing_event: BillingEvent = BillingEvent.CLICK
    quick_cast: bool = False                       # a feed campaign also serving in search
    quick_cast_coefficient: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= len(self.name.strip()) <= 100:
            raise broken("invalid_campaign", "name", "a campaign name is 1 to 100 characters", "1..100 characters")
        if self.optimize_for not in GOALS[self.objective]:
            raise broken("invalid_campaign", "optimize_for",
                         f"a {self.objective} campaign cannot optimize for {self.optimize_for}",
                         sorted(GOALS[self.objective]))
        if self.objective == Objective.KEYWORD_CAPTURE and self.placement != Placement.SEARCH:
            raise broken("invalid_campaign", "placement", "keyword capture runs in search only", ["search"])
        if self.daily_budget_fen is not None and not (
                MIN_DAILY_BUDGET_FEN <= self.daily_budget_fen <= MAX_DAILY_BUDGET_FEN):
            raise broken("invalid_daily_budget", "daily_budget_fen",
                         f"a daily budget is unlimited (null) or {MIN_DAILY_BUDGET_FEN:,} to "
                         f"{MAX_DAILY_BUDGET_FEN:,} fen", f"null or {MIN_DAILY_BUDGET_FEN}..{MAX_DAILY_BUDGET_FEN}")
        if self.bidding == Bidding.COST_CONTROL and self.pacing != Pacing.EVEN:
            raise broken("invalid_campaign", "pacing", "automatic cost control always paces evenly", ["even"])
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise broken("invalid_schedule", "end_date", "the end date is before the start date",
                         f">= {self.start_date}")
        if len(self.dayparts) != 7 or not all(_DAYPART.match(d) for d in self.dayparts):
            raise broken("invalid_schedule", "dayparts", "dayparts are 7 strings (Monday first) of 24 0/1 hours",
                         "7 × 24 characters of 0 and 1")
        if "1" not in "".join(self.dayparts):
            raise broken("invalid_schedule", "dayparts", "a schedule needs at least one hour on", "one 1")
        if self.billing_event == BillingEvent.IMPRESSION and self.bidding != Bidding.MANUAL:
            raise broken("invalid_campaign", "billing_event", "CPM (billing by impression) takes manual bids per "
                         "thousand impressions", ["click"])
        if self.quick_cast and self.placement != Placement.FEED:
            raise broken("invalid_campaign", "quick_cast", "search quick-cast extends feed campaigns only",
                         "false unless placement is feed")
        if not MIN_QUICK_CAST <= self.quick_cast_coefficient <= MAX_QUICK_CAST or (
                not self.quick_cast and self.quick_cast_coefficient != 1.0):
            raise broken("invalid_campaign", "quick_cast_coefficient",
                         "the quick-cast bid coefficient is 1 to 2, and only with quick_cast", "1.0..2.0")

    @property
    def serves_search(self) -> bool:
        return self.placement in (Placement.SEARCH, Placement.ALL_SITE) or self.quick_cast

    @property
    def serves_feed(self) -> bool:
        return self.placement in (Placement.FEED, Placement.ALL_SITE)

    @classmethod
    def parse(cls, data: Mapping[str, Any], base: Campaign | None = None) -> Campaign:
        """From API fields (enum names, ISO dates); with ``base``, the fields given change a copy of it."""
        code = "invalid_campaign"
        values: dict[str, Any] = {}
        for name, kind in (("objective", Objective), ("placement", Placement), ("bidding", Bidding),
                           ("optimize_for", OptimizeFor), ("pacing", Pacing), ("billing_event", BillingEvent)):
            if name in data:
                values[name] = parse_enum(kind, data[name], name, code)
        for name in ("name", "daily_budget_fen", "holiday_uplift", "quick_cast", "quick_cast_coefficient"):
            if name in data:
                values[name] = data[name]
        for name in ("start_date", "end_date"):
            if name in data:
                values[name] = _day(data[name], name)
        if "dayparts" in data:
            values["dayparts"] = tuple(data["dayparts"]) if data["dayparts"] is not None else (ALL_HOURS,) * 7
        if base is not None:
            return replace(base, **values)
        missing = [f for f in ("name", "objective", "placement", "bidding", "optimize_for") if f not in values]
        if missing:
            raise broken(code, missing[0], f"a campaign needs {', '.join(missing)}", "a value")
        return cls(**values)


@dataclass(frozen=True)
class KeywordBehaviour:
    """People who searched, engaged with or read notes on keywords within the last ``days``."""

    keywords: tuple[str, ...]
    actions: tuple[str, ...]
    days: int

    def __post_init__(self) -> None:
        if not self.keywords or not self.actions:
            raise broken("invalid_targeting", "keyword_behaviour", "keyword behaviour needs keywords and actions",
                         {"actions": list(KEYWORD_ACTIONS)})
        if self.days not in KEYWORD_DAYS:
            raise broken("invalid_targeting", "keyword_behaviour.days", f"{self.days} is not a look-back",
                         list(KEYWORD_DAYS))


@dataclass(frozen=True)
class CreatorFans:
    """People who saw or read chosen creators' notes within ``days``, from ad or organic traffic."""

    creator_ids: tuple[int, ...]
    days: int = 30
    traffic: str = "all"

    def __post_init__(self) -> None:
        if not self.creator_ids:
            raise broken("invalid_targeting", "creator_fans.creator_ids", "name at least one creator", ">= 1")
        if self.days not in FAN_DAYS:
            raise broken("invalid_targeting", "creator_fans.days", f"{self.days} is not a look-back", list(FAN_DAYS))
        if self.traffic not in FAN_TRAFFIC:
            raise broken("invalid_targeting", "creator_fans.traffic", f"{self.traffic!r} is not a traffic source",
                         list(FAN_TRAFFIC))


@dataclass(frozen=True)
class Targeting:
    type: TargetingType = TargetingType.ALL
    genders: tuple[str, ...] = ()
    ages: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()         # content category codes
    keyword_behaviour: KeywordBehaviour | None = None
    audience_packages: tuple[int, ...] = ()  # filled by the measurement slice
    expansion: bool = False                 # intelligent expansion beyond the rules
    creator_fans: CreatorFans | None = None

    ADVANCED: ClassVar[tuple[str, ...]] = (
        "genders", "ages", "devices", "cities", "interests", "keyword_behaviour", "audience_packages", "creator_fans")

    def __post_init__(self) -> None:
        narrowed = [f for f in self.ADVANCED if getattr(self, f)]
        if narrowed and self.type != TargetingType.ADVANCED:
            raise broken("invalid_targeting", narrowed[0], f"{narrowed[0]} needs targeting type advanced",
                         ["advanced"])

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> Targeting:
        if not data:
            return cls()
        code = "invalid_targeting"
        unknown = sorted(set(data) - {"type", *cls.ADVANCED, "expansion"})
        if unknown:
            raise broken(code, unknown[0], f"{unknown[0]} is not a targeting field",
                         ["type", *cls.ADVANCED, "expansion"])
        kb, fans = data.get("keyword_behaviour"), data.get("creator_fans")
        if kb is not None and not isinstance(kb, Mapping):
            raise broken(code, "keyword_behaviour", "keyword_behaviour is an object", {"keywords": [], "actions": [],
                                                                                       "days": 7})
        if fans is not None and not isinstance(fans, Mapping):
            raise broken(code, "creator_fans", "creator_fans is an object", {"creator_ids": [], "days": 30})
        return cls(
            type=parse_enum(TargetingType, data.get("type", "all"), "type", code),
            genders=_strings(data.get("genders", []), "genders", code, GENDERS),
            ages=_strings(data.get("ages", []), "ages", code, AGE_BUCKETS),
            devices=_strings(data.get("devices", []), "devices", code, DEVICES),
            cities=_strings(data.get("cities", []), "cities", code, limit=MAX_CITIES),
            interests=_strings(data.get("interests", []), "interests", code, tuple(CODE)),
            keyword_behaviour=None if kb is None else KeywordBehaviour(
                _keywords(kb.get("keywords", []), "keyword_behaviour.keywords", code),
                _strings(kb.get("actions", []), "keyword_behaviour.actions", code, KEYWORD_ACTIONS),
                kb.get("days", 0)),
            audience_packages=_ids(data.get("audience_packages", []), "audience_packages", code, MAX_PACKAGES),
            expansion=bool(data.get("expansion", False)),
            creator_fans=None if fans is None else CreatorFans(
                _ids(fans.get("creator_ids", []), "creator_fans.creator_ids", code, MAX_FAN_CREATORS),
                fans.get("days", 30), fans.get("traffic", "all")),
        )


def _keywords(value: object, field: str, code: str, limit: int = MAX_KEYWORDS) -> tuple[str, ...]:
    """Keywords normalized as search normalizes queries, so 'ＹＳＬ 口红' and 'ysl 口红' are one keyword."""
    words = _strings(value, field, code, limit=limit)
    out = tuple(dict.fromkeys(normalize(w) for w in words))
    if any(not 1 <= len(w) <= MAX_KEYWORD_CHARS for w in out):
        raise broken(code, field, f"a keyword is 1 to {MAX_KEYWORD_CHARS} characters", f"1..{MAX_KEYWORD_CHARS}")
    return out


@dataclass(frozen=True)
class Keyword:
    keyword: str
    match: Match = Match.PHRASE
    bid_fen: int | None = None  # None: the unit's bid

    @classmethod
    def parse(cls, data: object) -> Keyword:
        if not isinstance(data, Mapping) or "keyword" not in data:
            raise broken("invalid_keyword", "keywords", "a keyword is an object", {"keyword": "…", "match": "phrase",
                                                                                   "bid_fen": None})
        word = _keywords([data["keyword"]], "keyword", "invalid_keyword")[0]
        bid = data.get("bid_fen")
        if bid is not None and (not isinstance(bid, int) or not MIN_BID_FEN <= bid <= MAX_BID_FEN):
            raise broken("invalid_bid", "bid_fen", f"a keyword bid is {MIN_BID_FEN} to {MAX_BID_FEN} fen",
                         f"{MIN_BID_FEN}..{MAX_BID_FEN}")
        return cls(word, parse_enum(Match, data.get("match", "phrase"), "match", "invalid_keyword"), bid)


@dataclass(frozen=True)
class Unit:
    name: str
    note_ids: tuple[int, ...]
    bid_fen: int | None = None          # manual bidding: the bid per result
    target_cost_fen: int | None = None  # auto bidding: the cost to steer to (cost control) or never pass (cap)
    targeting: Targeting = field(default_factory=Targeting)
    keywords: tuple[Keyword, ...] = ()
    negative_keywords: tuple[str, ...] = ()
    product_id: int | None = None       # SPU seeding: every note links this product

    def __post_init__(self) -> None:
        if not 1 <= len(self.name.strip()) <= 100:
            raise broken("invalid_unit", "name", "a unit name is 1 to 100 characters", "1..100 characters")
        least = MIN_NOTES_PER_SPU_UNIT if self.product_id is not None else 1
        if not least <= len(self.note_ids) <= MAX_NOTES_PER_UNIT:
            raise broken("invalid_unit", "note_ids", f"{'an SPU' if least > 1 else 'a'} unit promotes {least} to "
                         f"{MAX_NOTES_PER_UNIT} notes", f"{least}..{MAX_NOTES_PER_UNIT} note ids")
        if len({(k.keyword, k.match) for k in self.keywords}) != len(self.keywords):
            raise broken("invalid_keyword", "keywords", "a keyword appears twice with the same match type",
                         "distinct (keyword, match)")

    def check(self, campaign: Campaign) -> None:
        """The rules that depend on the campaign: how it bids, and where it serves."""
        for name, value in (("bid_fen", self.bid_fen), ("target_cost_fen", self.target_cost_fen)):
            if value is not None and not MIN_BID_FEN <= value <= MAX_BID_FEN:
                raise broken("invalid_bid", name, f"{name} is {MIN_BID_FEN} to {MAX_BID_FEN} fen",
                             f"{MIN_BID_FEN}..{MAX_BID_FEN}")
        if campaign.bidding == Bidding.MANUAL:
            if self.bid_fen is None or self.target_cost_fen is not None:
                raise broken("invalid_bid", "bid_fen", "manual bidding takes a bid_fen and no target cost",
                              f"bid_fen {MIN_BID_FEN}..{MAX_BID_FEN}")
        else:
            if self.bid_fen is not None or any(k.bid_fen is not None for k in self.keywords):
                raise broken("invalid_bid", "bid_fen", f"{campaign.bidding} sets bids itself: give target_cost_fen",
                             "null")
            if campaign.bidding == Bidding.COST_CAP and self.target_cost_fen is None:
                raise broken("invalid_bid", "target_cost_fen", "a cost cap needs the cap, as target_cost_fen",
                              f"{MIN_BID_FEN}..{MAX_BID_FEN}")
        if (self.keywords or self.negative_keywords) and not campaign.serves_search:
            raise broken("invalid_keyword", "keywords", "keywords belong to units that serve in search",
                         "search or all-site placement, or quick-cast")
        if campaign.placement == Placement.SEARCH and not self.keywords:
            raise broken("invalid_keyword", "keywords", "a search unit needs at least one keyword", ">= 1 keyword")

    @classmethod
    def parse(cls, data: Mapping[str, Any], base: Unit | None = None) -> Unit:
        values: dict[str, Any] = {k: data[k] for k in ("name", "bid_fen", "target_cost_fen") if k in data}
        if "product_id" in data:
            product = data["product_id"]
            if product is not None and (isinstance(product, bool) or not isinstance(product, int) or product < 1):
                raise broken("invalid_unit", "product_id", "a product id is a positive whole number", "an id or null")
            values["product_id"] = product
        if "note_ids" in data:
            values["note_ids"] = _ids(data["note_ids"], "note_ids", "invalid_unit", MAX_NOTES_PER_UNIT + 1)
        if "targeting" in data:
            values["targeting"] = Targeting.parse(data["targeting"])
        if "keywords" in data:
            if not isinstance(data["keywords"], list) or len(data["keywords"]) > MAX_KEYWORDS:
                raise broken("invalid_keyword", "keywords", f"at most {MAX_KEYWORDS} keywords", f"<= {MAX_KEYWORDS}")
            values["keywords"] = tuple(Keyword.parse(k) for k in data["keywords"])
        if "negative_keywords" in data:
            values["negative_keywords"] = _keywords(data["negative_keywords"], "negative_keywords", "invalid_keyword",
                                                    MAX_NEGATIVE_KEYWORDS)
        if base is not None:
            return replace(base, **values)
        missing = [f for f in ("name", "note_ids") if f not in values]
        if missing:
            raise broken("invalid_unit", missing[0], f"a unit needs {', '.join(missing)}", "a value")
        return cls(**values)


@dataclass(frozen=True)
class CreativeSpec:
    """A note plus one component; each component kind names what it needs."""

    note_id: int
    component: Component
    url: str | None = None        # landing_page
    store_id: int | None = None   # store_poi: the store account the POI belongs to
    text: str | None = None       # search_component: its call to action
    app_id: str | None = None     # mini_program

    NEEDS: ClassVar[dict[Component, str]] = {
        Component.LANDING_PAGE: "url", Component.STORE_POI: "store_id", Component.SEARCH_COMPONENT: "text",
        Component.MINI_PROGRAM: "app_id"}

    def __post_init__(self) -> None:
        need = self.NEEDS.get(self.component)
        given = [f for f in ("url", "store_id", "text", "app_id") if getattr(self, f) is not None]
        if need and need not in given:
            raise broken("invalid_creative", need, f"a {self.component} component needs {need}", "a value")
        if extra := [f for f in given if f != need]:
            raise broken("invalid_creative", extra[0], f"a {self.component} component takes no {extra[0]}", "null")
        if self.url is not None and not _URL.match(self.url):
            raise broken("invalid_creative", "url", "a landing page is an http(s) URL", "https://…")
        if self.text is not None and not 1 <= len(self.text) <= 20:
            raise broken("invalid_creative", "text", "a search component's text is 1 to 20 characters", "1..20")

    @classmethod
    def parse(cls, note_id: int, component: Mapping[str, Any]) -> CreativeSpec:
        kind = parse_enum(Component, component.get("kind"), "component.kind", "invalid_creative")
        unknown = sorted(set(component) - {"kind", "url", "store_id", "text", "app_id"})
        if unknown:
            raise broken("invalid_creative", unknown[0], f"{unknown[0]} is not a component field",
                         ["kind", "url", "store_id", "text", "app_id"])
        return cls(note_id, kind, component.get("url"), component.get("store_id"), component.get("text"),
                   component.get("app_id"))
