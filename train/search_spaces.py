"""What ``opsgym tune`` searches: one space per SB3 algorithm and per hand-written agent.

A space is Optuna distributions over flat parameters (what the sampler sees and the
tuning record lists) and a function that turns one draw into hyperparameters (what
training receives and ``--write-hyperparams`` writes): the network's width and depth
become ``policy_kwargs``, a tabular agent's exploration parameters a linear schedule,
and sizes that cannot exceed the budget or the rollout are capped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

# Hyperparameters from one draw: (draw, the id's configured block, the budget) -> block.
Builder = Callable[[dict, dict, int], dict]


@dataclass(frozen=True)
class SearchSpace:
    """Distributions over the parameters, and how a draw becomes hyperparameters."""

    distributions: dict[str, BaseDistribution]
    build: Builder


def _log(low: float, high: float) -> FloatDistribution:
    return FloatDistribution(low, high, log=True)


def _choice(*values) -> CategoricalDistribution:
    return CategoricalDistribution(values)


DISCOUNTS = _choice(0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
NETWORK = {"net_width": _choice(32, 64, 128, 256), "net_depth": IntDistribution(1, 3)}
OBSERVATION_NORMALIZATION = {"norm_obs": _choice(False, True)}


def _network_and_normalization(draw: dict, block: dict) -> dict:
    """``policy_kwargs`` from the width and depth, ``normalize`` with the drawn norm_obs."""
    normalize = block.get("normalize") or {"norm_reward": False}
    normalize = dict(normalize) if isinstance(normalize, dict) else {"norm_reward": True}
    return {
        "policy_kwargs": {"net_arch": [draw["net_width"]] * draw["net_depth"]},
        "normalize": normalize | {"norm_obs": draw["norm_obs"]},
    }


def _as_drawn(draw: dict, *derived: str) -> dict:
    """The drawn values that are hyperparameters as drawn: all but the network's shape, the
    normalization and the ``derived`` ones, in the order of the space."""
    shaping = {*NETWORK, *OBSERVATION_NORMALIZATION, *derived}
    return {key: value for key, value in draw.items() if key not in shaping}


def _ppo(draw: dict, block: dict, budget: int) -> dict:
    n_envs = draw["n_envs"]
    # at least two rollouts within the budget, and minibatches no larger than a rollout
    n_steps = min(draw["n_steps"], max(budget // (2 * n_envs), 8))
    return (
        _as_drawn(draw, "n_envs", "n_steps", "batch_size")
        | {
            "n_envs": n_envs,
            "n_steps": n_steps,
            "batch_size": min(draw["batch_size"], n_steps * n_envs),
        }
        | _network_and_normalization(draw, block)
    )


def _a2c(draw: dict, block: dict, budget: int) -> dict:
    return _as_drawn(draw) | _network_and_normalization(draw, block)


def _dqn(draw: dict, block: dict, budget: int) -> dict:
    return (
        _as_drawn(draw, "learning_starts")
        | {"learning_starts": min(draw["learning_starts"], budget // 4)}
        | _network_and_normalization(draw, block)
    )


# Many envs and large minibatches: opsgym train steps the native vector envs in batches,
# and torch's per-call overhead dominates small minibatches of these small networks.
PARALLEL_ENVS = {"n_envs": _choice(8, 32, 64, 128, 256)}

PPO_SPACE = SearchSpace(
    {
        **PARALLEL_ENVS,
        "learning_rate": _log(1e-5, 1e-2),
        "n_steps": _choice(16, 32, 64, 128, 256, 512),
        "batch_size": _choice(64, 256, 1024, 2048, 4096),
        "n_epochs": _choice(1, 3, 5, 10, 20),
        "gamma": DISCOUNTS,
        "gae_lambda": _choice(0.8, 0.9, 0.92, 0.95, 0.98, 1.0),
        "ent_coef": _log(1e-8, 0.1),
        "clip_range": _choice(0.1, 0.2, 0.3, 0.4),
        **NETWORK,
        **OBSERVATION_NORMALIZATION,
    },
    _ppo,
)

SB3_SPACES: dict[str, SearchSpace] = {
    "ppo": PPO_SPACE,
    "maskable_ppo": PPO_SPACE,
    "a2c": SearchSpace(
        {
            **PARALLEL_ENVS,
            "learning_rate": _log(1e-5, 1e-2),
            "n_steps": _choice(5, 8, 16, 32, 64, 128),
            "gamma": DISCOUNTS,
            "gae_lambda": _choice(0.8, 0.9, 0.92, 0.95, 0.98, 1.0),
            "ent_coef": _log(1e-8, 0.1),
            "vf_coef": FloatDistribution(0.1, 1.0),
            "max_grad_norm": _choice(0.3, 0.5, 1.0, 2.0, 5.0),
            "use_rms_prop": _choice(True, False),
            **NETWORK,
            **OBSERVATION_NORMALIZATION,
        },
        _a2c,
    ),
    "dqn": SearchSpace(
        {
            "learning_rate": _log(1e-5, 1e-2),
            "batch_size": _choice(32, 64, 128, 256),
            "buffer_size": _choice(10_000, 50_000, 100_000, 1_000_000),
            "learning_starts": _choice(0, 1_000, 5_000, 10_000),
            "gamma": DISCOUNTS,
            "train_freq": _choice(1, 4, 8, 16),
            "gradient_steps": _choice(1, 2, 4),
            "target_update_interval": _choice(100, 500, 1_000, 5_000),
            "exploration_fraction": FloatDistribution(0.05, 0.5),
            "exploration_final_eps": FloatDistribution(0.0, 0.2),
            **NETWORK,
            **OBSERVATION_NORMALIZATION,
        },
        _dqn,
    ),
}


def _as_is(draw: dict, block: dict, budget: int) -> dict:
    return dict(draw)


def _tabular(draw: dict, block: dict, budget: int) -> dict:
    """Epsilon decays linearly over a drawn fraction of the budget; the learning rate is
    constant or 1/visits from a drawn start."""
    start = draw["epsilon_start"]
    return {
        "bins": draw["bins"],
        "gamma": draw["gamma"],
        "epsilon": {
            "kind": "linear",
            "start": start,
            "end": min(draw["epsilon_end"], start),
            "steps": max(1, round(draw["epsilon_decay_fraction"] * budget)),
        },
        "learning_rate": {"kind": draw["learning_rate_kind"], "start": draw["learning_rate"]},
    }


UCB_WIDTH = {"c": _log(0.01, 10.0)}
TABULAR_SPACE = SearchSpace(
    {
        "bins": IntDistribution(2, 8),
        "gamma": DISCOUNTS,
        "epsilon_start": _log(0.01, 1.0),
        "epsilon_end": FloatDistribution(0.0, 0.1),
        "epsilon_decay_fraction": FloatDistribution(0.05, 1.0),
        "learning_rate": _log(0.01, 1.0),
        "learning_rate_kind": _choice("constant", "visits"),
    },
    _tabular,
)

# The hand-written agents' main hyperparameters (their constructor arguments, see
# opsgym.agents); Thompson sampling has none, so it is not here.
AGENT_SPACES: dict[str, SearchSpace] = {
    "epsilon_greedy": SearchSpace({"epsilon": _log(0.001, 0.5)}, _as_is),
    "epsilon_greedy_decay": SearchSpace(
        {"epsilon": FloatDistribution(0.05, 1.0), "decay": _log(1.0, 1000.0)}, _as_is
    ),
    "ucb1": SearchSpace(UCB_WIDTH, _as_is),
    "sw_ucb": SearchSpace({"window": IntDistribution(20, 5000, log=True), **UCB_WIDTH}, _as_is),
    "discounted_ucb": SearchSpace(
        {"gamma": _choice(0.9, 0.95, 0.99, 0.995, 0.998, 0.999, 0.9995), **UCB_WIDTH}, _as_is
    ),
    "exp3": SearchSpace({"gamma": _log(0.001, 0.5)}, _as_is),
    "linucb": SearchSpace({"alpha": _log(0.01, 10.0), "ridge": _log(0.01, 100.0)}, _as_is),
    "ucb1_drift_reset": SearchSpace(
        {"threshold": _log(5.0, 500.0), "delta": _log(1e-4, 0.1), **UCB_WIDTH}, _as_is
    ),
    "ucb1_adwin": SearchSpace(
        {"delta": _log(1e-5, 0.1), "max_window": IntDistribution(100, 5000, log=True)} | UCB_WIDTH,
        _as_is,
    ),
    "q_learning": TABULAR_SPACE,
    "q_learning_visits": TABULAR_SPACE,
    "sarsa": TABULAR_SPACE,
    "expected_sarsa": TABULAR_SPACE,
}


def search_space(agent: str) -> SearchSpace:
    """The space of an SB3 algorithm or a hand-written agent.

    Raises:
        ValueError: ``agent`` has no space; the message lists those that have one.
    """
    spaces = SB3_SPACES | AGENT_SPACES
    if agent not in spaces:
        raise ValueError(f"no search space for {agent!r}; tunable agents are {sorted(spaces)}")
    return spaces[agent]
