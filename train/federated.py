"""``opsgym federated``: isolated, federated and centralized learning across nodes.

Each node runs the environment with its own workload (:func:`node_configs`) and
holds one learner per regime:

- *isolated*: every node learns alone for ``rounds * steps_per_round`` steps;
- *federated*: each round, a seeded choice of nodes (``participation``) start from the
  global state, learn for ``steps_per_round`` steps, and the server combines their
  states (:func:`opsgym.agents.federated.federated_average`, optionally DP-FedAvg);
- *centralized*: one learner sees every node's experience: its state passes from node
  to node, ``steps_per_round`` steps on each, for ``rounds`` rounds.

Learners are the hand-written agents (:mod:`opsgym.agents`) or SB3 algorithms, whose
policy parameters are averaged weighted by steps (:class:`SB3Learner`).

Every regime's final learner is then evaluated on every node's environment, on that
node's evaluation seeds; results are means over each node's episodes, summarized across
nodes. Nodes are Ray actors with ``backend="ray"`` and plain objects in this process with
``backend="local"``; the numbers are the same, since every node draws from its own seeds
and the server combines states in node order.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from opsgym.agents import make_agent
from opsgym.agents.federated import (
    Federable,
    PrivacySettings,
    State,
    federated_average,
    privacy_epsilon,
)
from opsgym.agents.protocol import MaskAwareCaller
from opsgym.baselines import sb3
from opsgym.baselines.vec_env import make_training_env
from opsgym.envs.packages import package
from opsgym.train.ray_backend import init_ray
from opsgym.train.runner import evaluation_seeds, is_online, make_env, run_episode
from opsgym.train.stats import mean_interval
from opsgym.train.table import format_interval, markdown_table
from opsgym.train.training import evaluation_copy, make_sb3_model

NODE_SEED_STRIDE = 10_000  # training seeds of node i start at seed + i * stride
MAX_NODES = 64  # keeps every node's training seeds below the evaluation seeds
REGIMES = ("isolated", "federated", "centralized")
BACKENDS = ("auto", "local", "ray")


@dataclass
class FederatedSettings:
    """One comparison of isolated, federated and centralized learning."""

    env_id: str
    agent: str
    nodes: int = 4
    rounds: int = 10
    steps_per_round: int = 2000
    participation: float = 1.0
    dp_clip: float | None = None
    dp_noise: float | None = None
    dp_delta: float = 1e-5
    backend: str = "auto"
    address: str | None = None  # a Ray cluster's host:port; None starts a private one
    seed: int = 0
    eval_episodes: int = 5
    env_kwargs: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)

    def validate(self) -> None:
        for name in ("nodes", "rounds", "steps_per_round", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.nodes > MAX_NODES:
            raise ValueError(f"nodes must be <= {MAX_NODES}, got {self.nodes}")
        if not 0.0 < self.participation <= 1.0:
            raise ValueError(f"participation must be in (0, 1], got {self.participation}")
        if (self.dp_clip is None) != (self.dp_noise is None):
            raise ValueError("differential privacy needs both dp_clip and dp_noise")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {list(BACKENDS)}, got {self.backend!r}")
        if self.address is not None and self.backend == "local":
            raise ValueError("--address names a Ray cluster: it needs --backend ray or auto")

    def privacy(self) -> PrivacySettings | None:
        if self.dp_clip is None:
            return None
        return PrivacySettings(float(self.dp_clip), float(self.dp_noise))

    def participants(self) -> int:
        return max(1, round(self.participation * self.nodes))


class SB3Learner:
    """An SB3 model as a federable learner: its policy's parameters (``state_dict``),
    averaged weighted by the steps each node learned (FedAvg). Each node trains without
    observation normalization (whose statistics would need federating too); optimizer
    state stays local, as in FedAvg.

    A node trains on instances of its own configuration, in the id's native vector env
    where it has one (:func:`~opsgym.baselines.vec_env.make_training_env`): the block's
    ``n_envs``, but for an on-policy algorithm no more than one rollout (``n_envs x
    n_steps``) needs to cover ``steps_per_round``: SB3 learns in whole rollouts, and
    larger ones would make every regime learn more steps than it was given.
    """

    online = False

    def __init__(
        self,
        algo: str,
        env_id: str,
        env_kwargs: dict,
        seed: int,
        overrides: dict,
        steps_per_round: int,
    ) -> None:
        block = sb3.load_hyperparams(algo, env_id) | overrides
        run_settings, model_kwargs = sb3.split_hyperparams(block)
        self.n_envs = int(run_settings.get("n_envs", 1))
        n_steps = model_kwargs.get("n_steps", _default(sb3.ALGORITHMS[algo], "n_steps"))
        if n_steps is not None:
            self.n_envs = max(1, min(self.n_envs, math.ceil(steps_per_round / n_steps)))
        venv = make_training_env(env_id, self.n_envs, seed, env_kwargs).venv
        self.model = make_sb3_model(algo, venv, {}, model_kwargs, seed)

    def learn(self, steps: int) -> None:
        self.model.learn(total_timesteps=steps, reset_num_timesteps=False)

    def act(self, observation, action_mask=None) -> int:
        return sb3.SB3Policy(self.model).act(observation, action_mask)

    def shared_state(self) -> State:
        params = self.model.policy.state_dict()
        state = {f"param/{k}": v.detach().cpu().numpy().astype(float) for k, v in params.items()}
        return state | {"steps": np.array(float(self.model.num_timesteps))}

    def load_shared_state(self, state: State) -> None:
        import torch

        params = self.model.policy.state_dict()
        self.model.policy.load_state_dict(
            {k: torch.as_tensor(state[f"param/{k}"], dtype=v.dtype) for k, v in params.items()}
        )
        self.model.num_timesteps = max(0, int(round(float(state["steps"]))))  # DP noise

    def weight_key(self, key: str) -> str | None:
        return "steps" if key.startswith("param/") else None


def _default(algorithm: type, name: str):
    """The default of ``algorithm``'s constructor argument ``name`` (None if it has none)."""
    parameter = inspect.signature(algorithm).parameters.get(name)
    return None if parameter is None else parameter.default


def make_learner(
    agent: str, env_id: str, env_kwargs: dict, seed: int, overrides: dict, steps_per_round: int
):
    """A hand-written agent or an SB3 algorithm (wrapped in :class:`SB3Learner`)."""
    if agent in sb3.ALGORITHMS:
        return SB3Learner(agent, env_id, env_kwargs, seed, overrides, steps_per_round)
    return make_agent(agent, make_env(env_id, env_kwargs), seed=seed, **overrides)


class NodeWorker:
    """One node: its environment and one learner per regime, each with its own stream
    of training episodes (seeds ``node_seed, node_seed + 1, ...``)."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict,
        agent: str,
        overrides: dict,
        seed: int,
        steps_per_round: int,
    ):
        import opsgym.envs  # noqa: F401  (a Ray actor must register the ids itself)

        self.env_id, self.env_kwargs = env_id, env_kwargs
        self.agent, self.overrides, self.seed = agent, overrides, seed
        self.steps_per_round = steps_per_round
        self.env = make_env(env_id, env_kwargs)
        self.learners: dict[str, object] = {}
        self.streams: dict[str, list] = {}  # regime -> [env, observation, info, episode]

    def _learner(self, regime: str):
        if regime not in self.learners:
            self.learners[regime] = make_learner(
                self.agent,
                self.env_id,
                self.env_kwargs,
                self.seed,
                self.overrides,
                self.steps_per_round,
            )
            env = make_env(self.env_id, self.env_kwargs)
            observation, info = env.reset(seed=self.seed)
            self.streams[regime] = [env, observation, info, 0]
        return self.learners[regime]

    def train(self, regime: str, steps: int, state: State | None = None) -> State:
        """Learn for ``steps`` steps (from ``state`` if given); return the shared state."""
        learner = self._learner(regime)
        if state is not None:
            learner.load_shared_state(state)
        if isinstance(learner, SB3Learner):
            learner.learn(steps)
            return learner.shared_state()
        caller = MaskAwareCaller(learner)
        env, observation, info, episode = self.streams[regime]
        for _ in range(steps):
            action = caller.act(observation, info)
            next_observation, reward, terminated, truncated, info = env.step(action)
            caller.update(observation, action, float(reward), next_observation, terminated, info)
            observation = next_observation
            if terminated or truncated:
                episode += 1
                observation, info = env.reset(seed=self.seed + episode)
        self.streams[regime] = [env, observation, info, episode]
        return learner.shared_state()

    def evaluate(self, regime: str, state: State | None, episodes: int) -> dict[str, float]:
        """The mean return and domain metrics on this node's evaluation seeds of the
        regime's learner, with ``state`` loaded into a copy of it if given."""
        learner = self._learner(regime)
        # an SB3 model does not change while it acts (and torch modules do not deepcopy)
        policy = learner if isinstance(learner, SB3Learner) else evaluation_copy(learner)
        if state is not None:
            policy.load_shared_state(state)
        learn = is_online(policy)
        results = [
            run_episode(self.env, policy, s, learn) for s in evaluation_seeds(self.seed, episodes)
        ]
        row = {"return": float(np.mean([r.episode_return for r in results]))}
        for name in results[0].metrics:
            row[name] = float(np.mean([r.metrics[name] for r in results]))
        return row


class LocalNodes:
    """Nodes as objects in this process."""

    def __init__(self, specs: list[dict], address: str | None = None) -> None:
        self.workers = [NodeWorker(**spec) for spec in specs]

    def call(self, method: str, calls: list[tuple[int, tuple]]) -> list:
        """``method(*args)`` on node ``i`` for each ``(i, args)``, results in that order."""
        return [getattr(self.workers[i], method)(*args) for i, args in calls]

    def close(self) -> None:
        pass


class RayNodes:
    """Nodes as Ray actors; calls in one batch run in parallel."""

    def __init__(self, specs: list[dict], address: str | None = None) -> None:
        ray = init_ray(address)
        self.ray = ray
        # num_cpus=0: actors are placed even when there are more nodes than cores
        actor = ray.remote(num_cpus=0)(NodeWorker)
        self.workers = [actor.remote(**spec) for spec in specs]

    def call(self, method: str, calls: list[tuple[int, tuple]]) -> list:
        futures = [getattr(self.workers[i], method).remote(*args) for i, args in calls]
        return self.ray.get(futures)

    def close(self) -> None:
        for worker in self.workers:
            self.ray.kill(worker)


def resolve_backend(backend: str) -> str:
    """``auto`` is Ray when it is installed, else local; the choice is printed, since
    it depends on what this machine has installed."""
    ray_installed = importlib.util.find_spec("ray") is not None
    if backend == "auto":
        picked = "ray" if ray_installed else "local"
        reason = "Ray is installed" if ray_installed else "Ray is not installed"
        print(f"opsgym federated: backend {picked} ({reason}; --backend sets it)", file=sys.stderr)
        return picked
    if backend == "ray" and not ray_installed:
        raise ValueError("--backend ray needs Ray: pip install 'opsgym[ray]'")
    return backend


def node_configs(env_id: str, n_nodes: int, env_kwargs: dict | None = None) -> list[dict]:
    """The constructor arguments of ``n_nodes`` nodes of the environment ``env_id``: N
    sites running it on their own workloads.

    Node ``i`` gets the variation ``i`` of the environment's ``NODE_VARIATIONS`` (cycled
    when there are more nodes than variations); an environment without variations gives
    every node the default configuration, so that nodes differ only by their seeds.

    Args:
        env_id: an opsgym environment's id.
        n_nodes: the number of nodes.
        env_kwargs: arguments every node shares; a node's own variation overrides them.
    """
    if n_nodes < 1:
        raise ValueError(f"n_nodes must be >= 1, got {n_nodes!r}")
    variations = package(env_id).NODE_VARIATIONS or [{}]
    shared = dict(env_kwargs or {})
    return [shared | variations[i % len(variations)] for i in range(n_nodes)]


def run_federated(settings: FederatedSettings) -> dict:
    """Run the three regimes; return the settings, the per-node rows of each regime
    (evaluated in node order) and the privacy guarantee if any."""
    settings.validate()
    configs = node_configs(settings.env_id, settings.nodes, settings.env_kwargs)
    template = make_learner(
        settings.agent,
        settings.env_id,
        configs[0],
        settings.seed,
        settings.overrides,
        settings.steps_per_round,
    )
    if not isinstance(template, Federable):
        raise ValueError(f"agent {settings.agent!r} cannot federate (no shared_state)")
    initial = template.shared_state()
    specs = [
        {
            "env_id": settings.env_id,
            "env_kwargs": config,
            "agent": settings.agent,
            "overrides": settings.overrides,
            "seed": settings.seed + i * NODE_SEED_STRIDE,
            "steps_per_round": settings.steps_per_round,
        }
        for i, config in enumerate(configs)
    ]
    backend = resolve_backend(settings.backend)
    nodes = (RayNodes if backend == "ray" else LocalNodes)(specs, settings.address)
    everyone = range(settings.nodes)
    episodes, steps = settings.eval_episodes, settings.steps_per_round
    try:
        total = settings.rounds * steps
        nodes.call("train", [(i, ("isolated", total)) for i in everyone])
        rows = {
            "isolated": nodes.call(
                "evaluate", [(i, ("isolated", None, episodes)) for i in everyone]
            )
        }

        choose = np.random.default_rng([settings.seed, 1])
        noise = np.random.default_rng([settings.seed, 2])
        state = initial
        for _ in range(settings.rounds):
            chosen = sorted(choose.choice(settings.nodes, settings.participants(), replace=False))
            states = nodes.call("train", [(int(i), ("federated", steps, state)) for i in chosen])
            state = federated_average(state, states, template.weight_key, settings.privacy(), noise)
        rows["federated"] = nodes.call(
            "evaluate", [(i, ("federated", state, episodes)) for i in everyone]
        )

        state = initial
        for _ in range(settings.rounds):
            for i in everyone:
                state = nodes.call("train", [(i, ("centralized", steps, state))])[0]
        rows["centralized"] = nodes.call(
            "evaluate", [(i, ("centralized", state, episodes)) for i in everyone]
        )
    finally:
        nodes.close()
    result = {"settings": asdict(settings) | {"backend": backend}, "regimes": rows}
    if settings.dp_noise is not None:
        result["privacy"] = {
            "clip": settings.dp_clip,
            "noise_multiplier": settings.dp_noise,
            "delta": settings.dp_delta,
            "epsilon": privacy_epsilon(settings.dp_noise, settings.rounds, settings.dp_delta),
        }
    return result


def federated_table(result: dict) -> str:
    """A Markdown table: one row per regime, mean ± 95% CI across nodes per column."""
    regimes = result["regimes"]
    columns = list(next(iter(regimes.values()))[0])
    rows = []
    for regime, node_rows in regimes.items():
        label = regime
        if regime == "federated" and "privacy" in result:
            label = f"federated (DP, eps={result['privacy']['epsilon']:.3g})"
        cells = [format_interval(*mean_interval([r[c] for r in node_rows])) for c in columns]
        rows.append([label, *cells])
    return markdown_table(["regime", *columns], rows)
