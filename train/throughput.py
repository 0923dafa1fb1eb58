"""Raw environment speed, as a ratio to Gymnasium's CartPole-v1 measured in the same run.

This machine's speed drifts from minute to minute, so absolute steps per second mean
little; the ratio to CartPole, measured interleaved in the same process, is what to
compare. Both environments go through ``gymnasium.make`` with its default wrappers, with
random actions drawn before the clock starts.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from opsgym.envs import make_kwargs
from opsgym.train.runner import make_env

REFERENCE_ID = "CartPole-v1"
# wall: elapsed time; cpu: this process's CPU time, which other processes on a shared
# machine disturb less
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


@dataclass
class Throughput:
    """Steps and resets per second of one environment."""

    steps_per_second: float
    resets_per_second: float


def measure(
    env: gym.Env, steps: int, resets: int = 500, seed: int = 0, clock: str = "wall"
) -> Throughput:
    """Time ``steps`` random steps of ``env``, then ``resets`` resets, on ``clock``.

    Steps are timed apart from the resets between episodes, so the step rate does not
    depend on how often a random policy ends an episode.
    """
    now = CLOCKS[clock]
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    step_time = 0.0
    taken = episode = 0
    while taken < steps:
        env.reset(seed=seed + episode)
        episode += 1
        start = now()
        while taken < steps:
            _, _, terminated, truncated, _ = env.step(actions[taken])
            taken += 1
            if terminated or truncated:
                break
        step_time += now() - start
    start = now()
    for i in range(resets):
        env.reset(seed=seed + i)
    reset_time = now() - start
    return Throughput(steps / step_time, resets / reset_time)


def compare(
    env_id: str,
    steps: int = 20_000,
    rounds: int = 3,
    env_kwargs: dict | None = None,
    clock: str = "wall",
):
    """Measure ``env_id`` and CartPole-v1 interleaved, ``rounds`` times each.

    Returns:
        A dict with the median steps and resets per second of both, and their ratios.
    """
    env = make_env(env_id, env_kwargs)
    reference = gym.make(REFERENCE_ID)
    ours, theirs = [], []
    for round_index in range(rounds):
        theirs.append(measure(reference, steps, seed=round_index, clock=clock))
        ours.append(measure(env, steps, seed=round_index, clock=clock))
    env.close()
    reference.close()

    def median(results: list[Throughput], attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in results)

    step_ratios = [o.steps_per_second / t.steps_per_second for o, t in zip(ours, theirs)]
    reset_ratios = [o.resets_per_second / t.resets_per_second for o, t in zip(ours, theirs)]
    return {
        "env_steps_per_second": median(ours, "steps_per_second"),
        "env_resets_per_second": median(ours, "resets_per_second"),
        "reference_steps_per_second": median(theirs, "steps_per_second"),
        "reference_resets_per_second": median(theirs, "resets_per_second"),
        "step_ratio": float(np.median(step_ratios)),
        "reset_ratio": float(np.median(reset_ratios)),
    }


def has_vector_env(env_id: str) -> bool:
    """Whether ``env_id`` registers a native vector environment (``vector_entry_point``)."""
    return gym.spec(env_id).vector_entry_point is not None


def _vector_steps_per_second(
    env: gym.vector.VectorEnv, vector_steps: int, seed: int, clock: str
) -> float:
    now = CLOCKS[clock]
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(vector_steps)]
    env.reset(seed=seed)
    start = now()
    for action in actions:
        env.step(action)
    return vector_steps * env.num_envs / (now() - start)


def compare_vector(
    env_id: str,
    num_envs: int,
    env_steps: int = 100_000,
    rounds: int = 3,
    env_kwargs: dict | None = None,
    clock: str = "wall",
) -> dict[str, float]:
    """Steps per second of ``env_id``'s native vector env and of ``SyncVectorEnv`` over
    the single env, both with ``num_envs`` instances, interleaved ``rounds`` times, on
    ``clock`` (both step in this process, so CPU time counts all their work).

    ``env_steps`` instance steps per round for the native env and a tenth of that for
    ``SyncVectorEnv`` (at least 4 vector steps each), so that a round takes about as long
    for both. Autoresets within the timed steps are included, as in training; where an
    episode is longer than the timed steps (most ids at N=1024), the ratio is that of
    steps alone.
    """
    kwargs = make_kwargs(env_id, env_kwargs)
    native = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )
    sync = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)
    native_steps = max(4, env_steps // num_envs)
    sync_steps = max(4, env_steps // 10 // num_envs)
    ours, theirs = [], []
    for round_index in range(rounds):
        theirs.append(_vector_steps_per_second(sync, sync_steps, round_index, clock))
        ours.append(_vector_steps_per_second(native, native_steps, round_index, clock))
    native.close()
    sync.close()
    return {
        "native_steps_per_second": statistics.median(ours),
        "sync_steps_per_second": statistics.median(theirs),
        "ratio": float(np.median([o / t for o, t in zip(ours, theirs)])),
    }


def ppo_environment_fraction(
    env_id: str, timesteps: int = 8192, env_kwargs: dict | None = None, seed: int = 0
) -> dict[str, float]:
    """Train SB3 PPO with ``env_id``'s hyperparameters (``baselines/hyperparams/ppo.yml``),
    on the environments ``opsgym train`` uses, for ``timesteps`` steps and time the
    environment's share of it.

    The clock runs around the vectorized environment's ``reset`` and ``step_wait`` (the
    env steps, autoresets and the conversion of their results for SB3), inside reward
    normalization; the rest of ``learn`` is the policy, the rollout buffer and the
    gradient updates.
    """
    from stable_baselines3.common.vec_env import VecEnvWrapper, unwrap_vec_wrapper

    class TimedVecEnv(VecEnvWrapper):
        """Adds up the seconds spent in the wrapped environments."""

        seconds = 0.0

        def reset(self):
            start = time.perf_counter()
            observations = self.venv.reset()
            self.seconds += time.perf_counter() - start
            return observations

        def step_wait(self):
            start = time.perf_counter()
            result = self.venv.step_wait()
            self.seconds += time.perf_counter() - start
            return result

    model, _ = _ppo(env_id, env_kwargs, seed, wrapper=TimedVecEnv)
    timed = unwrap_vec_wrapper(model.get_env(), TimedVecEnv)
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    total = time.perf_counter() - start
    model.get_env().close()
    return {"env_seconds": timed.seconds, "total_seconds": total, "fraction": timed.seconds / total}


BASELINE_ENVS = 4  # make_vec_env's environments in the training-speed baseline


def _ppo(
    env_id: str,
    env_kwargs: dict | None,
    seed: int,
    n_envs: int | None = None,
    backend: str = "auto",
    wrapper: type | None = None,
):
    """SB3 PPO with ``env_id``'s block, built as ``opsgym train`` builds it (on the
    environments of :func:`make_training_env`, in ``wrapper`` if given, under
    VecNormalize), and the backend of those environments. ``n_envs`` replaces the
    block's, its ``n_steps`` growing to keep the rollout's size."""
    from opsgym.baselines import sb3
    from opsgym.baselines.vec_env import make_training_env
    from opsgym.train.training import make_sb3_model

    run_settings, model_kwargs = sb3.split_hyperparams(sb3.load_hyperparams("ppo", env_id))
    env_kwargs = {**run_settings.get("env_kwargs", {}), **(env_kwargs or {})}
    block_envs = int(run_settings.get("n_envs", 1))
    n_envs = n_envs or block_envs
    rollout = block_envs * int(model_kwargs.get("n_steps", 2048))  # SB3's default n_steps
    model_kwargs = {**model_kwargs, "n_steps": math.ceil(rollout / n_envs)}
    environments = make_training_env(env_id, n_envs, seed, env_kwargs, backend)
    venv = environments.venv if wrapper is None else wrapper(environments.venv)
    with warnings.catch_warnings():  # a minibatch size that does not divide the rollout
        warnings.simplefilter("ignore", UserWarning)
        model = make_sb3_model("ppo", venv, run_settings, model_kwargs, seed)
    return model, environments.backend


def _learn(model, rollouts: int) -> None:
    """``rollouts`` more rollouts and updates of ``model``."""
    rollout = model.n_steps * model.n_envs
    model.learn(total_timesteps=rollouts * rollout, reset_num_timesteps=False)


def ppo_training_speed(
    env_id: str,
    rollouts: int = 2,
    rounds: int = 3,
    env_kwargs: dict | None = None,
    seed: int = 0,
    clock: str = "wall",
) -> dict:
    """PPO training steps per second with ``env_id``'s block as ``opsgym train`` runs it
    (the id's native vector env where it has one), and as a ratio to the same training
    on ``make_vec_env(n_envs=4)``.

    Both keep the block's rollout size (n_envs x n_steps: the baseline's n_steps grows to
    match), minibatch size and epochs, so both make the same gradient updates per step
    and the ratio is that of the environments' path. After one rollout and update of
    warm-up each, they take turns for ``rounds`` rounds of ``rollouts`` timed rollouts
    and updates on ``clock``; medians over rounds. The time in the updates is also timed
    apart, which gives the same ratio for collecting the rollouts alone and the updates'
    share of the configured training's time.
    """
    from opsgym.baselines.vec_env import MAKE_VEC_ENV

    now = CLOCKS[clock]
    configured, backend = _ppo(env_id, env_kwargs, seed)
    baseline, _ = _ppo(env_id, env_kwargs, seed, BASELINE_ENVS, MAKE_VEC_ENV)
    update_seconds = {
        "configured": _time_updates(configured, now),
        "baseline": _time_updates(baseline, now),
    }
    for model in (baseline, configured):
        _learn(model, 1)
    rates: dict[str, list[float]] = {"configured": [], "baseline": []}
    collection_rates: dict[str, list[float]] = {"configured": [], "baseline": []}
    update_shares: list[float] = []  # of the configured training's time
    for _ in range(rounds):
        for name, model in (("baseline", baseline), ("configured", configured)):
            steps = rollouts * model.n_steps * model.n_envs
            update_seconds[name][0] = 0.0
            start = now()
            _learn(model, rollouts)
            seconds = now() - start
            rates[name].append(steps / seconds)
            collection_rates[name].append(steps / (seconds - update_seconds[name][0]))
            if model is configured:
                update_shares.append(update_seconds[name][0] / seconds)
    for model in (baseline, configured):
        model.get_env().close()
    return {
        "backend": backend,
        "n_envs": configured.n_envs,
        "rollout": configured.n_envs * configured.n_steps,
        "steps_per_second": statistics.median(rates["configured"]),
        "baseline_steps_per_second": statistics.median(rates["baseline"]),
        "ratio": _median_ratio(rates),
        "collection_ratio": _median_ratio(collection_rates),
        "update_share": statistics.median(update_shares),
    }


def _median_ratio(rates: dict[str, list[float]]) -> float:
    """The median over rounds of the configured rate over the baseline's."""
    return statistics.median(c / b for c, b in zip(rates["configured"], rates["baseline"]))


def _time_updates(model, now) -> list[float]:
    """Times ``model``'s gradient updates into the one-element list returned, from now on."""
    seconds = [0.0]
    update = model.train

    def timed_update() -> None:
        start = now()
        update()
        seconds[0] += now() - start

    model.train = timed_update
    return seconds
