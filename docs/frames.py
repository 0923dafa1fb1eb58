"""Write one picture per environment for the documentation: images/frames/<Name>.png.

Run from anywhere: ``python docs/frames.py``. Each picture is the last frame of
``opsgym record --out <Name>.png`` with the reference policy and the step count below,
chosen so that the picture shows the environment at work (a full cache, queues, a
morning's load, an anomaly being caught). Every registered id needs an entry.
"""

from __future__ import annotations

from pathlib import Path

from opsgym.envs import opsgym_ids
from opsgym.train.record import record_episode

FOLDER = Path(__file__).parent / "images" / "frames"
# id -> (reference policy, steps before the picture)
FRAMES = {
    "opsgym/AnomalyDetection-v0": ("seasonal_zscore", 300),
    "opsgym/Autoscaling-v0": ("hpa", 1100),
    "opsgym/Caching-v0": ("lru", 300),
    "opsgym/CDN-v0": ("regional_top_k", 120),
    "opsgym/CachingPrefetch-v0": ("markov", 400),
    "opsgym/ConfigTuning-v0": ("hill_climbing", 120),
    "opsgym/IndexSelection-v0": ("greedy_advisor", 30),
    "opsgym/LoadBalancing-v0": ("power_of_two_choices", 300),
    "opsgym/ResourceAllocation-v0": ("tetris", 200),
    "opsgym/Routing-v1": ("least_utilized", 300),
    "opsgym/ServiceRouting-v0": ("least_loaded", 300),
}


def picture_name(env_id: str) -> str:
    """``opsgym/LoadBalancing-v0`` -> ``LoadBalancing``."""
    return env_id.split("/", 1)[1].rsplit("-v", 1)[0]


def write_pictures(folder: Path = FOLDER) -> list[Path]:
    """Write every registered environment's picture into ``folder``; return the paths."""
    missing = sorted(set(opsgym_ids()) - set(FRAMES))
    if missing:
        raise ValueError(f"no picture chosen for {missing}: add them to FRAMES")
    paths = []
    for env_id in opsgym_ids():
        policy, steps = FRAMES[env_id]
        path = folder / f"{picture_name(env_id)}.png"
        record_episode(env_id, policy, path, steps=steps)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_pictures():
        print(f"wrote {written}")
