"""``opsgym train``, ``evaluate --model`` and ``plot`` end to end, and SB3 on opsgym."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli
from quiet_training import quiet_training

from opsgym.baselines import sb3
from opsgym.train.cli import main
from opsgym.train.evaluate import evaluate_policies
from opsgym.train.run_folder import read_config, read_evaluations
from opsgym.train.runner import make_env
from opsgym.train.training import train

LB = "opsgym/LoadBalancing-v0"
SMALL = {"episode_length": 200}


def tiny_run(
    tmp_path: Path,
    agent: str = "ppo",
    seed: int = 0,
    tensorboard: bool = False,
    timesteps: int = 1024,
    eval_every: int = 512,
    **overrides,
) -> Path:
    settings = quiet_training(
        tmp_path,
        LB,
        agent,
        seed=seed,
        timesteps=timesteps,
        n_envs=2,
        overrides={"n_steps": 128, "batch_size": 64, "n_epochs": 2, **overrides}
        if agent == "ppo"
        else overrides,
        env_kwargs=SMALL,
        eval_every=eval_every,
        eval_episodes=2,
        tensorboard=tensorboard,
    )
    return train(settings)


def test_train_cli_writes_a_complete_run_folder(tmp_path):
    result = run_cli(
        "train",
        "--env",
        LB,
        "--agent",
        "a2c",
        "--timesteps",
        "400",
        "--n-envs",
        "2",
        "--seed",
        "3",
        "--eval-every",
        "200",
        "--eval-episodes",
        "1",
        "--env-arg",
        "episode_length=100",
        "--out",
        str(tmp_path),
        "--set",
        "n_steps=8",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    (run,) = tmp_path.iterdir()
    assert run.name.startswith("opsgym-LoadBalancing-v0__a2c__seed3__")
    config = read_config(run)
    assert config["status"] == "finished" and config["steps_done"] >= 400
    assert config["hyperparams"]["n_steps"] == 8 and config["env_kwargs"] == {"episode_length": 100}
    assert config["opsgym_version"] == "0.1.0"
    assert "--agent a2c" in (run / "command.txt").read_text()
    rows = read_evaluations(run)
    assert [row["step"] for row in rows][:2] == [200.0, 400.0]
    assert {"return", "mean_latency_ms", "p99_latency_ms"} <= set(rows[0])
    assert (run / "model.zip").is_file()


def test_same_seed_same_model_and_save_load_evaluates_the_same(tmp_path):
    first = tiny_run(tmp_path / "a", seed=7)
    second = tiny_run(tmp_path / "b", seed=7)
    assert _without_wall_time(first) == _without_wall_time(second)
    reloaded = evaluate_policies(LB, [], episodes=2, seed=7, env_kwargs=SMALL, runs=[first])
    recorded = read_config(first)["last_evaluation"]
    assert reloaded[0].summary()["return"][0] == pytest.approx(recorded["return"], rel=1e-12)


def _without_wall_time(run: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "wall_time_s"} for row in read_evaluations(run)]


def test_the_final_model_is_evaluated_once_after_the_last_rollout(tmp_path):
    # rollouts of 2 x 128 steps: 1,000 steps end at 1,024, past the evaluation due at 1,000,
    # and the model is updated after that rollout: only its final state is evaluated there
    run = tiny_run(tmp_path, timesteps=1000, eval_every=500)
    assert [row["step"] for row in read_evaluations(run)] == [500.0, 1024.0]
    assert read_config(run)["last_evaluation"]["step"] == 1024.0


def test_training_leaves_the_given_hyperparameters_as_they_were(tmp_path):
    # A2C with RMSprop sets policy_kwargs["optimizer_class"] in the dict it is given; a
    # tuning study keeps that dict and writes it to its JSON record
    overrides = {"use_rms_prop": True, "n_steps": 8, "policy_kwargs": {"net_arch": [8]}}
    run = tiny_run(tmp_path, "a2c", timesteps=64, eval_every=0, **overrides)
    assert overrides["policy_kwargs"] == {"net_arch": [8]}
    assert read_config(run)["hyperparams"]["policy_kwargs"] == {"net_arch": [8]}


def test_evaluate_model_rejects_another_environment_and_corrupt_files(tmp_path, capsys):
    run = tiny_run(tmp_path)
    assert main(["evaluate", "--env", LB, "--model", str(run), "--env-arg", "mode=feedback"]) == 2
    assert "observation space" in capsys.readouterr().err
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "env_id": "opsgym/Other-v0"}))
    assert main(["evaluate", "--env", LB, "--model", str(run)]) == 2
    assert "trained on opsgym/Other-v0" in capsys.readouterr().err
    (run / "config.json").write_text(json.dumps(config))
    (run / "model.zip").write_bytes(b"not a zip")
    assert main(["evaluate", "--env", LB, "--model", str(run)]) == 2
    assert "cannot load a ppo model" in capsys.readouterr().err
    assert main(["evaluate", "--env", LB, "--model", str(tmp_path / "missing")]) == 2
    assert "argument --model" in capsys.readouterr().err


def test_train_refuses_heuristics_and_unknown_agents(capsys):
    assert main(["train", "--env", LB, "--agent", "round_robin"]) == 2
    assert "nothing to train" in capsys.readouterr().err
    assert main(["train", "--env", LB, "--agent", "alphazero"]) == 2
    assert "ppo" in capsys.readouterr().err


def test_hyperparams_follow_rl_zoo3_conventions():
    block = sb3.load_hyperparams("ppo", LB)
    run, model = sb3.split_hyperparams(block)
    assert run["n_timesteps"] > 0 and model["policy"] == "MlpPolicy"
    schedule = sb3.split_hyperparams({"learning_rate": "lin_3e-3"})[1]["learning_rate"]
    assert schedule(1.0) == pytest.approx(3e-3) and schedule(0.5) == pytest.approx(1.5e-3)
    assert sb3.load_hyperparams("dqn", "opsgym/Unlisted-v0")["policy"] == "MlpPolicy"
    with pytest.raises(ValueError, match="learning_rate"):
        sb3.split_hyperparams({"learning_rate": "cosine_1e-3"})
    with pytest.raises(ValueError, match="policy_kwargs: write it as a YAML mapping"):
        sb3.split_hyperparams({"policy_kwargs": "dict(net_arch=[64, 64])"})
    with pytest.raises(ValueError, match="unknown SB3 algorithm"):
        sb3.load_hyperparams("trpo", LB)


def test_short_ppo_run_beats_random(tmp_path):
    run = train(
        quiet_training(
            tmp_path,
            LB,
            "ppo",
            timesteps=20_000,
            n_envs=16,  # the block's 128 envs update twice in 20k steps, 16 envs 19 times
            overrides={"batch_size": 1024},  # the 16 x 64 steps of a rollout
            env_kwargs=SMALL,
            eval_episodes=5,
        )
    )
    results = evaluate_policies(LB, ["random"], episodes=5, env_kwargs=SMALL, runs=[run])
    random_return, ppo_return = (r.summary()["return"][0] for r in results)
    assert ppo_return > 0.5 * random_return  # returns are negative: at least twice as good


def test_a_sampling_policy_draws_from_the_model_distribution_reproducibly():
    import torch
    from stable_baselines3 import DQN, PPO

    model = PPO("MlpPolicy", make_env(LB, SMALL), seed=0, device="cpu")
    observation = np.linspace(0.0, 1.0, model.observation_space.shape[0], dtype=np.float32)
    with torch.no_grad():
        distribution = model.policy.get_distribution(model.policy.obs_to_tensor(observation)[0])
    probs = distribution.distribution.probs[0].numpy()
    draws = 20_000
    sampler = sb3.SB3Policy(model, sample_seed=3)
    actions = np.array([sampler.act(observation) for _ in range(draws)])
    counts = np.bincount(actions, minlength=len(probs))
    # each count is binomial: within 5 standard deviations of draws * p
    assert np.all(np.abs(counts - draws * probs) < 5 * np.sqrt(draws * probs * (1 - probs)) + 1)
    again = sb3.SB3Policy(model, sample_seed=3)
    assert [again.act(observation) for _ in range(200)] == actions[:200].tolist()
    greedy = sb3.SB3Policy(model)
    assert {greedy.act(observation) for _ in range(20)} == {int(np.argmax(probs))}

    with pytest.raises(ValueError, match="DQN model has no action distribution"):
        sb3.SB3Policy(DQN("MlpPolicy", make_env(LB, SMALL), device="cpu"), sample_seed=0)


def test_evaluate_stochastic_samples_the_model_and_repeats_itself(tmp_path):
    run = tiny_run(tmp_path)
    first, again = (
        run_cli("evaluate", "--model", str(run), "--episodes", "2", "--stochastic", "--json")
        for _ in range(2)
    )
    greedy = run_cli("evaluate", "--model", str(run), "--episodes", "2", "--json")
    assert first.returncode == again.returncode == greedy.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert json.loads(first.stdout)["policies"] != json.loads(greedy.stdout)["policies"]


def test_plot_writes_a_png_of_learning_curves(tmp_path):
    pytest.importorskip("matplotlib")
    runs = [tiny_run(tmp_path / str(seed), seed=seed) for seed in (0, 1)]
    out = tmp_path / "curves.png"
    assert (
        main(["plot", *map(str, runs), "--out", str(out), "--metric", "return", "mean_latency_ms"])
        == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(runs[0]), "--out", str(out), "--metric", "hit_ratio"]) == 2


def test_observation_normalizer_round_trips_through_npz(tmp_path):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(make_vec_env(LB, n_envs=1, env_kwargs={"render_mode": None, **SMALL}))
    venv.reset()
    for _ in range(50):
        venv.step(np.array([0]))
    sb3.save_observation_statistics(venv, tmp_path / "stats.npz")
    loaded = sb3.ObservationNormalizer.load(tmp_path / "stats.npz", venv.observation_space.shape)
    live = sb3.ObservationNormalizer.from_vec_normalize(venv)
    observation = venv.get_original_obs()[0]
    assert np.array_equal(loaded(observation), live(observation))
    assert np.allclose(loaded(observation), venv.normalize_obs(observation), atol=1e-6)


def test_hyperparams_prints_the_installed_file_and_refuses_unknown_names():
    result = run_cli("hyperparams", "ppo")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == sb3.hyperparams_path("ppo") and path.is_file()
    assert sb3.load_hyperparams("ppo", LB, path) == sb3.load_hyperparams("ppo", LB)
    assert set(sb3.shipped_hyperparams()) == {*sb3.ALGORITHMS, "maskable_ppo", "agents"}
    refused = run_cli("hyperparams", "trpo")
    assert refused.returncode == 2 and "choose from a2c, agents, dqn" in refused.stderr


def test_only_files_of_rl_zoo3_algorithms_claim_that_rl_zoo3_reads_them():
    zoo_algorithms = pytest.importorskip("rl_zoo3").ALGOS
    for name, path in sb3.shipped_hyperparams().items():
        header = path.read_text().split("\n\n")[0]
        if name != "agents":
            assert (name in zoo_algorithms) == ("rl-zoo3 itself cannot" not in header), name


def run_zoo_ppo(script: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """rl-zoo3's ``script`` (train, enjoy) with PPO on LoadBalancing, as its users run it:
    opsgym's ids through ``--gym-packages``, 200-step episodes, working in ``folder``."""
    command = [sys.executable, "-m", f"rl_zoo3.{script}", "--algo", "ppo", "--env", LB]
    command += ["--gym-packages", "opsgym.envs", "--env-kwargs", "episode_length:200", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder)


def test_rl_zoo3_trains_and_enjoys_an_opsgym_env_with_our_yaml(tmp_path):
    pytest.importorskip("rl_zoo3")
    conf_file = run_cli("hyperparams", "ppo").stdout.strip()  # as a pip user finds it
    training = ["--conf-file", conf_file, "-n", "1024", "--seed", "1", "--eval-freq", "-1"]
    result = run_zoo_ppo("train", tmp_path, *training, "--log-folder", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        tmp_path / "ppo" / "opsgym-LoadBalancing-v0_1" / "opsgym-LoadBalancing-v0.zip"
    ).is_file()
    enjoying = ["--folder", str(tmp_path), "--exp-id", "1", "-n", "300", "--no-render"]
    enjoyed = run_zoo_ppo("enjoy", tmp_path, *enjoying)
    assert enjoyed.returncode == 0, enjoyed.stderr[-2000:]
    assert "Episode Reward" in enjoyed.stdout


def test_hand_written_agent_trains_saves_and_evaluates(tmp_path):
    result = run_cli(
        "train",
        "--env",
        LB,
        "--agent",
        "q_learning",
        "--timesteps",
        "600",
        "--eval-every",
        "300",
        "--eval-episodes",
        "1",
        "--env-arg",
        "episode_length=100",
        "--set",
        "bins=2",
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    (run,) = tmp_path.iterdir()
    config = read_config(run)
    assert config["kind"] == "agent" and config["hyperparams"] == {"bins": 2}
    assert [row["step"] for row in read_evaluations(run)] == [300.0, 600.0]
    assert (run / "agent.npz").is_file()
    first = evaluate_policies(LB, [], episodes=2, env_kwargs={"episode_length": 100}, runs=[run])
    again = evaluate_policies(LB, [], episodes=2, env_kwargs={"episode_length": 100}, runs=[run])
    assert first[0].summary() == again[0].summary()  # greedy and frozen: deterministic
    (run / "agent.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not an opsgym agent checkpoint"):
        evaluate_policies(LB, [], episodes=1, env_kwargs={"episode_length": 100}, runs=[run])


def tensorboard_scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the run's one event file, as (step, value) pairs per tag."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (event_file,) = (run / "tensorboard").glob("events.out.tfevents.*")
    events = EventAccumulator(str(event_file), size_guidance={"scalars": 0})
    events.Reload()
    return {
        tag: [(event.step, event.value) for event in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
    }


@pytest.mark.parametrize("agent", ["ppo", "q_learning"])
def test_tensorboard_holds_every_evaluation_column_at_its_step(tmp_path, agent):
    pytest.importorskip("tensorboard")
    run = tiny_run(tmp_path, agent=agent, tensorboard=True)
    scalars = tensorboard_scalars(run)
    rows = read_evaluations(run)
    assert len(rows) >= 2 and "mean_latency_ms" in rows[0]
    for column in rows[0]:
        if column != "step":
            expected = [(int(row["step"]), np.float32(row[column])) for row in rows]
            assert scalars.pop(f"eval/{column}") == expected
    if agent == "ppo":  # SB3's training statistics share the event file
        assert "train/value_loss" in scalars
    else:
        assert scalars == {}


def test_tensorboard_missing_is_an_error_before_any_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # find_spec then finds nothing
    out = tmp_path / "runs"
    arguments = ["train", "--env", LB, "--agent", "ppo", "--out", str(out), "--tensorboard"]
    assert main(arguments) == 2
    assert "pip install 'opsgym[tensorboard]'" in capsys.readouterr().err
    assert not out.exists()
