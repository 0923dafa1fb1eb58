"""The bookkeeping every native vector environment shares: seeds, autoreset, infos.

Each subclass is the vector driver of one env's simulator: it takes the single env's
arguments, reports infos as :class:`BatchedVectorEnv` says and, unless its module says
otherwise, follows the single env operation for operation: instance i of a vector env
reset with seed s + i follows exactly the trajectory of the single env reset with seed
s + i under the same actions.

A subclass keeps the state of its ``num_envs`` instances in numpy arrays, which it
allocates in ``_set_up(config, num_envs)``, and implements four methods on rows
(instance indices):

- ``_reset_rows(rows)``: start a new episode in each of ``rows``, drawing from
  ``self.generators[i]``, the instance's own random generator;
- ``_step_rows(rows, actions)``: advance ``rows``; return their rewards, whether their
  episodes were truncated, and their step infos as arrays over ``rows``;
- ``_observations()``: the observation of every instance;
- ``_episode_metrics(rows)``: the episode metrics of ``rows``, as arrays over ``rows``
  (or ``_instance_metrics(i)``, those of instance i as the single env reports them).

A subclass whose episodes can terminate overrides ``_terminated(rows)``, and one whose
single env gives an info at reset overrides ``_reset_infos(rows)``.

Autoreset follows Gymnasium's next-step mode: the step after an instance's episode
ends resets it and returns its first observation and reset info with reward 0 and no
end, as ``SyncVectorEnv`` does. As there, ``reset(options={"reset_mask": mask})`` resets
only the instances where ``mask`` is true (and cancels their pending autoreset), which
is how :class:`opsgym.baselines.vec_env.VecEnvAdapter` resets an instance in the step
its episode ends.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from opsgym.envs.core import batch, validation
from opsgym.envs.core.episode_guard import EpisodeGuard


class BatchedVectorEnv(VectorEnv):
    """``num_envs`` instances of one opsgym env, advanced together.

    A subclass names its single env in ``single_env_class``; the constructor builds
    that env's configuration, ``self.config``, from the same keyword arguments (or
    ``config=``), and the spaces from it (the env's ``spaces(config)``). ``info``
    holds the single env's per-step values as arrays and, for the instances whose
    episode ended, ``info["episode_metrics"]``, with the ``_``-prefixed masks of
    ``SyncVectorEnv``; the instances reset by autoreset report their reset info, as
    there. It does not render: its state is arrays, not the single env's that the
    renderers draw; a ``render_mode`` other than None is refused at construction.

    Args:
        num_envs: the number of instances.
        **kwargs: the single env's keyword arguments (``max_episode_steps``, which
            ``gymnasium.make_vec`` passes, is ignored).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
    single_env_class: type[gym.Env]

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        num_envs = validation.integer("num_envs", num_envs, minimum=1)
        render_mode = kwargs.pop("render_mode", None)
        if render_mode is not None:
            raise TypeError(
                f"render_mode: a native vector env does not render, got {render_mode!r}; "
                "render single envs (gymnasium.make(id, render_mode=...)), or vectorize "
                "them with vectorization_mode='sync'"
            )
        kwargs.pop("max_episode_steps", None)
        env_class = self.single_env_class
        self.config = env_class.config_class.build(**kwargs)
        spaces = env_class.spaces(self.config)
        self.num_envs = num_envs
        self.single_action_space, self.single_observation_space = spaces
        self.action_space = batch_space(spaces[0], num_envs)
        self.observation_space = batch_space(spaces[1], num_envs)
        self.generators: list[np.random.Generator | None] = [None] * num_envs
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._all_rows = np.arange(num_envs)
        self._guard = EpisodeGuard()  # autoreset starts the next ones: never ended
        self._set_up(self.config, num_envs)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        rows = self._all_rows
        if options is not None and "reset_mask" in options:
            rows = self._masked_rows(options["reset_mask"])
        else:
            self._guard.start()
        seeds = batch.instance_seeds(seed, self.num_envs)
        for i in rows.tolist():
            if seeds[i] is not None or self.generators[i] is None:
                self.generators[i], _ = seeding.np_random(seeds[i])
        self._reset_rows(rows)
        self._autoreset[rows] = False
        infos = self._reset_infos(rows)
        return self._observations(), batch.masked_info(infos, rows, self.num_envs)

    def _masked_rows(self, mask: object) -> np.ndarray:
        """The instances ``options["reset_mask"]`` selects, checked as ``SyncVectorEnv``
        checks it, once every instance has been reset."""
        if not (
            isinstance(mask, np.ndarray)
            and mask.dtype == np.bool_
            and mask.shape == (self.num_envs,)
        ):
            raise ValueError(
                f"options['reset_mask']: expected a boolean array of shape ({self.num_envs},), "
                f"got {mask!r}"
            )
        if not mask.any():
            raise ValueError("options['reset_mask']: no instance selected")
        if any(generator is None for generator in self.generators):
            raise ValueError("options['reset_mask']: reset every instance first (no mask)")
        return np.flatnonzero(mask)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        self._guard.check()
        count = self.num_envs
        actions = batch.action_indices(actions, count, int(self.single_action_space.n))
        rows = self._all_rows
        reset_infos: dict[str, Any] = {}
        if self._autoreset.any():
            resetting = np.flatnonzero(self._autoreset)
            self._reset_rows(resetting)
            reset_infos = self._reset_infos(resetting)
            rows = np.flatnonzero(~self._autoreset)
        if rows.size:
            rewards, truncated_rows, infos = self._step_rows(rows, actions[rows])
            terminated_rows = self._terminated(rows)
        else:  # every instance resets this step
            rewards, truncated_rows, infos = np.zeros(0), np.zeros(0, dtype=bool), {}
            terminated_rows = truncated_rows
        rewards = batch.scatter(np.asarray(rewards, dtype=np.float64), rows, count)
        terminated = batch.scatter(terminated_rows, rows, count, fill=False)
        truncated = batch.scatter(truncated_rows, rows, count, fill=False)
        info = batch.masked_info(infos, rows, count)
        if reset_infos:
            batch.add_info(info, reset_infos, resetting, count)
        ended = terminated | truncated
        if ended.any():
            ending = np.flatnonzero(ended)
            metrics = self._episode_metrics(ending)
            info["episode_metrics"] = batch.masked_info(metrics, ending, count)
            info["_episode_metrics"] = ended
        self._autoreset = ended
        return self._observations(), rewards, terminated, truncated, info

    def _index(self, rows: np.ndarray) -> np.ndarray | slice:
        """``rows`` (sorted, distinct) as an index: a slice when they are every row, so
        that reading state gives a view and writing it skips the fancy indexing; mind
        that a view changes with the state."""
        return slice(None) if rows.size == self.num_envs else rows

    def _set_up(self, config: Any, num_envs: int) -> None:
        """Allocate the state arrays of ``num_envs`` instances of ``config``."""
        raise NotImplementedError

    def _reset_rows(self, rows: np.ndarray) -> None:
        raise NotImplementedError

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        raise NotImplementedError

    def _terminated(self, rows: np.ndarray) -> np.ndarray:
        """Whether the episodes of ``rows`` have just terminated (never, by default)."""
        return np.zeros(rows.size, dtype=bool)

    def _reset_infos(self, rows: np.ndarray) -> dict[str, Any]:
        """The infos of ``rows`` just reset, as arrays over ``rows`` (none by default)."""
        return {}

    def _observations(self) -> np.ndarray:
        raise NotImplementedError

    def _episode_metrics(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        summaries = [self._instance_metrics(i) for i in rows.tolist()]
        return {name: np.array([s[name] for s in summaries]) for name in summaries[0]}

    def _instance_metrics(self, i: int) -> dict[str, float]:
        raise NotImplementedError
