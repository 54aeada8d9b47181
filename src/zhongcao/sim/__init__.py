"""The simulator: a seeded world of consumers, creators and a KOB brand, created in State through the
slices' own actions, and scenarios that describe it. It owns only what consumers and creators do; every
platform rule is a call into the engine."""

from zhongcao.sim.calibration import Metric
from zhongcao.sim.calibration import population as population_calibration
from zhongcao.sim.calibration import run as run_calibration
from zhongcao.sim.creators import Creators
from zhongcao.sim.population import CITIES, Consumers
from zhongcao.sim.response import parse_scales, response_curve
from zhongcao.sim.run import CHANNELS, TRUTH_TABLE, Simulation, Summary, Switch, incremental, whole
from zhongcao.sim.scenario import (
    BUDGET_SCALE,
    DEFAULT,
    Brand,
    CampaignPlan,
    CreatorProgramme,
    Product,
    Scenario,
    load,
    parse,
    shipped,
)
from zhongcao.sim.world import BrandSetup, StoreSetup, World, build, start_of, streams

__all__ = [
    "BUDGET_SCALE",
    "CHANNELS",
    "CITIES",
    "DEFAULT",
    "TRUTH_TABLE",
    "Brand",
    "BrandSetup",
    "CampaignPlan",
    "Consumers",
    "CreatorProgramme",
    "Creators",
    "Metric",
    "Product",
    "Scenario",
    "Simulation",
    "StoreSetup",
    "Summary",
    "Switch",
    "World",
    "build",
    "incremental",
    "load",
    "parse",
    "parse_scales",
    "population_calibration",
    "response_curve",
    "run_calibration",
    "shipped",
    "start_of",
    "streams",
    "whole",
]
