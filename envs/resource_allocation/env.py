"""The Gymnasium environment around :mod:`opsgym.envs.resource_allocation.simulator`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.drift import drift_start
from opsgym.envs.core.masks import info_mask
from opsgym.envs.resource_allocation import workloads
from opsgym.envs.resource_allocation.config import ResourceAllocationConfig
from opsgym.envs.resource_allocation.simulator import (
    ClusterSimulator,
    JobSequence,
    episode_metrics,
)


class ResourceAllocationEnv(ConfiguredEnv[np.ndarray, int], config_class=ResourceAllocationConfig):
    """Pack jobs with multi-resource demands onto a cluster to minimize their slowdown.

    ## Description

    The DeepRM setting (Mao et al., "Resource Management with Deep Reinforcement
    Learning", HotNets 2016). A cluster holds R resource types (default CPU and memory,
    10 units each). Jobs arrive over discrete time steps; each needs a fixed number of
    units of every resource for a fixed number of steps, and once started runs to the
    end. Waiting jobs queue in arrival order: the first M are visible in slots (slot 0 is
    the oldest), the rest wait in a backlog of which only the count is seen. At each
    decision the scheduler starts one visible job now, or lets time advance one step;
    several jobs can thus start within one step. A job's slowdown is its completion time
    (finish minus arrival) over its duration, at least 1.

    By default jobs follow the paper's synthetic workload (Bernoulli arrivals, 80% short
    jobs of 1-3 steps, 20% long of 10-15, one dominant resource per job) at a given load;
    with `workload="trace"` each episode replays `n_jobs` consecutive jobs of a CSV trace
    (`arrival,duration,<one demand column per resource>`, integers in cluster units),
    starting at a random job. With `surge_load`, the middle third of the synthetic jobs
    arrive at a different load (a burst, or a lull), without notice: the
    non-stationarity a learned scheduler must absorb. With `drift="mix"` the job mix
    shifts instead: from a job drawn in the middle half of the episode, the share of long
    jobs moves from 20% to `long_fraction_after`, at once (`drift_ramp=0`) or linearly
    over `drift_ramp` jobs, while the arrival probability is scaled (up to 1) so that the
    offered load stays the same.

    By default no job is ever lost: jobs beyond the backlog wait unseen (the backlog fill
    saturates at 1). With `drop_full_backlog=True` a job that arrives to `n_slots +
    backlog_size` waiting jobs is dropped, as in DeepRM: it never enters the system, and
    `info["jobs_dropped"]` counts it. Jobs start only now, never reserved for a later step
    as DeepRM's simulator allows.

    The `deeprm-p0.3`, `deeprm-p0.5` and `deeprm-p0.7` scenarios are DeepRM's published
    configuration (its paper and its code, github.com/hongzimao/deeprm): 2 resources of
    10 units, a 20-step grid, 10 visible slots, a backlog of 60 beyond which arrivals are
    dropped, and Bernoulli arrivals with probability p = 0.3, 0.5 or 0.7 per step
    (offered loads 0.55, 0.92 and 1.29). DeepRM cuts an episode's arrivals after a
    fixed number of steps; here after `n_jobs` = 100 jobs, the same process.

    ## Action Space

    `Discrete(M + 1)`: `i < M` starts the job in slot i now; `M` advances time one step.
    An invalid choice (an empty slot, or a job that does not fit in the free resources
    now) advances time, as in DeepRM, and sets `info["invalid_action"]`. The valid actions
    are in `info["action_mask"]` (an int8 array of length M + 1, 1 for valid, the form
    Gymnasium's `action_space.sample(mask=...)` takes) and `action_masks()` (the same as
    booleans, the form sb3-contrib's MaskablePPO reads); advancing is always valid.

    ## Observation Space

    A float32 `Box` in [0, 1] of shape `(R * H + M * (R + 2) + 2,)`, H the horizon:

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | r * H + t | units of resource r held t steps from now by started jobs / capacity | 0 | 1 |
    | R * H + i * (R + 2) + r | slot i's demand of resource r / capacity (0 if empty) | 0 | 1 |
    | R * H + i * (R + 2) + R | slot i's duration / H (0 if empty) | 0 | 1 |
    | R * H + i * (R + 2) + R + 1 | slot i's waiting time w [steps], as w / (w + H) | 0 | 1 |
    | R * H + M * (R + 2) | jobs in the backlog / `backlog_size`, capped at 1 | 0 | 1 |
    | R * H + M * (R + 2) + 1 | steps s since the last arrival, as s / (s + H) | 0 | 1 |

    ## Rewards

    Placing a job earns 0. Advancing time earns minus the sum of 1 / duration over the
    jobs in the system (arrived, not finished) during the step, DeepRM's reward: a job
    of duration d in the system for c steps then contributes -c / d in all, so the
    return is minus the total slowdown of the episode's jobs (at truncation, unfinished
    jobs count with their time in system so far). A dropped job costs nothing, as in
    DeepRM: the mean slowdown must be read next to the jobs dropped.

    ## Starting State

    The cluster is empty and the first job arrives at step 0. The jobs (or the trace
    window) are drawn from the seed given to `reset`.

    The ceiling: every job's slowdown is at least 1, so no policy has a mean slowdown
    below 1, reached when every job starts on arrival (for instance at a low load).
    `opsgym.envs.resource_allocation.episode_slowdown_bound(env)` gives a tighter bound
    for the episode being run, from the jobs that can never run together (see
    `oracle.py`); it counts every job, so it bounds the schedules that drop none.

    ## Episode End

    1. Termination: every job of the episode has finished or been dropped.
    2. Truncation: `time_limit` steps have passed since the last arrival.

    On the last step `info["episode_metrics"]` holds the mean, p50, p95 and max slowdown,
    the mean and p95 completion time [steps] (jobs unfinished at truncation count with
    their time in system so far, a lower bound), the utilization of each resource and their
    mean (the fraction of its unit-steps in use from step 0 to the end), the number
    of unfinished jobs and of dropped jobs (which the slowdowns leave out). Every step's
    `info` carries the running mean slowdown and completion time of finished jobs, the
    utilization so far and the jobs dropped so far.

    The steps of an episode are bounded: at most `n_jobs` placements plus the steps to
    `time_limit` after the latest arrival the workload can draw.

    {ARGUMENTS}

    {VECTOR_ENV}

    It takes every argument (surge, job-mix drift, traces); its infos carry `utilization`
    as an (N, R) array.

    ## Version History

    * v0: Initial release. `drift`, `long_fraction_after` and `drift_ramp` added later;
      their defaults keep the dynamics. `info["action_mask"]` is now int8 (it was bool),
      as Gymnasium's masked sampling needs: index with `mask.astype(bool)`.
      `job_probability` and `drop_full_backlog` added for the DeepRM configuration, with
      `info["jobs_dropped"]` and the `dropped_jobs` episode metric (0 unless jobs are
      dropped); their defaults keep the dynamics.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/ResourceAllocation-v0"
    example = {"load": 1.5}

    def _set_up(self, config: ResourceAllocationConfig) -> None:
        # units / capacity by table look-up, cheaper than a division per grid cell
        self._fractions = [[units / c for units in range(c + 1)] for c in config.capacities]
        self._empty_slot = [0.0] * (config.n_resources + 2)
        self._job_features: dict[int, list[float]] = {}  # per job index, this episode
        self._trace = JobSequence([], [], [], config.n_resources)
        if config.workload == "trace":
            self._trace = workloads.read_job_trace(
                config.trace_path, config.capacities, config.horizon
            )
        self.simulator = ClusterSimulator(config.capacities, config.horizon, config.queue_limit)

    @staticmethod
    def spaces(config: ResourceAllocationConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        r, m = config.n_resources, config.n_slots
        size = r * config.horizon + m * (r + 2) + 2
        return spaces.Discrete(m + 1), spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)

    def draw_episode(self, rng: np.random.Generator) -> tuple[int, np.ndarray | None]:
        """An episode's random draws, in the order ``reset`` makes them.

        Returns:
            For the synthetic workload, the first job of the job-mix drift (-1 without
            one) and the jobs' uniform numbers; for a trace, the window's first job and
            None.
        """
        config = self.config
        if config.workload == "trace":
            return int(rng.integers(max(1, len(self._trace) - config.n_jobs + 1))), None
        start = drift_start(rng, config.n_jobs) if config.drift == "mix" else -1
        return start, workloads.draw_uniforms(rng, config.n_jobs, config.n_resources)

    def episode_jobs(self, start: int, uniforms: np.ndarray | None):
        """The jobs of the episode drawn by :meth:`draw_episode`."""
        if uniforms is None:
            return workloads.window(self._trace, start, self.config.n_jobs)
        return workloads.SyntheticJobs(
            uniforms,
            self.config.arrival_probability,
            self.config.n_resources,
            self.config.surge_probability,
            self.config.mix_shift(start),
        )

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        self.simulator.reset(self.episode_jobs(*self.draw_episode(self.np_random)))
        self._job_features.clear()
        return self._observation(), self._info(False)

    def _advance(self, slot: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        config = self.config
        sim = self.simulator
        invalid = False
        reward = 0.0
        if slot < config.n_slots and slot < len(sim.waiting) and sim.fits(sim.waiting[slot]):
            sim.place(slot)
        else:
            invalid = slot < config.n_slots
            reward = -sim.advance()
        terminated = sim.done
        truncated = (
            not terminated
            and sim.arrivals_left == 0
            and sim.now >= sim.last_arrival + config.time_limit
        )
        info = self._info(invalid)
        return self._observation(), reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """Which actions are valid now: slots holding a job that fits, and advancing."""
        sim, n_slots = self.simulator, self.config.n_slots
        fits = [sim.fits(job) for job in sim.waiting[:n_slots]]
        fits.extend([False] * (n_slots - len(fits)))
        fits.append(True)
        return np.array(fits, dtype=bool)

    def observation_fields(self) -> dict[str, slice]:
        """Where each feature sits in the observation, by name.

        ``occupancy`` is R rows of H; ``slots`` is M rows of (R demands, duration,
        waiting time); both are flat in the observation.
        """
        grid = self.config.n_resources * self.config.horizon
        slots = grid + self.config.n_slots * (self.config.n_resources + 2)
        return {
            "occupancy": slice(0, grid),
            "slots": slice(grid, slots),
            "backlog": slice(slots, slots + 1),
            "since_arrival": slice(slots + 1, slots + 2),
        }

    def slowdowns(self) -> list[float]:
        """Each arrived job's slowdown; unfinished ones with their time in system so far."""
        sim = self.simulator
        now = sim.now
        values = [job.slowdown for job in sim.finished]
        for job in sim.running + sim.waiting:
            values.append((now - job.arrival) / job.duration)
        return values

    def utilization(self) -> list[float]:
        """The fraction of each resource's unit-steps in use from step 0 to now."""
        sim = self.simulator
        if sim.now == 0:
            return [0.0] * self.config.n_resources
        return [busy / (c * sim.now) for busy, c in zip(sim.busy_units, self.config.capacities)]

    def episode_metrics(self) -> dict[str, float]:
        """Slowdown, completion time [steps] and utilization of the episode so far."""
        sim = self.simulator
        slowdowns = np.array(self.slowdowns())
        completion = np.array(
            [job.completion - job.arrival for job in sim.finished]
            + [sim.now - job.arrival for job in sim.running + sim.waiting],
            dtype=float,
        )
        return episode_metrics(
            slowdowns,
            completion,
            self.utilization(),
            sim.n_jobs - len(sim.finished) - sim.dropped,
            sim.dropped,
        )

    def _text_frame(self) -> str:
        sim = self.simulator
        lines = [
            f"t={sim.now} waiting {len(sim.waiting)} running {len(sim.running)} "
            f"finished {len(sim.finished)}/{sim.n_jobs}"
        ]
        for r, row in enumerate(sim.occupancy):
            lines.append(f"  resource {r}: " + " ".join(f"{u:2d}" for u in row))
        for i, job in enumerate(sim.waiting[: self.config.n_slots]):
            lines.append(f"  slot {i}: demands {job.demands} duration {job.duration}")
        return "\n".join(lines)

    def _info(self, invalid: bool) -> dict[str, Any]:
        sim = self.simulator
        finished = len(sim.finished)
        if finished:
            mean_slowdown = sim.total_slowdown / finished
            mean_completion = sim.total_completion_time / finished
        else:
            mean_slowdown = mean_completion = 0.0
        return {
            "action_mask": info_mask(self.action_masks()),
            "invalid_action": invalid,
            "time": sim.now,
            "jobs_waiting": len(sim.waiting),
            "jobs_finished": finished,
            "mean_slowdown": mean_slowdown,
            "mean_completion_time": mean_completion,
            "utilization": self.utilization(),
            "jobs_dropped": sim.dropped,
        }

    def _observation(self) -> np.ndarray:
        sim, config = self.simulator, self.config
        horizon = config.horizon
        values: list[float] = []
        for row, fractions in zip(sim.occupancy, self._fractions):
            values.extend(map(fractions.__getitem__, row))
        now = sim.now
        visible = sim.waiting[: config.n_slots]
        features = self._job_features
        for job in visible:
            static = features.get(job.index)
            if static is None:
                static = features[job.index] = self._static_features(job)
            values.extend(static)
            wait = now - job.arrival
            values.append(wait / (wait + horizon))
        values.extend(self._empty_slot * (config.n_slots - len(visible)))
        backlog = len(sim.waiting) - len(visible)
        values.append(min(backlog, config.backlog_size) / config.backlog_size)
        since = now - sim.last_arrival
        values.append(since / (since + horizon))
        return np.array(values, dtype=np.float32)

    def _static_features(self, job) -> list[float]:
        """A job's demands as fractions of capacity, then its duration over the horizon."""
        fractions = [d / c for d, c in zip(job.demands, self.config.capacities)]
        fractions.append(job.duration / self.config.horizon)
        return fractions
