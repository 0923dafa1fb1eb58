"""SB3 training on Gymnasium vector envs: an adapter, and the choice of backend.

Gymnasium's vector envs (opsgym's native ones among them) autoreset in the *next* step:
the step that ends an instance's episode returns its last observation, and the
following step resets it, ignoring its action. SB3's ``VecEnv`` autoresets in the
*same* step: it returns the new episode's first observation and puts the last one in
``infos[i]["terminal_observation"]``. :class:`VecEnvAdapter` turns the first into the
second by resetting the instances whose episode just ended with Gymnasium's partial
reset, ``reset(options={"reset_mask": ended})``, before it returns, so SB3 sees every
transition exactly once and the ignored step never happens. Each instance then follows
the single env of ``make_vec_env`` with the same seed (``seed + i``), episode after
episode, as closely as its vector env follows the single env.

:func:`make_training_env` builds what ``opsgym train``, the benchmark and the federated
nodes train on: the id's native vector env through the adapter where it has one, SB3's
``make_vec_env`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from opsgym.envs import make_kwargs

NATIVE, MAKE_VEC_ENV = "native", "make_vec_env"
BACKENDS = ("auto", NATIVE, MAKE_VEC_ENV)


class VecEnvAdapter(VecEnv):
    """A Gymnasium ``VectorEnv`` with next-step autoreset as an SB3 ``VecEnv``.

    Per step, as ``DummyVecEnv`` gives them: observations, float32 rewards, dones
    (terminated or truncated), and one info dict per instance holding the instance's
    entries of the vector info (its ``_key`` masks say which), with
    ``"TimeLimit.truncated"`` (truncated and not terminated) and, where the episode
    ended, ``"terminal_observation"``; the infos of instances reset in a step go to
    ``reset_infos``. ``seed()`` takes effect at the next ``reset()``, as in SB3.

    The instances share one object, so ``get_attr`` gives the vector env's attribute
    for every index and ``set_attr`` sets it for all at once; ``env_method`` calls the
    vector env's method once and expects one row per instance back (as the
    ``action_masks()`` MaskablePPO asks for). Rendering is not supported.

    Args:
        env: the vector env; it must autoreset in the next step and accept
            ``options={"reset_mask": ...}`` in ``reset`` (Gymnasium's own and opsgym's do).
    """

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"autoreset_mode: the adapter needs next-step autoreset, got {mode}")
        self.env = env
        self._actions: np.ndarray | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> np.ndarray:
        seed = None if all(s is None for s in self._seeds) else list(self._seeds)
        observations, info = self.env.reset(seed=seed, options=self._shared_options())
        self.reset_infos = unbatch_info(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return np.array(observations)

    def _shared_options(self) -> dict[str, Any] | None:
        first = self._options[0]
        if any(options != first for options in self._options):
            raise ValueError("options: the instances of a vector env share their reset options")
        return dict(first) or None

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminated, truncated, info = self.env.step(self._actions)
        observations = np.array(observations)  # SB3 keeps it; the env may reuse its buffer
        dones = terminated | truncated
        infos = unbatch_info(info, self.num_envs)
        for instance_info, flag in zip(infos, (truncated & ~terminated).tolist()):
            instance_info["TimeLimit.truncated"] = flag
        if dones.any():
            ended = np.flatnonzero(dones)
            for i in ended.tolist():
                infos[i]["terminal_observation"] = observations[i].copy()
            first, reset_info = self.env.reset(options={"reset_mask": dones})
            observations[ended] = first[ended]
            reset_infos = unbatch_info(reset_info, self.num_envs)
            for i in ended.tolist():
                self.reset_infos[i] = reset_infos[i]
        return observations, np.asarray(rewards, dtype=np.float32), dones, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.env, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if sorted(self._get_indices(indices)) != list(range(self.num_envs)):
            raise ValueError(
                f"set_attr({attr_name!r}): the instances of a vector env share their "
                "attributes; set them for all indices at once"
            )
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        rows = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [rows[i] for i in self._get_indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def unbatch_info(info: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """A Gymnasium vector info (arrays over instances, ``_key`` masks, nested dicts) as
    one dict per instance holding the entries its masks mark; a key without a mask is
    every instance's. Numbers become Python numbers, rows of arrays copies."""
    keys, columns, partial = [], [], []
    for key, value in info.items():
        if key.startswith("_"):
            continue
        column = unbatch_info(value, count) if isinstance(value, dict) else _rows(value)
        mask = info.get("_" + key)
        if mask is None or mask.all():
            keys.append(key)
            columns.append(column)
        else:
            partial.append((key, column, np.flatnonzero(mask).tolist()))
    if keys:
        infos = [dict(zip(keys, row)) for row in zip(*columns)]
    else:
        infos = [{} for _ in range(count)]
    for key, column, rows in partial:
        for i in rows:
            infos[i][key] = column[i]
    return infos


def _rows(values: Any) -> Sequence[Any]:
    array = np.asarray(values)
    return array.tolist() if array.ndim == 1 else list(array.copy())


@dataclass(frozen=True)
class TrainingEnv:
    """The vectorized env SB3 trains on, and how it was built (for the run's record)."""

    venv: VecEnv
    backend: str  # NATIVE or MAKE_VEC_ENV
    reason: str = ""  # why make_vec_env, when the id's native vector env was not used

    def record(self) -> dict[str, Any]:
        return {"backend": self.backend, **({"reason": self.reason} if self.reason else {})}


def make_training_env(
    env_id: str,
    n_envs: int,
    seed: int | None,
    env_kwargs: dict[str, Any] | None = None,
    backend: str = "auto",
) -> TrainingEnv:
    """``n_envs`` instances of ``env_id`` for SB3, each episode recorded by a monitor.

    Args:
        env_id: a registered id (its arguments already checked against the single env).
        n_envs: the number of instances.
        seed: instance i's first episode is seeded ``seed + i``; later ones continue its
            generator, as with ``make_vec_env``.
        env_kwargs: the env's keyword arguments.
        backend: ``"native"``: the id's vector env through :class:`VecEnvAdapter`;
            ``"make_vec_env"``: SB3's ``DummyVecEnv`` over single envs; ``"auto"``: native
            where the id has a vector env that accepts ``env_kwargs``, else make_vec_env.

    Raises:
        ValueError: an unknown backend, or ``"native"`` for an id or configuration that
            has no native vector env.
    """
    if backend not in BACKENDS:
        raise ValueError(f"vec_env: expected one of {list(BACKENDS)}, got {backend!r}")
    env_kwargs = dict(env_kwargs or {})
    reason = ""
    if backend != MAKE_VEC_ENV:
        try:
            native = _native_env(env_id, n_envs, env_kwargs)
        except ValueError as error:
            if backend == NATIVE:
                raise
            reason = str(error)
        else:
            adapter = VecEnvAdapter(native)
            adapter.seed(seed)
            return TrainingEnv(VecMonitor(adapter), NATIVE)
    # render_mode=None: make_vec_env otherwise asks every env for "rgb_array"
    venv = make_vec_env(
        env_id,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"render_mode": None, **make_kwargs(env_id, env_kwargs)},
    )
    return TrainingEnv(venv, MAKE_VEC_ENV, reason)


def _native_env(env_id: str, n_envs: int, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The id's native vector env; a ValueError says why there is none."""
    if gym.spec(env_id).vector_entry_point is None:
        raise ValueError(f"{env_id} has no native vector env")
    return gym.make_vec(
        env_id,
        num_envs=n_envs,
        vectorization_mode="vector_entry_point",
        **make_kwargs(env_id, env_kwargs),
    )
