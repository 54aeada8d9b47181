"""Settings come from the environment so that one binary serves a laptop and a fleet."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _days(first: str, n: int) -> list[date]:
    return [date.fromisoformat(first) + timedelta(days=i) for i in range(n)]


# China's statutory holidays in 2026, as the State Council announced them [C]; later years go in by config.
HOLIDAYS_2026 = [*_days("2026-01-01", 3), *_days("2026-02-15", 9), *_days("2026-04-04", 3), *_days("2026-05-01", 5),
                 *_days("2026-06-19", 3), *_days("2026-09-25", 3), *_days("2026-10-01", 7)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHONGCAO_", extra="ignore")

    home: Path = Field(default=Path("./.zhongcao"), description="Folder for the embedded SQLite and DuckDB files.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is the SQLite file state.db in home (WAL mode)."
    )
    events_path: Path | None = Field(
        default=None, description="The DuckDB event store; default is events.duckdb in home."
    )
    admin_token: str | None = Field(
        default=None, description="A platform-operator bearer token accepted by the server, for bootstrapping."
    )
    kos_limit: int = Field(default=30, ge=0, description="KOS (employee) accounts a brand may bind [C/U].")
    kob_max_levels: int = Field(default=4, ge=2, description="Levels in a KOB chain, brand included.")
    budget_day_utc_offset_hours: int = Field(
        default=8, ge=-12, le=14, description="Daily budgets and caps reset at midnight in this offset (Beijing)."
    )
    lease_settle_grace_seconds: int = Field(
        default=60, ge=0, description="Commits are accepted this long after a lease expires, then it settles."
    )
    pools: dict[str, Any] = Field(
        default_factory=dict,
        description='Feed pool policy overrides as JSON, e.g. {"quotas": [100, 500, 2000], "read_gate": 0.1}; '
        "keys are PoolSpec's (content/distribution.py).",
    )
    holidays: list[date] = Field(
        default_factory=lambda: list(HOLIDAYS_2026),
        description="Budget days that count as holidays, as a JSON list of dates: campaigns with holiday uplift "
        "spend more on them.",
    )
    holiday_uplift_pct: int = Field(
        default=20, ge=0, le=500, description="How far holiday uplift raises a daily budget on a holiday, in % [U]."
    )
    feed_first_ad: int = Field(default=4, ge=1, description="Position of the first ad in a feed page.")
    feed_ad_every: int = Field(default=10, ge=1, description="Feed ads stand every this many positions after.")
    content_sync_seconds: float = Field(
        default=0.25, gt=0, description="How often a server applies notes written by other processes."
    )
    events_flush_seconds: float = Field(
        default=0.05, gt=0, description="How often a server writes the events its requests recorded (feed and "
        "search impressions) to the outbox, as one batch; a crash loses at most this interval's events."
    )
    serve_switch_interval_ms: float = Field(
        default=0.5, gt=0, le=100, description="The GIL switch interval of a serving process: how long a "
        "background thread may keep the GIL while the event loop waits to answer a request (Python's default is 5)."
    )
    ads_sync_seconds: float = Field(
        default=1.0, gt=0, description="How often a server reloads changed ad plans, learns from ad events and "
        "renews its budget leases."
    )
    ingest_in_server: bool = Field(
        default=True, description="Whether a server process also ingests the event outbox on a thread; "
        "`zhongcao serve` runs `zhongcao ingest` as a process of its own and turns this off in its workers."
    )
    events_ingest_seconds: float = Field(
        default=1.0, gt=0, description="How often the process holding the event store ingests the outbox."
    )
    hot_queries_seconds: float = Field(
        default=60.0, gt=0, description="How often the process holding the event store recomputes hot queries."
    )
    reports_seconds: float = Field(
        default=60.0, gt=0, description="How often the process holding the event store refreshes today's ad reports."
    )
    audiences_seconds: float = Field(
        default=300.0, gt=0, description="How often the process holding the event store recomputes the audiences "
        "of keyword-behaviour and creator-fan targeting."
    )
    reports_settle_seconds: float = Field(
        default=3600.0, gt=0, description="How often the process holding the event store recomputes the last "
        "31 days of ad reports, as results within their attribution windows (up to 30 days) arrive."
    )
    lease_sweep_seconds: float = Field(default=5.0, gt=0, description="How often the server settles expired leases.")
    creator_stats_seconds: float = Field(
        default=600.0, gt=0, description="How often the process holding the event store folds note traffic and "
        "recomputes the creator snapshot that marketplace discovery ranks."
    )
    creator_stats_lag_seconds: float = Field(
        default=60.0, ge=0, description="How old an event must be before the creator analytics fold it: outbox "
        "batches from other processes land a little after their events were minted."
    )
    collaboration_sweep_seconds: float = Field(
        default=60.0, gt=0, description="How often the server applies collaboration deadlines (expiry, review "
        "lapse, settlement after the evaluation window)."
    )
    shop_min_followers: int = Field(
        default=1_000, ge=0,
        description="Followers an account needs to open a shop; the field quotes 1,000–2,000 [C/U]."
    )
    order_pay_minutes: int = Field(
        default=30, ge=1, description="An unpaid order is cancelled this long after it was created, and its stock "
        "returns [U]."
    )
    refund_days: int = Field(default=7, ge=0, description="A paid order can be refunded this many days after payment "
                             "or delivery (7-day no-reason returns) [C].")
    dm_contact_rule: Literal["refuse", "mask"] = Field(
        default="refuse", description="What a DM carrying a phone number, WeChat id or QR link gets: refused "
        "(422 contact_info_not_allowed) or masked. Contact details travel only on lead cards."
    )
    webhook_max_attempts: int = Field(default=8, ge=1, description="Deliveries of a lead webhook before it is "
                                      "marked failed.")
    webhook_backoff_seconds: float = Field(default=10.0, gt=0, description="The first retry's delay; each later "
                                           "one doubles it, with jitter, up to an hour.")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, description="How long a CRM has to answer a webhook.")
    webhook_allow_private: bool = Field(default=False, description="Whether lead webhooks may point at loopback, "
                                        "private or link-local addresses (on for tests and single-machine setups).")
    webhook_seconds: float = Field(default=1.0, gt=0, description="How often a server sends due lead webhooks.")
    visit_code_days: int = Field(default=30, ge=1, description="How long a store-visit code can be redeemed.")
    push_weekly_limit: int = Field(default=2, ge=0, description="Targeted pushes one consumer gets from one account "
                                   "in 7 days [U].")

    def resolved_events_path(self) -> Path:
        return self.events_path or self.home / "events.duckdb"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'state.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
