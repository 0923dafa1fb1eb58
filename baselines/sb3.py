"""Stable-Baselines3 algorithms on opsgym, configured by rl-zoo3-format YAML.

Hyperparameters live in ``baselines/hyperparams/<algo>.yml``, keyed by environment id,
in the format rl-zoo3 reads (``n_timesteps``, ``n_envs``, ``policy``, ``normalize``,
constructor arguments, ``lin_<value>`` linear schedules), so the same files drive
``opsgym train`` and rl-zoo3's own ``train.py``. A ``default`` block covers ids without
their own.

A trained model plays through :class:`SB3Policy`, which follows the opsgym policy
protocol. Observation statistics of ``VecNormalize`` are saved as ``.npz`` next to the
model rather than pickled.
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.utils import ConstantSchedule, LinearSchedule

from opsgym.agents.atomic import atomic_write
from opsgym.agents.schema import ArraySpec, read_arrays

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN}
if importlib.util.find_spec("sb3_contrib") is not None:
    from sb3_contrib import MaskablePPO

    ALGORITHMS["maskable_ppo"] = MaskablePPO

SCHEDULED_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
# Keys of a hyperparameter block that configure the run, not the algorithm's constructor.
RUN_KEYS = ("n_timesteps", "n_envs", "normalize", "env_kwargs")


def algorithm_names() -> list[str]:
    """The SB3 algorithms available here (``maskable_ppo`` needs sb3-contrib)."""
    return sorted(ALGORITHMS)


def hyperparams_path(algo: str) -> Path:
    """The shipped rl-zoo3 YAML file of ``algo``."""
    return Path(str(resources.files("opsgym.baselines") / "hyperparams" / f"{algo}.yml"))


def shipped_hyperparams() -> dict[str, Path]:
    """Every hyperparameter file installed with opsgym, by name: each SB3 algorithm's
    and ``agents`` (the hand-written agents'), as ``opsgym hyperparams NAME`` prints them."""
    folder = hyperparams_path("ppo").parent
    return {path.stem: path for path in sorted(folder.glob("*.yml"))}


def load_hyperparams(algo: str, env_id: str, config_file: str | Path | None = None) -> dict:
    """The hyperparameter block of ``env_id`` for ``algo``, as rl-zoo3 would pick it.

    Args:
        algo: an algorithm name from :func:`algorithm_names`.
        env_id: the environment id; its block, else the file's ``default`` block.
        config_file: a YAML file in the same format, instead of the shipped one.

    Raises:
        ValueError: unknown algorithm, unreadable file, or no block for ``env_id``.
    """
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown SB3 algorithm {algo!r}; choose from {algorithm_names()}")
    path = Path(config_file) if config_file is not None else hyperparams_path(algo)
    try:
        blocks = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read hyperparameters from {path}: {error}") from error
    if not isinstance(blocks, dict):
        raise ValueError(f"{path}: expected a mapping of environment ids to hyperparameters")
    block = blocks.get(env_id, blocks.get("default"))
    if not isinstance(block, dict):
        raise ValueError(f"{path}: no hyperparameters for {env_id!r} and no 'default' block")
    return dict(block)


def split_hyperparams(block: dict) -> tuple[dict, dict]:
    """Separate a block into run settings and the algorithm's constructor arguments.

    Schedules written as rl-zoo3 writes them (``lin_3e-4``) become SB3 schedule objects,
    decaying linearly from the value to 0 over training.
    """
    run = {key: block[key] for key in RUN_KEYS if key in block}
    model = {key: value for key, value in block.items() if key not in RUN_KEYS}
    for key in SCHEDULED_KEYS:
        value = model.get(key)
        if isinstance(value, str):
            kind, _, number = value.partition("_")
            if kind != "lin" or not _is_float(number):
                raise ValueError(f"{key}: expected a number or 'lin_<number>', got {value!r}")
            model[key] = LinearSchedule(float(number), 0.0, 1.0)
        elif isinstance(value, (int, float)) and key != "learning_rate" and value >= 0:
            model[key] = ConstantSchedule(float(value))
    if isinstance(model.get("train_freq"), list):
        model["train_freq"] = tuple(model["train_freq"])
    normalize = run.get("normalize", False)
    if isinstance(normalize, str):
        raise ValueError("normalize: write it as true/false or a mapping, not a Python string")
    if isinstance(model.get("policy_kwargs"), str):
        raise ValueError(
            "policy_kwargs: write it as a YAML mapping ({net_arch: [64, 64]}), not a Python "
            "string: opsgym never evaluates code from a config file"
        )
    return run, model


def normalize_kwargs(run: dict, model: dict) -> dict | None:
    """VecNormalize's arguments for a run block, or None when it does not normalize."""
    normalize = run.get("normalize", False)
    if not normalize:
        return None
    kwargs = dict(normalize) if isinstance(normalize, dict) else {}
    if "gamma" in model:
        kwargs["gamma"] = model["gamma"]
    return kwargs


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def save_observation_statistics(vec_normalize, path: Path) -> None:
    """Write VecNormalize's observation statistics as ``.npz`` (no pickle), atomically."""
    rms = vec_normalize.obs_rms
    with atomic_write(path, binary=True) as handle:
        np.savez(
            handle,
            mean=rms.mean,
            var=rms.var,
            count=np.array(rms.count, dtype=np.float64),
            clip_obs=np.array(vec_normalize.clip_obs, dtype=np.float64),
            epsilon=np.array(vec_normalize.epsilon, dtype=np.float64),
            norm_obs=np.array(vec_normalize.norm_obs, dtype=bool),
        )


def observation_statistics_specs(shape: tuple[int, ...]) -> dict[str, ArraySpec]:
    """What :func:`save_observation_statistics` writes, for observations of ``shape``."""
    return {
        "mean": ArraySpec(shape),
        "var": ArraySpec(shape, low=0.0),
        "count": ArraySpec((), low=0.0),
        "clip_obs": ArraySpec((), low=0.0),
        # a positive epsilon keeps the standard deviation of a constant feature above 0
        "epsilon": ArraySpec((), low=float(np.finfo(np.float64).tiny)),
        "norm_obs": ArraySpec((), "b"),
    }


class ObservationNormalizer:
    """The observation transform of a trained VecNormalize, frozen."""

    def __init__(self, mean, var, epsilon: float, clip: float, enabled: bool) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.sqrt(np.asarray(var, dtype=np.float64) + epsilon)
        self.clip = clip
        self.enabled = enabled

    @classmethod
    def load(cls, path: str | Path, shape: tuple[int, ...]) -> ObservationNormalizer:
        """Read the statistics :func:`save_observation_statistics` wrote for observations
        of ``shape``.

        Raises:
            ValueError: naming the file: missing, corrupt, or for another shape.
        """
        data = read_arrays(path, observation_statistics_specs(tuple(shape)))
        return cls(
            data["mean"],
            data["var"],
            float(data["epsilon"]),
            float(data["clip_obs"]),
            bool(data["norm_obs"]),
        )

    @classmethod
    def from_vec_normalize(cls, vec_normalize) -> ObservationNormalizer:
        """A frozen copy of a live VecNormalize's current statistics."""
        rms = vec_normalize.obs_rms
        return cls(
            rms.mean.copy(),
            rms.var.copy(),
            vec_normalize.epsilon,
            vec_normalize.clip_obs,
            vec_normalize.norm_obs,
        )

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return observation
        normalized = (observation - self.mean) / self.std
        return np.clip(normalized, -self.clip, self.clip).astype(np.float32)


class SB3Policy:
    """A trained SB3 model behind the opsgym policy protocol (MaskablePPO uses the mask).

    Args:
        model: the trained algorithm.
        normalizer: the frozen observation normalization the model was trained with.
        sample_seed: sample each action from the policy's action distribution, with a
            generator of this seed, rather than take the most likely action (``None``).
            Only the actor-critic algorithms (PPO, A2C) have a distribution to sample.

    Raises:
        ValueError: ``sample_seed`` is given for a model without an action distribution.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        normalizer: ObservationNormalizer | None = None,
        sample_seed: int | None = None,
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.masked = type(model).__name__ == "MaskablePPO"
        self.rng = None if sample_seed is None else np.random.default_rng(sample_seed)
        if self.rng is not None and not hasattr(model.policy, "get_distribution"):
            raise ValueError(
                f"a {type(model).__name__} model has no action distribution to sample; "
                "its greedy action is its policy"
            )

    def act(self, observation: Any, action_mask: np.ndarray | None = None) -> int:
        if self.normalizer is not None:
            observation = self.normalizer(observation)
        mask: dict[str, Any] = {}
        if self.masked and action_mask is not None:
            mask["action_masks"] = action_mask
        if self.rng is None:
            action, _ = self.model.predict(observation, deterministic=True, **mask)
            return int(action)
        policy = self.model.policy
        observation_tensor, _ = policy.obs_to_tensor(observation)
        with torch.no_grad():
            distribution = policy.get_distribution(observation_tensor, **mask)
        probs = distribution.distribution.probs[0].numpy().astype(np.float64)
        return int(self.rng.choice(len(probs), p=probs / probs.sum()))


def load_model(algo: str, path: str | Path) -> BaseAlgorithm:
    """Load a saved model of ``algo`` on the CPU, with a clear error when it cannot be."""
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown SB3 algorithm {algo!r}; choose from {algorithm_names()}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file not found: {path}")
    try:
        return ALGORITHMS[algo].load(path, device="cpu")
    except Exception as error:  # SB3 raises many kinds on a corrupt archive
        raise ValueError(f"cannot load a {algo} model from {path}: {error}") from error
