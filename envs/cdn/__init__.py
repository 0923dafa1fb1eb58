"""opsgym/CDN: pre-positioning content at the edges of a CDN whose origin link is limited."""

from opsgym.envs.cdn.config import CDNConfig
from opsgym.envs.cdn.env import CDNEnv
from opsgym.envs.cdn.oracle import LookaheadOracle, reward_bound

ENV = CDNEnv

SCENARIOS = {
    "drift": (
        "a new viral object every 10 minutes: what to pre-position keeps moving",
        {"viral_per_hour": 6.0},
    ),
    "flash-crowd": (
        "a flash crowd every 2 hours on average: 5 new clips at every edge at once",
        {"flash_crowds_per_day": 12.0},
    ),
    "pull-everything": (
        "edges cache every object on a miss: pre-positioning can only save first misses",
        {"max_pull_mb": 1000.0},
    ),
}

# Federated nodes: CDNs of their own, each with its regions' clocks, traffic and tastes.
NODE_VARIATIONS = [
    {},
    {  # the Americas: four time zones, strongly regional tastes
        "utc_offsets": [-8.0, -6.0, -5.0, -3.0],
        "peak_rps": [4.0, 3.0, 5.0, 3.0],
        "regional_share": 0.5,
    },
    {  # Asia-Pacific: more viral content, spreading faster
        "utc_offsets": [5.5, 8.0, 9.0, 10.0],
        "peak_rps": [5.0, 5.0, 3.0, 2.0],
        "viral_per_hour": 4.0,
        "spread_delay_minutes": 30.0,
    },
    {  # Europe: neighbouring time zones, Zipf popularity
        "utc_offsets": [0.0, 1.0, 2.0, 3.0],
        "peak_rps": [4.0, 4.0, 3.0, 2.0],
        "popularity": "zipf",
        "zipf_exponent": 0.7,
    },
]

__all__ = ["CDNConfig", "CDNEnv", "LookaheadOracle", "reward_bound"]
