"""How long a frame of ``render_mode="rgb_array"`` takes, per environment.

``python -m opsgym.train.frame_timing [--steps N]`` steps each registered id with random
(valid) actions and times ``render()`` after every step, in elapsed and in this
process's CPU time (steadier on a shared machine). Gymnasium's ``RecordVideo`` renders
every step, so a frame should stay well under the 20 ms budget a 50-step/s recording has.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

from opsgym.envs import opsgym_ids
from opsgym.train.table import markdown_table

BUDGET_MS = 20.0


def frame_times(env_id: str, steps: int, seed: int = 0) -> tuple[float, float]:
    """Mean milliseconds per frame over ``steps`` steps of ``env_id``: elapsed, CPU."""
    env = gym.make(env_id, render_mode="rgb_array")
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    env.render()  # the first frame loads Pillow and rasterizes the glyphs
    elapsed = cpu = 0.0
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(
            env.action_space.sample(mask=info.get("action_mask"))
        )
        if terminated or truncated:
            _, info = env.reset()
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        env.render()
        elapsed += time.perf_counter() - wall_start
        cpu += time.process_time() - cpu_start
    env.close()
    return 1000.0 * elapsed / steps, 1000.0 * cpu / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="frames timed per id")
    args = parser.parse_args()
    rows = []
    for env_id in opsgym_ids():
        wall, cpu = frame_times(env_id, args.steps)
        rows.append([env_id, f"{wall:.2f}", f"{cpu:.2f}", f"{cpu / BUDGET_MS:.2f}"])
    print(f"milliseconds per frame (budget {BUDGET_MS:g}), mean of {args.steps} frames\n")
    print(markdown_table(["env", "ms elapsed", "ms CPU", "CPU / budget"], rows))


if __name__ == "__main__":
    main()
