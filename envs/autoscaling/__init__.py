"""opsgym/Autoscaling: scaling a fleet to seasonal and real request load."""

from opsgym.envs.autoscaling.config import AutoscalingConfig
from opsgym.envs.autoscaling.env import AutoscalingEnv
from opsgym.envs.autoscaling.oracle import PerfectForesightOracle, optimal_plan
from opsgym.envs.autoscaling.simulator import Fleet, ServiceModel
from opsgym.envs.autoscaling.vector import AutoscalingVectorEnv

ENV = AutoscalingEnv
VECTOR_ENV = AutoscalingVectorEnv
SCENARIOS = {
    "nasa": (
        "replay of the NASA Kennedy Space Center web server's requests per minute (1995)",
        {"workload": "nasa"},
    ),
    "slow-boot": (
        "instances boot for 10 minutes: a rule that only reacts is ten minutes late",
        {"boot_steps": 10},
    ),
    "drift-level": (
        "the load jumps by half mid-episode (a launch), unannounced",
        {"drift": "level"},
    ),
    "drift-shape": (
        "the daily pattern runs three hours later from mid-episode on, unannounced",
        {"drift": "shape"},
    ),
    "drift-level-gradual": (
        "the load grows by half over six hours from mid-episode (users migrate in), unannounced",
        {"drift": "level", "drift_ramp": 360},
    ),
    "drift-shape-gradual": (
        "the daily pattern slides three hours later over six hours from mid-episode on",
        {"drift": "shape", "drift_ramp": 360},
    ),
    "adversary-trough": (
        "an adversary sends three 5-minute bursts of half the peak a night, where forecasts are low",
        {"attack": "trough"},
    ),
    "adversary-off-period": (
        "5-minute bursts of half the peak every 7 hours: a rhythm no daily forecast learns",
        {"attack": "off_period"},
    ),
    "week": (
        "a week of minutes: weekdays, the weekend and their transitions",
        {"episode_steps": 10_080},
    ),
}

# Federated nodes: sites in other time zones (the daily cycle shifted against the shared
# UTC clock), of different size and daily shape (peak, office-hours boost, lunch peak).
NODE_VARIATIONS = [
    {"utc_offset_hours": 0.0, "peak_rate": 1200.0},
    {"utc_offset_hours": -5.0, "peak_rate": 800.0, "business_boost": 0.2, "lunch_peak": 0.3},
    {"utc_offset_hours": 8.0, "peak_rate": 1600.0, "business_boost": 0.6, "lunch_peak": 0.05},
    {"utc_offset_hours": 1.0, "peak_rate": 1000.0, "daily_trough": 0.4, "weekend_factor": 0.8},
]

__all__ = [
    "AutoscalingConfig",
    "AutoscalingEnv",
    "Fleet",
    "PerfectForesightOracle",
    "ServiceModel",
    "optimal_plan",
]
