"""Tabular learners (Q-learning, SARSA, expected SARSA) and the discretizer they need.

:class:`Discretizer` turns any ``Box`` observation into a state index (uniform bins
between the space's bounds, or bins at quantiles fitted to observed data) and passes
``Discrete`` observations through, so the tabular agents run on every opsgym
environment and on Gymnasium's toy-text environments alike. The Q-table is sparse (a
dict from state index to action values): only visited states cost memory, which lets a
fine discretization of a many-dimensional observation stay cheap.

Exploration and learning rates follow schedules (:class:`Schedule`): constant, linear or
exponential decay over updates, or 1/visits per state-action pair. A constant learning
rate keeps old data fading, which is what a drifting world needs; 1/visits converges on
a stationary one (Watkins and Dayan, "Q-learning", 1992).

Given action masks (see :mod:`opsgym.agents.protocol`), the agents explore and exploit
among the valid actions only and bootstrap on the valid next actions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.agents.checkpoint import generator_state, load_checkpoint, save_checkpoint
from opsgym.agents.schema import ArraySpec

MAX_STATES = 2**62
HASH_MODULUS = 2**61 - 1  # a Mersenne prime


class Schedule:
    """A value that changes with the number of updates (or visits).

    Args:
        kind: ``"constant"``, ``"linear"`` (from ``start`` to ``end`` over ``steps``),
            ``"exponential"`` (``start * rate**t``, floored at ``end``) or ``"visits"``
            (``start / visits``, floored at ``end``: the stochastic-approximation rate).
        start, end, steps, rate: the schedule's parameters.
    """

    KINDS = ("constant", "linear", "exponential", "visits")

    def __init__(self, kind="constant", start=0.1, end=0.0, steps=10_000, rate=0.999):
        if kind not in self.KINDS:
            raise ValueError(f"schedule kind must be one of {list(self.KINDS)}, got {kind!r}")
        if steps < 1:
            raise ValueError(f"schedule steps must be >= 1, got {steps!r}")
        self.kind, self.start, self.end = kind, float(start), float(end)
        self.steps, self.rate = int(steps), float(rate)

    def __call__(self, t: int, visits: int = 1) -> float:
        if self.kind == "constant":
            return self.start
        if self.kind == "linear":
            fraction = min(t / self.steps, 1.0)
            return self.start + fraction * (self.end - self.start)
        if self.kind == "exponential":
            return max(self.end, self.start * self.rate**t)
        return max(self.end, self.start / max(visits, 1))

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("kind", "start", "end", "steps", "rate")}

    @classmethod
    def build(cls, value) -> Schedule:
        """A schedule from a number (constant), a dict of arguments, or a schedule."""
        if isinstance(value, Schedule):
            return value
        if isinstance(value, dict):
            return cls(**value)
        return cls("constant", start=float(value))


class Discretizer:
    """Observation to state index.

    When the bins make more than 2**62 states (many dimensions), the bin digits are
    hashed modulo the prime 2**61 - 1 to fit a 64-bit key; two visited states collide
    with probability about n**2 / 2**62 for n visited states, negligible in practice.

    Args:
        space: the observation space: ``Discrete`` passes through; a ``Box`` is binned
            per dimension, uniformly between its bounds (which must be finite) unless
            :meth:`fit` has set bins at the quantiles of observed data.
        bins: bins per dimension of a ``Box``.
    """

    def __init__(self, space: spaces.Space, bins: int = 4) -> None:
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins!r}")
        self.bins = int(bins)
        if isinstance(space, spaces.Discrete):
            self.edges = None
            self.n_states = int(space.n)
            self.offset = int(space.start)
            return
        if not isinstance(space, spaces.Box):
            raise ValueError(f"cannot discretize a {type(space).__name__} observation space")
        low, high = space.low.ravel().astype(float), space.high.ravel().astype(float)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError("uniform bins need a Box with finite bounds; call fit() on data")
        if self.bins > 256:
            raise ValueError(f"bins must be <= 256 for a Box, got {self.bins}")
        self.n_states = self.bins**low.size
        self.hashed = self.n_states > MAX_STATES
        fractions = np.arange(1, self.bins) / self.bins
        self.edges = low[:, None] + fractions[None, :] * (high - low)[:, None]
        self.radix = self.bins ** np.arange(low.size, dtype=np.int64)

    def fit(self, observations: np.ndarray) -> Discretizer:
        """Place each dimension's bin edges at the quantiles of ``observations``."""
        if self.edges is None:
            return self
        data = np.asarray(observations, dtype=float).reshape(len(observations), -1)
        if data.shape[1] != self.edges.shape[0]:
            raise ValueError(
                f"fit() got {data.shape[1]}-dimensional data, expected {self.edges.shape[0]}"
            )
        quantiles = np.arange(1, self.bins) / self.bins
        self.edges = np.quantile(data, quantiles, axis=0).T
        return self

    def __call__(self, observation: Any) -> int:
        if self.edges is None:
            return int(observation) - self.offset
        x = np.asarray(observation, dtype=float).ravel()
        digits = (x[:, None] >= self.edges).sum(axis=1)
        if self.hashed:
            code = int.from_bytes(digits.astype(np.uint8).tobytes(), "little")
            return code % HASH_MODULUS
        return int(digits @ self.radix)


class TabularAgent:
    """Shared machinery: the sparse Q-table, epsilon-greedy acting, schedules, checkpoints.

    Args:
        observation_space, n_actions: the environment's spaces.
        seed: the seed of the agent's own random generator.
        gamma: the discount factor.
        epsilon, learning_rate: a number (constant) or a :class:`Schedule` (or its dict).
        bins: bins per dimension for ``Box`` observations.
        initial_value: the value of unseen state-actions (optimism encourages exploring).
    """

    online = False

    def __init__(
        self,
        observation_space: spaces.Space,
        n_actions: int,
        seed: int | None = None,
        gamma: float = 0.99,
        epsilon=0.1,
        learning_rate=0.1,
        bins: int = 4,
        initial_value: float = 0.0,
    ) -> None:
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
        self.observation_space = observation_space
        self.n_actions = int(n_actions)
        self.seed, self.gamma, self.bins = seed, float(gamma), int(bins)
        self.initial_value = float(initial_value)
        self.epsilon = Schedule.build(epsilon)
        self.learning_rate = Schedule.build(learning_rate)
        self.discretize = Discretizer(observation_space, bins)
        self.rng = np.random.default_rng(seed)
        self.q: dict[int, np.ndarray] = {}
        self.visits: dict[int, np.ndarray] = {}
        self.t = 0
        self.greedy = False  # evaluation mode: no exploration

    def values(self, state: int) -> np.ndarray:
        row = self.q.get(state)
        if row is None:
            row = self.q[state] = np.full(self.n_actions, self.initial_value)
            self.visits[state] = np.zeros(self.n_actions, dtype=np.int64)
        return row

    def act(self, observation: Any, action_mask: np.ndarray | None = None) -> int:
        state = self.discretize(observation)
        return self._epsilon_greedy(self.values(state), action_mask)

    def _epsilon_greedy(self, row: np.ndarray, action_mask: np.ndarray | None) -> int:
        if not self.greedy and self.rng.random() < self.epsilon(self.t):
            if action_mask is None:
                return int(self.rng.integers(self.n_actions))
            return int(self.rng.choice(np.flatnonzero(action_mask)))
        return self._greedy(row, action_mask)

    def _greedy(self, row: np.ndarray, action_mask: np.ndarray | None) -> int:
        if action_mask is not None:
            row = np.where(action_mask, row, -np.inf)
        best = np.flatnonzero(row == row.max())
        return int(best[0] if best.size == 1 else self.rng.choice(best))

    def update(
        self, observation, action, reward, next_observation, terminated, next_action_mask=None
    ) -> None:
        state, next_state = self.discretize(observation), self.discretize(next_observation)
        row = self.values(state)
        self.visits[state][action] += 1
        bootstrap = 0.0
        if not terminated:
            bootstrap = self.gamma * self.next_value(next_state, next_action_mask)
        rate = self.learning_rate(self.t, int(self.visits[state][action]))
        row[action] += rate * (float(reward) + bootstrap - row[action])
        self.t += 1

    def next_value(self, next_state: int, action_mask: np.ndarray | None) -> float:
        """The bootstrap value of ``next_state`` (its valid actions only, if masked)."""
        raise NotImplementedError

    # federation (see opsgym.agents.federated) -------------------------------------------
    def shared_state(self) -> dict[str, np.ndarray]:
        """Each visited state's row as ``q/<state>`` (its values less ``initial_value``,
        so that an absent row reads as zeros) and ``visits/<state>``."""
        state: dict[str, np.ndarray] = {}
        for key, row in self.q.items():
            state[f"q/{key}"] = row - self.initial_value
            state[f"visits/{key}"] = self.visits[key].astype(float)
        return state

    def load_shared_state(self, state: dict[str, np.ndarray]) -> None:
        q, visits = {}, {}
        for name, array in state.items():
            kind, _, key = name.partition("/")
            if kind == "q":
                q[int(key)] = np.asarray(array, float) + self.initial_value
            elif kind == "visits":
                visits[int(key)] = np.maximum(np.rint(array), 0).astype(np.int64)
            else:
                raise ValueError(f"unknown shared array {name!r} for a tabular agent")
        zero = np.zeros(self.n_actions, dtype=np.int64)
        self.q = q
        self.visits = {key: visits.get(key, zero).copy() for key in q}

    def weight_key(self, key: str) -> str | None:
        """Q rows are averaged weighted by their visits; visits pool."""
        kind, _, state = key.partition("/")
        return f"visits/{state}" if kind == "q" else None

    def hyperparameters(self) -> dict:
        return {
            "n_actions": self.n_actions,
            "seed": self.seed,
            "gamma": self.gamma,
            "bins": self.bins,
            "initial_value": self.initial_value,
            "epsilon": self.epsilon.to_dict(),
            "learning_rate": self.learning_rate.to_dict(),
        }

    CHECKPOINT_PARAMS = {"t": int, "rng": generator_state}

    def checkpoint_arrays(self) -> dict[str, ArraySpec]:
        """What each array of this agent's checkpoint must be: the visited states' rows
        of the Q-table and visit counts, and the discretizer's bin edges."""
        edges = self.discretize.edges
        return {
            "states": ArraySpec(("states",), "i", low=0),
            "q": ArraySpec(("states", self.n_actions)),
            "visits": ArraySpec(("states", self.n_actions), "i", low=0),
            "edges": ArraySpec((0,) if edges is None else edges.shape),
        }

    def save(self, path: str | Path) -> Path:
        states = np.array(sorted(self.q), dtype=np.int64)
        arrays = {
            "states": states,
            "q": np.array([self.q[s] for s in states]).reshape(len(states), self.n_actions),
            "visits": np.array([self.visits[s] for s in states], dtype=np.int64).reshape(
                len(states), self.n_actions
            ),
            "edges": self.discretize.edges if self.discretize.edges is not None else np.zeros(0),
        }
        params = {
            "hyperparameters": self.hyperparameters(),
            "t": self.t,
            "rng": self.rng.bit_generator.state,
        }
        return save_checkpoint(path, type(self).__name__, params, arrays)

    def load(self, path: str | Path) -> None:
        params, arrays = load_checkpoint(
            path, type(self).__name__, self.checkpoint_arrays(), self.CHECKPOINT_PARAMS
        )
        q, visits = arrays["q"].astype(np.float64), arrays["visits"].astype(np.int64)
        if self.discretize.edges is not None:
            self.discretize.edges = arrays["edges"].astype(np.float64)
        self.q = {int(s): q[i].copy() for i, s in enumerate(arrays["states"])}
        self.visits = {int(s): visits[i].copy() for i, s in enumerate(arrays["states"])}
        self.t = params["t"]
        self.rng.bit_generator.state = params["rng"]


class QLearning(TabularAgent):
    """Off-policy TD control: bootstrap on the best next action (Watkins, 1989)."""

    def next_value(self, next_state, action_mask):
        row = self.values(next_state)
        return float(row.max() if action_mask is None else row[action_mask].max())


class ExpectedSARSA(TabularAgent):
    """Bootstrap on the expected next value under the epsilon-greedy policy (van Seijen
    et al., 2009): lower variance than SARSA, on-policy like it."""

    def next_value(self, next_state, action_mask):
        row = self.values(next_state)
        valid = np.ones(self.n_actions, bool) if action_mask is None else action_mask
        epsilon = 0.0 if self.greedy else self.epsilon(self.t)
        best = np.flatnonzero(valid & (row == row[valid].max()))
        probabilities = np.where(valid, epsilon / valid.sum(), 0.0)
        probabilities[best] += (1.0 - epsilon) / best.size
        return float(probabilities @ row)


class SARSA(TabularAgent):
    """On-policy TD control: bootstrap on the action the policy will actually take.

    The next action is drawn in ``update`` and returned by the following ``act`` for
    that observation, so the update and the behaviour agree (Rummery and Niranjan, 1994).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._planned: tuple[int, int] | None = None  # (state, action) drawn in update

    def act(self, observation, action_mask=None):
        state = self.discretize(observation)
        if self._planned is not None and self._planned[0] == state and not self.greedy:
            action = self._planned[1]
            self._planned = None
            return action
        return super().act(observation, action_mask)

    def next_value(self, next_state, action_mask):
        row = self.values(next_state)
        action = self._epsilon_greedy(row, action_mask)
        self._planned = (next_state, action)
        return float(row[action])
