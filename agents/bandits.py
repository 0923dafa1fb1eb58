"""Multi-armed bandits: one decision per step, one reward per pull.

On an opsgym environment a bandit treats each action as an arm and ignores the
observation (LinUCB uses it as its context). In LoadBalancing's ``feedback`` mode this
is exactly a learning load balancer choosing backends from observed responses.

Rewards on any scale are accepted. Algorithms whose theory needs rewards in [0, 1]
(UCB's confidence widths, Thompson's Beta posterior, EXP3's weights) map them through a
:class:`~opsgym.agents.scaling.RewardScaler`: exact with a stated ``reward_range``,
else adaptive (the range seen so far). The UCB family keeps raw means and maps them at
each decision, so an arm left early is judged on today's range, not on the narrower one
of its last pull. Thompson's Beta posterior and EXP3's weights take each reward mapped as
it arrives. Epsilon-greedy, Gaussian Thompson sampling and LinUCB use raw rewards.

All bandits are *online* learners: they keep updating while they serve, in training and
in evaluation alike, as a deployed bandit does. Given an ``action_mask`` (see
:mod:`opsgym.agents.protocol`) they choose among the valid arms only.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from opsgym.agents.checkpoint import generator_state, load_checkpoint, save_checkpoint
from opsgym.agents.scaling import RewardScaler
from opsgym.agents.schema import ArraySpec


class Bandit:
    """Shared bookkeeping: arms, a seeded generator, pull counts and mean rewards.

    Args:
        n_arms: the number of actions.
        seed: the seed of the agent's own random generator.
        reward_range: the rewards' ``(low, high)`` if known (see the module docstring).
    """

    online = True

    def __init__(
        self, n_arms: int, seed: int | None = None, reward_range: tuple | None = None
    ) -> None:
        if n_arms < 1:
            raise ValueError(f"n_arms must be >= 1, got {n_arms}")
        self.n_arms = int(n_arms)
        self.seed = seed
        self.reward_range = reward_range
        self.rng = np.random.default_rng(seed)
        self.scale = RewardScaler(reward_range)
        self.counts = np.zeros(self.n_arms)
        self.values = np.zeros(self.n_arms)  # mean reward (clipped to a stated range)
        self.t = 0

    def hyperparameters(self) -> dict:
        return {"n_arms": self.n_arms, "seed": self.seed, "reward_range": self.reward_range}

    def act(self, observation: Any, action_mask: np.ndarray | None = None) -> int:
        untried = self.counts == 0
        if action_mask is not None:
            untried &= action_mask
        if untried.any():
            return int(np.argmax(untried))
        return self.choose(observation, action_mask)

    def choose(self, observation: Any, action_mask: np.ndarray | None) -> int:
        raise NotImplementedError

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        self.t += 1
        self.counts[action] += 1
        self.values[action] += (self.target(reward) - self.values[action]) / self.counts[action]

    def target(self, reward: float) -> float:
        """The reward as this algorithm averages it: widening an adaptive range, clipped
        to a stated one."""
        return self.scale.observe(float(reward))

    def replay(self, contexts, arms, rewards, pulls_per_arm: int) -> np.ndarray:
        """Learn from another policy's logged pulls as if this bandit had made them.

        Of each arm's pulls, at most ``pulls_per_arm``, spread evenly over the log, are
        fed to :meth:`update` in the log's order: an arm's estimate is its mean reward
        over those pulls, exactly as sure as their count says, and the cap keeps a long
        log from pinning the bandit to it. Arms the log never pulled keep no estimate
        (tried first, or the prior alone). Bandits ignore the next observation.

        Args:
            contexts: the observation of each pull (LinUCB's contexts; others ignore it).
            arms: the arm of each pull.
            rewards: the reward of each pull.
            pulls_per_arm: the most pulls of one arm that are replayed.

        Returns:
            How many pulls of each arm were replayed.
        """
        arms = np.asarray(arms)
        rewards = np.asarray(rewards, dtype=np.float64)
        if len(contexts) != len(arms) or len(rewards) != len(arms):
            raise ValueError(
                f"a log needs one context, arm and reward per pull, got {len(contexts)}, "
                f"{len(arms)} and {len(rewards)}"
            )
        if arms.size and not np.issubdtype(arms.dtype, np.integer):
            raise ValueError(f"logged arms must be integers, got dtype {arms.dtype}")
        outside = np.flatnonzero((arms < 0) | (arms >= self.n_arms))
        if outside.size:
            raise ValueError(
                f"logged arm {arms[outside[0]]} (pull {outside[0]}) is not in [0, {self.n_arms})"
            )
        if not np.isfinite(rewards).all():
            raise ValueError(
                f"logged reward of pull {np.flatnonzero(~np.isfinite(rewards))[0]} is not finite"
            )
        if pulls_per_arm < 1:
            raise ValueError(f"pulls_per_arm must be >= 1, got {pulls_per_arm!r}")
        chosen = spread_pulls(arms, self.n_arms, pulls_per_arm)
        for i in chosen:
            self.update(contexts[i], int(arms[i]), float(rewards[i]), contexts[i], False)
        return np.bincount(arms[chosen], minlength=self.n_arms)

    def _argmax(self, scores: np.ndarray, action_mask: np.ndarray | None) -> int:
        """The best valid arm, ties broken at random."""
        if action_mask is not None:
            scores = np.where(action_mask, scores, -np.inf)
        best = np.flatnonzero(scores == scores.max())
        return int(best[0] if best.size == 1 else self.rng.choice(best))

    def _random_arm(self, action_mask: np.ndarray | None) -> int:
        if action_mask is None:
            return int(self.rng.integers(self.n_arms))
        return int(self.rng.choice(np.flatnonzero(action_mask)))

    # federation (see opsgym.agents.federated) -------------------------------------------
    def shared_state(self) -> dict[str, np.ndarray]:
        """Sufficient statistics: pull counts and reward sums (they pool exactly)."""
        return {"counts": self.counts.copy(), "sums": self.values * self.counts}

    def load_shared_state(self, state: dict[str, np.ndarray]) -> None:
        # noise from differential privacy can push a count below zero
        self.counts = np.maximum(np.asarray(state["counts"], float), 0.0)
        self.values = _ratio(state["sums"], self.counts)
        self.t = int(round(self.counts.sum()))

    def weight_key(self, key: str) -> str | None:
        return None

    # checkpoints ------------------------------------------------------------------------
    CHECKPOINT_PARAMS = {
        "t": int,
        "scale": {"low": float, "high": float, "fixed": bool},
        "rng": generator_state,
    }

    def checkpoint_arrays(self) -> dict[str, ArraySpec]:
        """What each array of this agent's checkpoint must be (named as its attribute)."""
        return {
            "counts": ArraySpec((self.n_arms,), low=0.0),
            "values": ArraySpec((self.n_arms,)),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.checkpoint_arrays()}

    def restore_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        for name, array in arrays.items():
            setattr(self, name, array.astype(np.float64))

    def save(self, path: str | Path) -> Path:
        params = {
            "hyperparameters": self.hyperparameters(),
            "t": self.t,
            "scale": self.scale.state(),
            "rng": self.rng.bit_generator.state,
        }
        return save_checkpoint(path, type(self).__name__, params, self.arrays())

    def load(self, path: str | Path) -> None:
        params, arrays = load_checkpoint(
            path, type(self).__name__, self.checkpoint_arrays(), self.CHECKPOINT_PARAMS
        )
        self.restore_arrays(arrays)
        self.t = params["t"]
        self.scale.restore(params["scale"])
        self.rng.bit_generator.state = params["rng"]


def spread_pulls(arms: np.ndarray, n_arms: int, most: int) -> np.ndarray:
    """The indices of at most ``most`` pulls of each arm, spread evenly over the log (an
    arm's last pulls alone would all come from the log's last episodes), in log order."""
    chosen = []
    for arm in range(n_arms):
        pulls = np.flatnonzero(arms == arm)
        if len(pulls) > most:
            pulls = pulls[np.linspace(0, len(pulls) - 1, most).round().astype(np.int64)]
        chosen.append(pulls)
    return np.sort(np.concatenate(chosen))


def _ratio(sums, counts: np.ndarray) -> np.ndarray:
    """sums / counts where counts > 0, else 0."""
    return np.divide(sums, counts, out=np.zeros_like(counts), where=counts > 0)


class EpsilonGreedy(Bandit):
    """With probability epsilon a random arm, else the best mean so far.

    Args:
        epsilon: the exploration probability, or its starting value when decaying.
        decay: ``None`` for constant epsilon, or ``c`` for epsilon_t = min(epsilon, c / t)
            (the schedule with logarithmic regret in Auer et al., 2002).
    """

    def __init__(self, n_arms, seed=None, reward_range=None, epsilon=0.1, decay=None):
        super().__init__(n_arms, seed, reward_range)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        if decay is not None and decay <= 0:
            raise ValueError(f"decay must be > 0, got {decay!r}")
        self.epsilon, self.decay = float(epsilon), decay

    def hyperparameters(self):
        return super().hyperparameters() | {"epsilon": self.epsilon, "decay": self.decay}

    def current_epsilon(self) -> float:
        if self.decay is None:
            return self.epsilon
        return min(self.epsilon, self.decay / max(self.t, 1))

    def choose(self, observation, action_mask):
        if self.rng.random() < self.current_epsilon():
            return self._random_arm(action_mask)
        return self._argmax(self.values, action_mask)

    def target(self, reward):
        return float(reward)  # a mean needs no rescaling


class UCB1(Bandit):
    """The arm with the highest mean plus sqrt(c ln t / n) (Auer, Cesa-Bianchi and
    Fischer, "Finite-time analysis of the multiarmed bandit problem", 2002; c = 2)."""

    def __init__(self, n_arms, seed=None, reward_range=None, c=2.0):
        super().__init__(n_arms, seed, reward_range)
        self.c = float(c)

    def hyperparameters(self):
        return super().hyperparameters() | {"c": self.c}

    def choose(self, observation, action_mask):
        bonus = np.sqrt(self.c * math.log(max(self.t, 1)) / np.maximum(self.counts, 1e-12))
        return self._argmax(self.scale.normalize(self.values) + bonus, action_mask)


class ThompsonBernoulli(Bandit):
    """Thompson sampling with Beta(1, 1) priors, for rewards in [0, 1].

    A scaled reward r in [0, 1] updates the posterior by a Bernoulli(r) draw (the
    binarization trick of Agrawal and Goyal, 2012), which keeps the regret guarantee.
    """

    def __init__(self, n_arms, seed=None, reward_range=None):
        super().__init__(n_arms, seed, reward_range)
        self.successes = np.zeros(self.n_arms)
        self.failures = np.zeros(self.n_arms)

    def act(self, observation, action_mask=None):
        samples = self.rng.beta(self.successes + 1.0, self.failures + 1.0)
        return self._argmax(samples, action_mask)

    def update(self, observation, action, reward, next_observation, terminated):
        scaled = self.scale(float(reward))
        super().update(observation, action, reward, next_observation, terminated)
        if self.rng.random() < scaled:
            self.successes[action] += 1
        else:
            self.failures[action] += 1

    def shared_state(self):
        return super().shared_state() | {
            "successes": self.successes.copy(),
            "failures": self.failures.copy(),
        }

    def load_shared_state(self, state):
        super().load_shared_state(state)
        self.successes = np.maximum(np.asarray(state["successes"], float), 0.0)
        self.failures = np.maximum(np.asarray(state["failures"], float), 0.0)

    def checkpoint_arrays(self):
        counts = ArraySpec((self.n_arms,), low=0.0)
        return super().checkpoint_arrays() | {"successes": counts, "failures": counts}


class ThompsonGaussian(Bandit):
    """Thompson sampling for rewards on any scale: each arm's mean has a Gaussian
    posterior N(mean, sigma^2 / (n + 1)), with sigma the rewards' pooled standard
    deviation estimated online."""

    def __init__(self, n_arms, seed=None, reward_range=None):
        super().__init__(n_arms, seed, reward_range)
        self.squares = np.zeros(self.n_arms)  # sums of squared deviations (Welford)

    def act(self, observation, action_mask=None):
        total = self.counts.sum()
        sigma = math.sqrt(self.squares.sum() / (total - 1)) if total > 1 else 1.0
        sigma = sigma if sigma > 0 else 1.0
        samples = self.rng.normal(self.values, sigma / np.sqrt(self.counts + 1.0))
        return self._argmax(samples, action_mask)

    def update(self, observation, action, reward, next_observation, terminated):
        before = self.values[action]
        super().update(observation, action, reward, next_observation, terminated)
        self.squares[action] += (float(reward) - before) * (float(reward) - self.values[action])

    def target(self, reward):
        return float(reward)

    def shared_state(self):
        # Welford's sums of squared deviations do not add up; raw sums of squares do
        return super().shared_state() | {"square_sums": self.squares + self.counts * self.values**2}

    def load_shared_state(self, state):
        super().load_shared_state(state)
        raw = np.asarray(state["square_sums"], float) - self.counts * self.values**2
        self.squares = np.maximum(raw, 0.0)

    def checkpoint_arrays(self):
        return super().checkpoint_arrays() | {"squares": ArraySpec((self.n_arms,))}


class SlidingWindowUCB(Bandit):
    """UCB over the last ``window`` pulls only, so that old rewards stop counting
    (Garivier and Moulines, "On upper-confidence bound policies for switching bandit
    problems", 2011)."""

    def __init__(self, n_arms, seed=None, reward_range=None, window=500, c=2.0):
        super().__init__(n_arms, seed, reward_range)
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window!r}")
        self.window, self.c = int(window), float(c)
        self.history: deque[tuple[int, float]] = deque()
        self.sums = np.zeros(self.n_arms)

    def hyperparameters(self):
        return super().hyperparameters() | {"window": self.window, "c": self.c}

    def choose(self, observation, action_mask):
        means = self.scale.normalize(self.sums / np.maximum(self.counts, 1))
        horizon = min(self.t, self.window)
        bonus = np.sqrt(self.c * math.log(max(horizon, 2)) / np.maximum(self.counts, 1e-9))
        return self._argmax(np.where(self.counts > 0, means + bonus, np.inf), action_mask)

    def act(self, observation, action_mask=None):
        return self.choose(observation, action_mask)

    def update(self, observation, action, reward, next_observation, terminated):
        self.t += 1
        value = self.target(reward)
        self.history.append((action, value))
        self.counts[action] += 1
        self.sums[action] += value
        if len(self.history) > self.window:
            old_action, old_reward = self.history.popleft()
            self.counts[old_action] -= 1
            self.sums[old_action] -= old_reward
        self.values = self.sums / np.maximum(self.counts, 1)

    def shared_state(self):
        raise ValueError(
            "SlidingWindowUCB cannot federate: its window is an ordered history, not "
            "statistics that add up; use ucb1 or ucb1_adwin"
        )

    def checkpoint_arrays(self):
        return {
            "history_actions": ArraySpec(("pulls",), "i", low=0, high=self.n_arms - 1),
            "history_rewards": ArraySpec(("pulls",)),
        }

    def arrays(self):
        actions = np.array([a for a, _ in self.history], dtype=np.int64)
        rewards = np.array([r for _, r in self.history], dtype=np.float64)
        return {"history_actions": actions, "history_rewards": rewards}

    def restore_arrays(self, arrays):
        actions, rewards = arrays["history_actions"], arrays["history_rewards"]
        self.history = deque(zip(actions.tolist(), rewards.tolist()))
        self.counts = np.bincount(actions, minlength=self.n_arms).astype(float)
        self.sums = np.bincount(actions, weights=rewards, minlength=self.n_arms)
        self.values = self.sums / np.maximum(self.counts, 1)


class DiscountedUCB(Bandit):
    """UCB with every past reward discounted by gamma per step (Garivier and Moulines,
    2011): an arm's statistics fade unless it keeps being pulled."""

    def __init__(self, n_arms, seed=None, reward_range=None, gamma=0.99, c=2.0):
        super().__init__(n_arms, seed, reward_range)
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma, self.c = float(gamma), float(c)
        self.sums = np.zeros(self.n_arms)

    def hyperparameters(self):
        return super().hyperparameters() | {"gamma": self.gamma, "c": self.c}

    def choose(self, observation, action_mask):
        total = max(self.counts.sum(), 2.0)
        means = self.scale.normalize(self.sums / np.maximum(self.counts, 1e-12))
        bonus = np.sqrt(self.c * math.log(total) / np.maximum(self.counts, 1e-12))
        return self._argmax(means + bonus, action_mask)

    def update(self, observation, action, reward, next_observation, terminated):
        self.t += 1
        value = self.target(reward)
        self.counts *= self.gamma
        self.sums *= self.gamma
        self.counts[action] += 1.0
        self.sums[action] += value
        self.values = self.sums / np.maximum(self.counts, 1e-12)

    def shared_state(self):
        # a node's copy of the global statistics decays while it learns, so its change
        # from the global state is not its own experience, and changes do not add up
        raise ValueError(
            "DiscountedUCB cannot federate: its statistics decay with every pull, so "
            "nodes' changes do not add up; use ucb1"
        )

    def checkpoint_arrays(self):
        return {
            "counts": ArraySpec((self.n_arms,), low=0.0),
            "sums": ArraySpec((self.n_arms,)),
        }


class EXP3(Bandit):
    """Exponential weights for adversarial rewards (Auer et al., "The nonstochastic
    multiarmed bandit problem", 2002), with exploration ``gamma`` and importance-weighted
    estimates of the loss (1 - scaled reward); weights are kept in log space so they never
    overflow. Losses rather than gains, because with action masks the arms are "sleeping"
    (Kleinberg, Niculescu-Mizil and Sharma, 2010): an arm that is the only valid one is
    played often whatever its reward, and would pile up gains; losses make every forced
    pull count against it. In expectation the two differ by the same constant for every
    arm, which exponential weights ignore."""

    def __init__(self, n_arms, seed=None, reward_range=None, gamma=0.1):
        super().__init__(n_arms, seed, reward_range)
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)
        self.log_weights = np.zeros(self.n_arms)
        self.played: np.ndarray | None = None  # the distribution of the last act

    def hyperparameters(self):
        return super().hyperparameters() | {"gamma": self.gamma}

    def probabilities(self, action_mask: np.ndarray | None = None) -> np.ndarray:
        """The arms' probabilities, restricted to the valid ones if masked."""
        weights = np.exp(self.log_weights - self.log_weights.max())
        p = (1.0 - self.gamma) * weights / weights.sum() + self.gamma / self.n_arms
        if action_mask is None:
            return p
        p = np.where(action_mask, p, 0.0)
        return p / p.sum()

    def act(self, observation, action_mask=None):
        self.played = self.probabilities(action_mask)
        return int(self.rng.choice(self.n_arms, p=self.played))

    def update(self, observation, action, reward, next_observation, terminated):
        played = self.played if self.played is not None else self.probabilities()
        probability, self.played = played[action], None
        super().update(observation, action, reward, next_observation, terminated)
        loss_estimate = (1.0 - self.scale(float(reward))) / probability
        self.log_weights[action] -= self.gamma * loss_estimate / self.n_arms

    def replay(self, contexts, arms, rewards, pulls_per_arm):
        raise ValueError(
            "EXP3 cannot learn from another policy's log: its loss estimates are weighted "
            "by its own probabilities of the arms it pulled"
        )

    def shared_state(self):
        # log-weights are sums of loss estimates, so they pool like the other statistics
        return super().shared_state() | {"log_weights": self.log_weights.copy()}

    def load_shared_state(self, state):
        super().load_shared_state(state)
        self.log_weights = np.asarray(state["log_weights"], float).copy()

    def checkpoint_arrays(self):
        return super().checkpoint_arrays() | {"log_weights": ArraySpec((self.n_arms,))}


class LinUCB(Bandit):
    """Contextual bandit with a linear reward model per arm (Li, Chu, Langford and
    Schapire, "A contextual-bandit approach to personalized news article
    recommendation", WWW 2010, disjoint model). The context is the flattened
    observation plus a constant 1.

    Args:
        context_dim: the observation's size.
        alpha: the width of the confidence bonus.
        ridge: the ridge regularization of each arm's least squares.
    """

    def __init__(self, n_arms, context_dim, seed=None, reward_range=None, alpha=1.0, ridge=1.0):
        super().__init__(n_arms, seed, reward_range)
        self.context_dim, self.alpha, self.ridge = int(context_dim), float(alpha), float(ridge)
        d = self.context_dim + 1
        self.precision = np.stack([np.eye(d) * self.ridge for _ in range(self.n_arms)])
        self.covariance = np.stack([np.eye(d) / self.ridge for _ in range(self.n_arms)])
        self.moments = np.zeros((self.n_arms, d))

    def hyperparameters(self):
        return super().hyperparameters() | {
            "context_dim": self.context_dim,
            "alpha": self.alpha,
            "ridge": self.ridge,
        }

    def context(self, observation) -> np.ndarray:
        x = np.asarray(observation, dtype=np.float64).ravel()
        if x.size != self.context_dim:
            raise ValueError(f"LinUCB expects contexts of size {self.context_dim}, got {x.size}")
        return np.append(x, 1.0)

    def act(self, observation, action_mask=None):
        x = self.context(observation)
        theta = np.einsum("aij,aj->ai", self.covariance, self.moments)
        width = np.sqrt(np.einsum("i,aij,j->a", x, self.covariance, x))
        return self._argmax(theta @ x + self.alpha * width, action_mask)

    def update(self, observation, action, reward, next_observation, terminated):
        self.t += 1
        self.counts[action] += 1
        x = self.context(observation)
        self.precision[action] += np.outer(x, x)
        # Sherman-Morrison keeps the inverse current in O(d^2)
        cx = self.covariance[action] @ x
        self.covariance[action] -= np.outer(cx, cx) / (1.0 + x @ cx)
        self.moments[action] += float(reward) * x

    def predict(self, observation) -> np.ndarray:
        """Each arm's estimated expected reward for ``observation``."""
        x = self.context(observation)
        return np.einsum("aij,aj->ai", self.covariance, self.moments) @ x

    def shared_state(self):
        """Counts, each arm's A (the ridge prior plus the sum of x x^T) and b (the sum of
        r x); changes from the common prior add up across nodes."""
        return {
            "counts": self.counts.copy(),
            "precision": self.precision.copy(),
            "moments": self.moments.copy(),
        }

    def load_shared_state(self, state):
        self.counts = np.maximum(np.asarray(state["counts"], float), 0.0)
        self.t = int(round(self.counts.sum()))
        self.precision = np.asarray(state["precision"], float).copy()
        self.moments = np.asarray(state["moments"], float).copy()
        self.covariance = np.linalg.inv(self.precision)

    def checkpoint_arrays(self):
        d = self.context_dim + 1
        return {
            "counts": ArraySpec((self.n_arms,), low=0.0),
            "precision": ArraySpec((self.n_arms, d, d)),
            "covariance": ArraySpec((self.n_arms, d, d)),
            "moments": ArraySpec((self.n_arms, d)),
        }
