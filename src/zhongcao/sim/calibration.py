"""Simulated aggregates against the field's reference ranges (SIMULATOR.md's table, sources in
FIELD_FACTS §6). A default that lands outside its range is a bug in the defaults, not in the report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.sim.population import Consumers

MIN_LAGGED_SALES = 100  # off-platform sales after a click before their T+7 share is judged


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    low: float
    high: float
    confidence: str  # C: confirmed in the sources, U: unconfirmed folklore

    @property
    def passed(self) -> bool:
        return self.low <= self.value <= self.high


def population(consumers: Consumers, rng: np.random.Generator) -> list[Metric]:
    """Who the consumers are, and how many of a day's active ones search (one simulated day's draw)."""
    searched = rng.poisson(consumers.search_rate) > 0
    return [
        Metric("users_under_30", round(float(np.mean(consumers.age < 30)), 4), 0.68, 0.75, "C"),
        Metric("users_in_tier_1_2_cities", round(float(np.mean(consumers.tier <= 2)), 4), 0.45, 0.55, "C"),
        Metric("daily_users_who_search", round(float(np.mean(searched)), 4), 0.55, 0.65, "C"),
    ]


def run(served: dict[str, int]) -> list[Metric]:
    """What a simulation's engine served and its consumers did, against the field's ranges."""
    def ratio(a: str, b: str, scale: float = 1.0) -> float:
        return round(served[a] / served[b] * scale, 4) if served.get(b) else float("nan")

    programme = [
        Metric("programme_cost_per_read_yuan", ratio("programme_spend_fen", "programme_reads", 1 / 100), 0.0, 1.0, "U"),
        Metric("programme_cost_per_engagement_yuan", ratio("programme_spend_fen", "programme_engagements", 1 / 100),
               0.0, 10.0, "U"),
    ] if served.get("programme_reads") else []  # a run with a creator programme whose notes were read
    # T+7: how many off-platform sales that followed a tracked click came more than a week after it. A run
    # shorter than a week or two has few or none, and a share of a handful says nothing.
    lagged = [
        Metric("offsite_sales_after_7_days", ratio("clicked_offsite_after_7_days", "clicked_offsite_conversions"),
               0.30, 0.50, "C"),
    ] if served.get("clicked_offsite_conversions", 0) >= MIN_LAGGED_SALES else []
    return [
        Metric("feed_ad_ctr", ratio("ad_clicks", "ad_impressions"), 0.01, 0.05, "U"),
        Metric("feed_ad_cpm_yuan", ratio("ad_charged_fen", "ad_impressions", 1000 / 100), 30.0, 100.0, "U"),
        Metric("ad_cpc_yuan", ratio("ad_charged_fen", "ad_clicks", 1 / 100), 0.5, 5.0, "U"),
        Metric("comment_like_ratio", ratio("comments", "likes"), 0.06, 0.10, "C"),
        Metric("note_engagement_per_read", ratio("interactions", "reads"), 0.08, 0.15, "U"),
        Metric("creator_engagement_rate", ratio("creator_note_interactions", "creator_note_reads"), 0.08, 0.15, "U"),
        Metric("brand_account_engagement_rate", ratio("brand_note_interactions", "brand_note_reads"), 0.01, 0.03,
               "U"),
        Metric("daily_active_users_who_search", ratio("searcher_days", "active_consumer_days"), 0.55, 0.65, "C"),
        *programme,
        *lagged,
    ]
