"""Load what ``opsgym train`` saved as a policy, with errors that say what is wrong."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

from opsgym.agents import make_agent
from opsgym.agents.protocol import Policy
from opsgym.agents.schema import check
from opsgym.baselines import sb3
from opsgym.baselines.residual import residual_policy, residual_spaces
from opsgym.train.run_folder import CONFIG_FILE, read_config
from opsgym.train.training import AGENT_FILE, MODEL_FILE, NORMALIZER_FILE


def load_trained_policy(
    run_path: str | Path, env: gym.Env, sample_seed: int | None = None
) -> tuple[str, Policy]:
    """The policy saved in a run folder, ready to act in ``env``, and its display name.

    Args:
        run_path: a run folder written by ``opsgym train``.
        env: the environment the policy will act in.
        sample_seed: an SB3 model samples its actions with a generator of this seed
            rather than take the most likely one (:class:`~opsgym.baselines.sb3.SB3Policy`);
            hand-written agents act greedily either way.

    Raises:
        ValueError: not a run folder, a corrupt or missing model, a model trained on
            another environment or with another observation space, a ``sample_seed`` for
            a model with no action distribution to sample (DQN).
    """
    run_path = Path(run_path)
    config = read_config(run_path)
    env_id = env.spec.id if env.spec is not None else None
    if config["env_id"] != env_id:
        raise ValueError(f"{run_path} was trained on {config['env_id']}, not on {env_id}")
    label = f"{config['agent']} (seed {config['seed']})"
    if config.get("kind") == "sb3":
        # behaviour cloning ("bc") saves the model of the algorithm it was shaped for
        model = sb3.load_model(config.get("algorithm", config["agent"]), run_path / MODEL_FILE)
        # a residual learner sees the env with the rule's action added (baselines/residual.py)
        rule = config.get("rule_start", {}).get("residual")
        spaces = (env.observation_space, env.action_space) if rule is None else residual_spaces(env)
        _check_space("observation", model.observation_space, spaces[0], run_path)
        _check_space("action", model.action_space, spaces[1], run_path)
        normalizer_file = run_path / NORMALIZER_FILE
        normalizer = None
        if normalizer_file.is_file():
            normalizer = sb3.ObservationNormalizer.load(normalizer_file, spaces[0].shape)
        policy = sb3.SB3Policy(model, normalizer=normalizer, sample_seed=sample_seed)
        if rule is not None:
            policy = residual_policy(policy, env, rule, config["seed"])
        return label, policy
    if config.get("kind") == "agent":
        check(config, {"hyperparams": dict}, run_path / CONFIG_FILE)
        agent = make_agent(config["agent"], env, seed=config["seed"], **config["hyperparams"])
        agent.load(run_path / AGENT_FILE)
        if hasattr(agent, "greedy"):
            agent.greedy = True
        return label, agent
    raise ValueError(f"{run_path}: unknown run kind {config.get('kind')!r}")


def _check_space(what: str, saved: gym.Space, current: gym.Space, path: Path) -> None:
    if saved != current:
        raise ValueError(
            f"{path} was trained with {what} space {saved}, but this environment has {current} "
            "(different constructor arguments?)"
        )
