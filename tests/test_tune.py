"""``opsgym tune``: seeds, resumable studies, their records, pruning, hyperparameter files."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml
from quiet_training import quiet_training

from opsgym.agents import make_agent
from opsgym.baselines import agent_hyperparams, sb3
from opsgym.train import benchmark, tune
from opsgym.train.benchmark_summary import Scorer
from opsgym.train.run_folder import read_evaluations
from opsgym.train.runner import evaluation_seeds, make_env, validation_seeds
from opsgym.train.search_spaces import AGENT_SPACES, SB3_SPACES
from opsgym.train.training import train

LB = "opsgym/LoadBalancing-v0"
SHORT = {"episode_length": 100}


def small_study(tmp_path: Path, trials: int, agent: str = "ucb1", **changes):
    settings = tune.TuneSettings(
        env_id=LB,
        agent=agent,
        trials=trials,
        budget=300,
        episodes=1,
        evaluations=3,
        env_kwargs=SHORT,
        out=str(tmp_path / "runs"),
        records=str(tmp_path / "records"),
        progress=False,
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings, tune.run_study(settings)


def test_validation_seeds_are_disjoint_from_training_and_evaluation_seeds():
    validation = set(validation_seeds(1000))
    assert len(validation) == 1000
    # the benchmark's evaluations (FULL: 10 seeds x 10 episodes; any preset) and
    # opsgym train's evaluator (its --seed and --eval-episodes)
    for seed in range(100):
        assert validation.isdisjoint(evaluation_seeds(seed, 10_000))
    assert benchmark.FULL["seeds"] <= 100 and benchmark.FULL["episodes"] <= 10_000
    # training episodes are seeded seed, seed + 1, ... (one per episode at most): tune
    # takes small training seeds, so 490,000 episodes stand between them and validation
    assert min(validation) - tune.MAX_TRAINING_SEED >= 490_000
    with pytest.raises(ValueError, match="training seeds must be in"):
        tune.run_study(tune.TuneSettings(LB, "ucb1", trials=1, budget=10, seeds=(499_995,)))
    with pytest.raises(ValueError, match="validation episodes"):
        validation_seeds(0)


def test_an_interrupted_study_resumes_to_exactly_the_trials_asked(tmp_path):
    small_study(tmp_path, trials=2)
    settings, record = small_study(tmp_path, trials=3)
    assert [t["number"] for t in record["trials"]] == [0, 1, 2]
    assert all(t["state"] == "complete" for t in record["trials"])
    # the record on disk is the SQLite study, trial by trial
    on_disk = json.loads((tmp_path / "records" / "LoadBalancing-v0__ucb1.json").read_text())
    storage = f"sqlite:///{tmp_path / 'runs' / 'LoadBalancing-v0__ucb1.db'}"
    study = optuna.load_study(study_name="LoadBalancing-v0__ucb1", storage=storage)
    assert len(study.trials) == len(on_disk["trials"]) == 3
    for stored, recorded in zip(study.trials, on_disk["trials"]):
        assert recorded["params"] == stored.params
        assert recorded["score"] == stored.value
        assert recorded["intermediate_values"] == {
            str(k): v for k, v in stored.intermediate_values.items()
        }
        assert recorded["hyperparams"] == {"c": stored.params["c"]}
    assert on_disk["best"]["score"] == max(t.value for t in study.trials)
    assert on_disk["validation_seeds"] == [500_000] and on_disk["training_seeds"] == [0]
    assert on_disk["budget"] == 300 and on_disk["score"]["kind"] == "normalized score"
    assert on_disk["score"]["ceiling"]["policy"] == "oracle"
    assert set(on_disk["search_space"]) == {"c"}
    # resumed, it drew what an uninterrupted study draws
    _, straight = small_study(tmp_path / "straight", trials=3)
    assert [t["params"] for t in straight["trials"]] == [t["params"] for t in record["trials"]]
    assert [t["score"] for t in straight["trials"]] == [t["score"] for t in record["trials"]]
    # running it again finds it done; other settings are refused, naming the difference
    _, again = small_study(tmp_path, trials=3)
    assert len(again["trials"]) == 3
    with pytest.raises(ValueError, match="budget"):
        small_study(tmp_path, trials=4, budget=400)


def test_the_score_is_the_mean_validation_return_normalized_as_the_benchmark_does(tmp_path):
    settings, record = small_study(tmp_path, trials=1)
    references = record["references"]
    trial = record["trials"][0]
    run = next((tmp_path / "runs" / settings.name / "trial0000").iterdir())
    rows = [line.split(",") for line in (run / "evaluations.csv").read_text().splitlines()]
    final_return = float(rows[-1][rows[0].index("return")])
    expected = (final_return - references["random"]) / (references["oracle"] - references["random"])
    assert trial["score"] == pytest.approx(expected)
    assert sorted(trial["intermediate_values"]) == ["1", "2", "3"]


def test_the_median_pruner_stops_a_trial_whose_evaluation_is_obviously_bad():
    study = optuna.create_study(direction="maximize", pruner=tune.make_pruner())
    distributions = {"c": optuna.distributions.FloatDistribution(0.1, 1.0)}
    for value in (0.8, 0.9, 1.0, 0.85, 0.95):
        study.add_trial(
            optuna.trial.create_trial(
                params={"c": 0.5},
                distributions=distributions,
                value=value,
                intermediate_values={1: value, 2: value, 3: value},
            )
        )
    settings = tune.TuneSettings(LB, "ucb1", trials=1, budget=300, evaluations=3)
    scorer = Scorer({"random": -100.0, "oracle": 0.0})
    good = tune.EvaluationReporter(study.ask(), settings, 0, scorer)
    assert good({"step": 100.0, "return": -5.0}) is True  # 0.95 is above the median
    assert good({"step": 200.0, "return": -4.0}) is True and not good.pruned
    bad = tune.EvaluationReporter(study.ask(), settings, 0, scorer)
    # the first evaluation is warm-up: never pruned, however bad
    assert bad({"step": 100.0, "return": -100.0}) is True
    assert bad({"step": 200.0, "return": -100.0}) is False and bad.pruned
    assert bad.trial.storage.get_trial(bad.trial._trial_id).intermediate_values == {
        1: 0.0,
        2: 0.0,
    }


def test_a_pruned_training_stops_early_and_says_so(tmp_path):
    seen = []
    run = train(
        quiet_training(
            tmp_path,
            LB,
            "ucb1",
            timesteps=1000,
            env_kwargs=SHORT,
            eval_every=100,
            evaluation_seeds=[500_000],
            on_evaluation=lambda row: seen.append(row["step"]) or len(seen) < 2,
        )
    )
    config = json.loads((run / "config.json").read_text())
    assert seen == [100.0, 200.0]
    assert config["status"] == "stopped" and config["steps_done"] == 200


def test_scorer_uses_the_oracle_else_the_best_heuristic_else_the_return():
    """... and the return too where the ceiling beats random by less than 1% of them."""
    with_oracle = Scorer({"random": -10.0, "a": -2.0, "oracle": 0.0})
    assert with_oracle(-5.0) == 0.5 and with_oracle.kind == "normalized score"
    without = Scorer({"random": -10.0, "a": -2.0, "b": -6.0})
    assert without(-2.0) == 1.0 and without.describe()["ceiling"]["policy"] == "a"
    tied = Scorer({"random": 3.0, "oracle": 3.0})
    assert tied(7.5) == 7.5 and tied.kind == "mean return"
    within_one_percent = Scorer({"random": 152.7, "oracle": 153.2})
    assert within_one_percent(150.0) == 150.0 and within_one_percent.kind == "mean return"
    inverted = Scorer({"random": -2.0, "oracle": -10.0})
    assert inverted(-6.0) == -6.0 and inverted.kind == "mean return"
    apart = Scorer({"random": 100.0, "oracle": 102.0})
    assert apart(101.0) == 0.5


def test_a_tiny_ppo_trial_trains_with_the_drawn_hyperparameters(tmp_path):
    settings, record = small_study(tmp_path, trials=1, agent="ppo", budget=512)
    trial = record["trials"][0]
    assert trial["state"] == "complete", trial.get("error")
    run = next((tmp_path / "runs" / settings.name / "trial0000").iterdir())
    config = json.loads((run / "config.json").read_text())
    for key, value in trial["hyperparams"].items():
        assert config["hyperparams"][key] == value
    width, depth = trial["params"]["net_width"], trial["params"]["net_depth"]
    assert config["hyperparams"]["policy_kwargs"] == {"net_arch": [width] * depth}


def test_a_ppo_trial_evaluates_its_final_model_once_and_scores_that(tmp_path):
    settings, record = small_study(tmp_path, trials=1, agent="ppo", budget=512)
    trial = record["trials"][0]
    run = next((tmp_path / "runs" / settings.name / "trial0000").iterdir())
    rows = read_evaluations(run)
    steps = [row["step"] for row in rows]
    # one evaluation per pruning point, the last of the model as training left it
    assert len(steps) == settings.evaluations and steps == sorted(set(steps))
    assert steps[-1] == json.loads((run / "config.json").read_text())["steps_done"]
    scorer = Scorer(record["references"])
    assert trial["score"] == pytest.approx(scorer(rows[-1]["return"]))
    assert sorted(trial["intermediate_values"]) == ["1", "2", "3"]


def test_write_hyperparams_replaces_one_block_with_a_status_line(tmp_path):
    shipped = sb3.hyperparams_path("ppo").read_text()
    file = tmp_path / "ppo.yml"
    file.write_text(shipped)
    settings = tune.TuneSettings(LB, "ppo", trials=6, budget=20_000, hyperparams_file=str(file))
    record = {
        "trials": [{"state": "complete"}] * 4 + [{"state": "pruned"}] * 2,
        "budget": 20_000,
        "training_seeds": [0],
        "validation_seeds": [500_000, 500_004],
        "score": {"kind": "normalized score"},
        "base_hyperparams": sb3.load_hyperparams("ppo", LB),
        "best": {"number": 3, "score": 0.97, "hyperparams": {"gamma": 0.95, "n_steps": 128}},
        "confirmations": {"seeds": [], "scores": {}, "means": {}},
    }
    tune.write_best_hyperparams(record, settings)
    text = file.read_text()
    block = yaml.safe_load(text)[LB]
    assert block["gamma"] == 0.95 and block["n_steps"] == 128 and block["n_timesteps"] == 20_000
    assert block["policy"] == "MlpPolicy"  # the rest of the configured block stays
    status = text[text.index("# status: tuned by opsgym tune") : text.index(LB + ":")]
    assert "4 complete and 2 pruned" in status and "20,000 steps" in status
    assert "baselines/tuning/LoadBalancing-v0__ppo.json" in status.replace("\n#   ", " ")
    others = {k: v for k, v in yaml.safe_load(shipped).items() if k != LB}
    assert {k: v for k, v in yaml.safe_load(text).items() if k != LB} == others
    assert text.count("# status:") == shipped.count("# status:")


def test_hand_written_agents_read_their_block_and_set_overrides_it(tmp_path, monkeypatch):
    file = tmp_path / "agents.yml"
    file.write_text(agent_hyperparams.hyperparams_path().read_text())
    settings = tune.TuneSettings(LB, "sw_ucb", trials=1, budget=300, hyperparams_file=str(file))
    record = {
        "trials": [{"state": "complete"}],
        "budget": 300,
        "training_seeds": [0],
        "validation_seeds": [500_000],
        "score": {"kind": "normalized score"},
        "base_hyperparams": {},
        "best": {"number": 0, "score": 0.5, "hyperparams": {"window": 77, "c": 0.3}},
        "confirmations": {"seeds": [], "scores": {}, "means": {}},
    }
    tune.write_best_hyperparams(record, settings)
    assert agent_hyperparams.load("sw_ucb", LB, file) == {"window": 77, "c": 0.3}
    assert agent_hyperparams.load("sw_ucb", "opsgym/Caching-v0", file) == {}
    # a drift detector around UCB1 runs at UCB1's tuned c unless it has its own block
    ucb1 = agent_hyperparams.load("ucb1", LB, file)
    assert set(ucb1) == {"c"}
    assert agent_hyperparams.load("ucb1_adwin", LB, file) == ucb1
    file.write_text(file.read_text() + "ucb1_adwin:\n  opsgym/LoadBalancing-v0:\n    delta: 0.01\n")
    assert agent_hyperparams.load("ucb1_adwin", LB, file) == ucb1 | {"delta": 0.01}
    monkeypatch.setattr(agent_hyperparams, "hyperparams_path", lambda: file)

    def trained(**overrides) -> dict:
        run = train(
            quiet_training(
                tmp_path / "runs", LB, "sw_ucb", timesteps=50, env_kwargs=SHORT, overrides=overrides
            )
        )
        return json.loads((run / "config.json").read_text())["hyperparams"]

    assert trained() == {"window": 77, "c": 0.3}
    assert trained(c=2.0) == {"window": 77, "c": 2.0}


def test_every_search_space_builds_hyperparameters_its_agent_accepts():
    env = make_env(LB, SHORT)
    for name, space in AGENT_SPACES.items():
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        for _ in range(3):
            trial = study.ask()
            draw = {p: tune.suggest(trial, p, d) for p, d in space.distributions.items()}
            make_agent(name, env, seed=0, **space.build(draw, {}, 10_000))
    budget = 4096
    for algo, space in SB3_SPACES.items():
        block = sb3.load_hyperparams(algo, LB)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        for _ in range(3):
            trial = study.ask()
            draw = {p: tune.suggest(trial, p, d) for p, d in space.distributions.items()}
            hyperparams = block | space.build(draw, block, budget)
            run, model = sb3.split_hyperparams(hyperparams)
            if algo in ("ppo", "maskable_ppo"):
                n_envs = run.get("n_envs", 1)
                assert model["n_steps"] * n_envs <= budget // 2 or model["n_steps"] == 8
                assert model["batch_size"] <= model["n_steps"] * n_envs
            if algo == "dqn":
                assert model["learning_starts"] <= budget // 4
            model.pop("policy")
            sb3.ALGORITHMS[algo]("MlpPolicy", env, device="cpu", **model)
    env.close()


def test_a_failing_trial_is_recorded_with_its_error_and_made_up_for_later(tmp_path, monkeypatch):
    def broken(settings):
        raise ValueError("bad hyperparameters for ucb1: boom")

    monkeypatch.setattr(tune, "train", broken)
    _, record = small_study(tmp_path, trials=2)
    assert [t["state"] for t in record["trials"]] == ["failed", "failed"]
    assert record["trials"][0]["error"] == "ValueError: bad hyperparameters for ucb1: boom"
    assert record["best"] is None
    monkeypatch.undo()
    _, record = small_study(tmp_path, trials=2)
    assert [t["state"] for t in record["trials"]] == ["failed", "failed", "complete", "complete"]


def test_confirm_retrains_the_best_trials_on_new_seeds_and_their_mean_picks_the_winner(
    tmp_path, monkeypatch
):
    settings, record = small_study(tmp_path, trials=4, confirm=2, confirm_seeds=(1, 2))
    ranked = sorted(
        (t for t in record["trials"] if t["state"] == "complete"),
        key=lambda t: t["score"],
        reverse=True,
    )
    finalists = {str(t["number"]): t for t in ranked[:2]}
    scores = record["confirmations"]["scores"]
    assert set(scores) == set(finalists)
    means = {}
    for number, trial in finalists.items():
        assert set(scores[number]) == {"1", "2"}
        runs = [trial["score"], scores[number]["1"], scores[number]["2"]]
        means[number] = sum(runs) / 3
        assert record["confirmations"]["means"][number] == pytest.approx(means[number])
    winner = max(means, key=means.get)
    assert record["best"]["number"] == int(winner)
    assert record["best"]["score"] == pytest.approx(means[winner])
    assert record["best"]["chosen_by"] == "confirmed mean"
    # a confirmation run is the trial's hyperparameters on another training seed
    last = tune.LastScore(Scorer(record["references"]))
    hyperparams = finalists[winner]["hyperparams"]
    tune.train_run(settings, hyperparams, 2, tmp_path / "again", last)
    assert last.last == scores[winner]["2"]
    # run again, nothing is retrained: the confirmations are kept in the study
    monkeypatch.setattr(tune, "train_run", lambda *args: pytest.fail("retrained"))
    _, again = small_study(tmp_path, trials=4, confirm=2, confirm_seeds=(1, 2))
    assert again["confirmations"] == record["confirmations"]
    assert "best of the 2 best retrained on training seeds [1, 2]" in tune.status_line(
        again, settings
    )
    with pytest.raises(ValueError, match="confirm_seeds .* must differ from the training"):
        small_study(tmp_path / "overlap", trials=1, confirm=1, confirm_seeds=(0,))


def test_the_training_page_lists_every_study_on_record():
    import runpy

    root = Path(__file__).resolve().parents[1]
    script = runpy.run_path(str(root / "docs" / "results" / "tuning" / "report.py"))
    table = script["report"](root / "baselines" / "tuning")
    assert table.count("\n") == len(list((root / "baselines" / "tuning").glob("*.json"))) + 1
    assert table in (root / "docs" / "training.md").read_text()
