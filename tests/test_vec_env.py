"""SB3 on the native vector envs: the adapter against make_vec_env, transition by transition."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest
import torch
from env_configs import SHORT_EPISODES, VECTOR_IDS, VECTOR_IN_DISTRIBUTION, VECTOR_TO_ROUNDING
from quiet_training import quiet_training
from stable_baselines3.common.vec_env import VecNormalize

from opsgym.baselines import sb3
from opsgym.baselines.vec_env import (
    MAKE_VEC_ENV,
    NATIVE,
    VecEnvAdapter,
    make_training_env,
    unbatch_info,
)
from opsgym.envs.packages import PACKAGES
from opsgym.train.cli import main
from opsgym.train.run_folder import read_config
from opsgym.train.training import make_sb3_model, train

MASKED_IDS = {env_id for env_id in VECTOR_IDS if hasattr(PACKAGES[env_id].ENV, "action_masks")}


def pair(env_id: str, n_envs: int, seed: int):
    """The adapter over the native vector env, and make_vec_env, with the same seed, on
    short episodes, so that every instance's episode ends several times within a test."""
    kwargs = SHORT_EPISODES[env_id].kwargs
    native = make_training_env(env_id, n_envs, seed, kwargs, NATIVE)
    reference = make_training_env(env_id, n_envs, seed, kwargs, MAKE_VEC_ENV)
    assert (native.backend, reference.backend) == (NATIVE, MAKE_VEC_ENV)
    return native.venv, reference.venv


def random_actions(n: int, count: int, seed: int, steps: int) -> list[np.ndarray]:
    """``steps`` batches of ``count`` actions in [0, n)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(n, size=count) for _ in range(steps)]


def assert_close(a, b, rtol: float, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    if rtol == 0.0:
        assert a.dtype == b.dtype or a.dtype.kind == b.dtype.kind, what
        assert np.array_equal(a, b), what
    else:
        assert np.allclose(a, b, rtol=rtol, atol=rtol), what


def assert_same_info(a: dict, b: dict, rtol: float, what: str) -> None:
    """Two instances' infos agree: same keys, same values (the monitors' episode record
    on its return, summed in float32 by VecMonitor and in float64 by Monitor, and length)."""
    assert set(a) == set(b), f"{what}: keys {sorted(set(a) ^ set(b))}"
    for key, value in b.items():
        if key == "episode":
            assert a[key]["l"] == value["l"], what
            assert a[key]["r"] == pytest.approx(value["r"], rel=1e-5, abs=1e-4), what
        elif isinstance(value, dict):
            assert_same_info(a[key], value, rtol, f"{what}[{key}]")
        else:
            assert_close(a[key], value, rtol, f"{what}[{key}]")


@pytest.mark.parametrize("env_id", sorted(set(VECTOR_IDS) - VECTOR_IN_DISTRIBUTION))
def test_sb3_receives_the_transitions_of_make_vec_env(env_id):
    rtol = VECTOR_TO_ROUNDING.get(env_id, 0.0)
    native, reference = pair(env_id, 3, seed=7)
    assert_close(native.reset(), reference.reset(), rtol, "first observations")
    ended = np.zeros(3, dtype=int)
    for step, actions in enumerate(random_actions(reference.action_space.n, 3, 7, 150)):
        if env_id in MASKED_IDS:
            masks = np.stack(reference.env_method("action_masks"))
            assert np.array_equal(np.stack(native.env_method("action_masks")), masks)
            actions = np.array([np.flatnonzero(m)[a % m.sum()] for m, a in zip(masks, actions)])
        observations, rewards, dones, infos = native.step(actions)
        expected = reference.step(actions)
        assert_close(observations, expected[0], rtol, f"step {step} observations")
        assert_close(rewards, expected[1], rtol, f"step {step} rewards")
        assert np.array_equal(dones, expected[2]), f"step {step} dones"
        for i, (info, expected_info) in enumerate(zip(infos, expected[3])):
            assert_same_info(info, expected_info, rtol, f"step {step} instance {i}")
        for i in np.flatnonzero(dones):  # SB3's wrappers leave reset_infos where it is
            expected_info = reference.unwrapped.reset_infos[i]
            assert_same_info(native.unwrapped.reset_infos[i], expected_info, rtol, f"reset {i}")
        ended += dones
    assert ended.min() >= 2  # every instance crossed at least two autoresets


def test_indexselection_through_the_adapter_matches_make_vec_env_in_distribution():
    # Actions alone decide the indexes built, the storage and when episodes end: those
    # agree exactly; the query counts come from the vector env's one generator, so the
    # pages per query agree in distribution (the two 95% intervals of the mean overlap).
    env_id, n_envs = "opsgym/IndexSelection-v0", 32
    native, reference = pair(env_id, n_envs, seed=5)
    k = len(gym.make(env_id).unwrapped.candidates())
    assert np.array_equal(native.reset()[:, :k], reference.reset()[:, :k])
    pages = {"native": [], "reference": []}
    for actions in random_actions(reference.action_space.n, n_envs, 5, 90):
        a, b = native.step(actions), reference.step(actions)
        assert np.array_equal(a[0][:, :k], b[0][:, :k])
        assert np.array_equal(a[2], b[2])
        for i in np.flatnonzero(b[2]):
            terminal = a[3][i]["terminal_observation"], b[3][i]["terminal_observation"]
            assert np.array_equal(terminal[0][:k], terminal[1][:k])
            assert a[3][i]["TimeLimit.truncated"] == b[3][i]["TimeLimit.truncated"]
            pages["native"].append(a[3][i]["episode_metrics"]["pages_per_query"])
            pages["reference"].append(b[3][i]["episode_metrics"]["pages_per_query"])
    samples = [np.array(values) for values in pages.values()]
    assert len(samples[0]) == 3 * n_envs
    half_widths = [1.96 * s.std(ddof=1) / np.sqrt(s.size) for s in samples]
    assert abs(samples[0].mean() - samples[1].mean()) < sum(half_widths)
    assert not np.array_equal(samples[0], samples[1])  # the counts are not the same draws


@pytest.mark.parametrize(
    ("env_id", "algo"),
    [("opsgym/LoadBalancing-v0", "ppo"), ("opsgym/ResourceAllocation-v0", "maskable_ppo")],
)
def test_training_through_the_adapter_learns_the_same_model(env_id, algo):
    # Identical transitions, identical seeds: the same parameters, bit for bit, after
    # rollouts that cross episode ends (truncations bootstrap from terminal_observation)
    # under reward normalization.
    if algo not in sb3.ALGORITHMS:
        pytest.skip("maskable_ppo needs sb3-contrib")
    torch.set_num_threads(1)
    run_settings = {"normalize": {"norm_obs": True, "norm_reward": True}}
    model_kwargs = {"n_steps": 64, "batch_size": 64, "n_epochs": 2}
    parameters = []
    for venv in pair(env_id, 4, seed=3):
        model = make_sb3_model(algo, venv, run_settings, model_kwargs, seed=3)
        model.learn(total_timesteps=3 * 4 * 64)
        parameters.append(model.policy.state_dict())
    assert parameters[0].keys() == parameters[1].keys()
    for key, value in parameters[0].items():
        assert torch.equal(value, parameters[1][key]), key


def test_vec_normalize_on_the_adapter_normalizes_as_on_make_vec_env():
    native, reference = (
        VecNormalize(venv, gamma=0.9) for venv in pair("opsgym/LoadBalancing-v0", 3, seed=1)
    )
    assert np.array_equal(native.reset(), reference.reset())
    for actions in random_actions(reference.action_space.n, 3, 1, 100):
        a, b = native.step(actions), reference.step(actions)
        for x, y in zip(a[:3], b[:3]):
            assert np.array_equal(x, y)
        for i in np.flatnonzero(b[2]):
            expected = b[3][i]["terminal_observation"]
            assert np.array_equal(a[3][i]["terminal_observation"], expected)
    assert np.array_equal(native.obs_rms.var, reference.obs_rms.var)


def test_seed_applies_at_the_next_reset_and_later_resets_continue():
    native, reference = pair("opsgym/LoadBalancing-v0", 2, seed=0)
    first = native.reset()
    assert not np.array_equal(native.reset(), first)  # no seed: the generators go on
    native.seed(0)
    assert np.array_equal(native.reset(), first)
    native.seed(11)
    reference.seed(11)
    assert np.array_equal(native.reset(), reference.reset())
    single = gym.make("opsgym/LoadBalancing-v0", **SHORT_EPISODES["opsgym/LoadBalancing-v0"].kwargs)
    native.seed(11)
    assert np.array_equal(native.reset()[1], single.reset(seed=12)[0])


def test_attributes_and_methods_of_the_shared_vector_env():
    routing = make_training_env("opsgym/Routing-v1", 3, 0, backend=NATIVE).venv
    balancing = make_training_env("opsgym/LoadBalancing-v0", 3, 0, backend=NATIVE).venv
    routing.reset()
    assert routing.has_attr("action_masks") and not balancing.has_attr("action_masks")
    masks = routing.unwrapped.env.action_masks()
    assert np.array_equal(routing.env_method("action_masks", indices=[2])[0], masks[2])
    assert routing.get_attr("render_mode") == [None, None, None]
    assert routing.env_is_wrapped(gym.Wrapper) == [False, False, False]
    routing.set_attr("note", "shared")
    assert routing.unwrapped.env.note == "shared"
    with pytest.raises(ValueError, match="share their attributes"):
        routing.set_attr("note", "one", indices=[0])


def test_adapter_needs_next_step_autoreset_and_a_valid_reset_mask():
    env = gym.make_vec("opsgym/LoadBalancing-v0", num_envs=2, vectorization_mode="sync")
    env.metadata["autoreset_mode"] = gym.vector.AutoresetMode.SAME_STEP
    with pytest.raises(ValueError, match="next-step autoreset"):
        VecEnvAdapter(env)
    native = gym.make_vec(
        "opsgym/LoadBalancing-v0", num_envs=2, vectorization_mode="vector_entry_point"
    )
    native.reset(seed=0)
    for mask in (np.array([1, 0]), np.array([True]), np.zeros(2, dtype=bool)):
        with pytest.raises(ValueError, match=r"options\['reset_mask'\]"):
            native.reset(options={"reset_mask": mask})


def test_a_partial_reset_restarts_only_the_masked_instances():
    env_id = "opsgym/ConfigTuning-v0"
    native = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    sync = gym.make_vec(env_id, num_envs=3, vectorization_mode="sync")
    for env in (native, sync):
        env.reset(seed=4)
        env.step(np.array([1, 2, 3]))
    mask = np.array([False, True, False])
    a, b = native.reset(options={"reset_mask": mask}), sync.reset(options={"reset_mask": mask})
    assert np.array_equal(a[0], b[0])
    for actions in random_actions(native.single_action_space.n, 3, 4, 40):
        x, y = native.step(actions), sync.step(actions)
        for u, v in zip(x[:4], y[:4]):
            assert np.array_equal(u, v)


def test_unbatch_info_gives_each_instance_its_own_entries():
    info = {
        "latency": np.array([1.5, 2.5, 3.5]),
        "_latency": np.array([True, True, True]),
        "mask": np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int8),
        "_mask": np.array([True, False, True]),
        "episode_metrics": {"p95": np.array([0.0, 9.0, 0.0]), "_p95": np.array([0, 1, 0], bool)},
        "_episode_metrics": np.array([False, True, False]),
        "shared": np.array([7, 8, 9]),  # no mask: every instance's
    }
    infos = unbatch_info(info, 3)
    assert infos[0] == {"latency": 1.5, "shared": 7, "mask": pytest.approx([1, 0])}
    assert infos[1] == {"latency": 2.5, "shared": 8, "episode_metrics": {"p95": 9.0}}
    assert isinstance(infos[0]["latency"], float) and infos[2]["mask"].dtype == np.int8
    infos[2]["mask"][0] = 5
    assert info["mask"][2, 0] == 1  # rows are copies: SB3 may keep them
    assert unbatch_info({}, 2) == [{}, {}]


def test_auto_falls_back_to_make_vec_env_and_says_why():
    caching = make_training_env("opsgym/Caching-v0", 2, 0)
    assert caching.backend == MAKE_VEC_ENV
    assert caching.record() == {
        "backend": MAKE_VEC_ENV,
        "reason": "opsgym/Caching-v0 has no native vector env",
    }
    routing = make_training_env("opsgym/Routing-v1", 2, 0, {"lp_snapshots": 1})
    assert routing.backend == MAKE_VEC_ENV and "lp_snapshots" in routing.reason
    assert make_training_env("opsgym/Routing-v1", 2, 0).record() == {"backend": NATIVE}
    with pytest.raises(ValueError, match="no native vector env"):
        make_training_env("opsgym/Caching-v0", 2, 0, backend=NATIVE)
    with pytest.raises(ValueError, match="vec_env"):
        make_training_env("opsgym/Routing-v1", 2, 0, backend="subproc")


def test_train_records_which_environments_it_trained_on(tmp_path, capsys):
    def run(env_id: str, env_kwargs: dict, vec_env: str = "auto") -> dict:
        settings = quiet_training(
            tmp_path,
            env_id,
            "a2c",
            timesteps=64,
            n_envs=2,
            overrides={"n_steps": 8},
            env_kwargs=env_kwargs,
            vec_env=vec_env,
        )
        return read_config(train(settings))

    assert run("opsgym/LoadBalancing-v0", {"episode_length": 20})["vec_env"] == {"backend": NATIVE}
    fallback = run("opsgym/Routing-v1", {"episode_length": 20, "lp_snapshots": 1})
    assert fallback["vec_env"]["backend"] == MAKE_VEC_ENV
    assert "lp_snapshots" in fallback["vec_env"]["reason"]
    forced = run("opsgym/LoadBalancing-v0", {"episode_length": 20}, MAKE_VEC_ENV)
    assert forced["vec_env"] == {"backend": MAKE_VEC_ENV}
    args = ["train", "--env", "opsgym/Caching-v0", "--agent", "ppo", "--vec-env", "native"]
    assert main([*args, "--out", str(tmp_path / "refused")]) == 2
    assert "Caching-v0 has no native vector env" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()


def test_throughput_training_prints_the_ratio_to_make_vec_env(capsys):
    args = ["throughput", "--training", "--env", "opsgym/ConfigTuning-v0", "--rounds", "1"]
    assert main([*args, "--training-rollouts", "1", "--clock", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "make_vec_env(n_envs=4)" in out and "cpu clock" in out
    assert re.search(
        r"ConfigTuning-v0 \| native +\| \d+ +\| [\d,]+ +\| [\d,]+ +\| [\d,]+ +\| [\d.]+x +"
        r"\| [\d.]+x +\| \d+%",
        out,
    )
