"""Files opsgym reads back: damaged ones are refused at load with the file named, and
every writer replaces its file atomically.

Each sweep damages a real file the ways disks, crashes and hand edits do (zero bytes,
truncation, random bytes, a header that is not the expected JSON object, missing or
mistyped keys and arrays, NaN) and asserts one outcome: a ``ValueError`` naming the file,
never another exception, and never a load that succeeds only to fail at ``act()``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from benchmark_plans import small_plan
from quiet_training import quiet_training

import opsgym.envs  # noqa: F401
from opsgym.agents import agent_names, make_agent
from opsgym.agents import atomic as atomic_module
from opsgym.agents.atomic import atomic_write, write_text
from opsgym.agents.checkpoint import load_checkpoint, save_checkpoint
from opsgym.agents.drift import DRIFT_SIDECAR
from opsgym.agents.protocol import MaskAwareCaller
from opsgym.agents.schema import ArraySpec
from opsgym.baselines import sb3
from opsgym.train.benchmark import run_benchmark
from opsgym.train.benchmark_summary import write_summary
from opsgym.train.checkpoints import load_trained_policy
from opsgym.train.cold_start import read_rewards, write_rewards
from opsgym.train.plot import save_figure
from opsgym.train.run_folder import read_config, read_evaluations, write_config
from opsgym.train.training import train

LB = "opsgym/LoadBalancing-v0"
SMALL = {"episode_length": 300}
HEADER = "__header__"
OPSGYM = Path(__file__).resolve().parents[1]


def trained(name: str):
    """An env and an agent that has learned for 200 steps (so no array is empty)."""
    env = gym.make(LB, **SMALL)
    agent = make_agent(name, env, seed=3)
    caller = MaskAwareCaller(agent)
    observation, info = env.reset(seed=0)
    for _ in range(200):
        action = caller.act(observation, info)
        next_observation, reward, terminated, _, info = env.step(action)
        caller.update(observation, action, float(reward), next_observation, terminated, info)
        observation = next_observation
    return env, agent


def acts(env, agent) -> None:
    """Raise if ``agent`` cannot act and learn for a few steps."""
    caller = MaskAwareCaller(agent)
    observation, info = env.reset(seed=1)
    for _ in range(20):
        action = caller.act(observation, info)
        assert env.action_space.contains(action)
        next_observation, reward, terminated, _, info = env.step(action)
        caller.update(observation, action, float(reward), next_observation, terminated, info)
        observation = next_observation


def read_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def encoded(header) -> np.ndarray:
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


def key_paths(value, prefix=()) -> list[tuple]:
    """Every key path into nested dicts, parents before children."""
    if not isinstance(value, dict):
        return []
    paths = []
    for key, inner in value.items():
        paths += [(*prefix, key), *key_paths(inner, (*prefix, key))]
    return paths


def edited(tree: dict, path: tuple, value=None, remove=False) -> dict:
    tree = json.loads(json.dumps(tree))
    node = tree
    for key in path[:-1]:
        node = node[key]
    if remove:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return tree


def npz_damages(path: Path, specs: dict[str, ArraySpec]) -> list[tuple[str, bytes, bool]]:
    """(what, the damaged file's bytes, whether loading must fail) for a saved ``.npz``.

    A damage that must not fail loading may be harmless (a key the reader ignores); the
    sweep then checks the agent still acts.
    """
    data = path.read_bytes()
    arrays = read_npz(path)
    noise = np.random.default_rng(0).integers(0, 256, len(data), dtype=np.uint8).tobytes()
    single = io.BytesIO()
    np.save(single, np.zeros(3))
    damages = [
        ("zero bytes", b"", True),
        ("random bytes", noise, True),
        ("a single .npy array", single.getvalue(), True),
        ("an extra array", npz_bytes({**arrays, "extra": np.zeros(2)}), True),
        ("a pickled object array", npz_bytes({**arrays, "extra": np.array([{}])}), True),
    ]
    damages += [(f"cut at {f:.0%}", data[: int(len(data) * f)], True) for f in (0.1, 0.5, 0.95)]
    for name, array in arrays.items():
        others = {k: v for k, v in arrays.items() if k != name}
        if name == HEADER:  # see header_damages
            damages.append(("no header", npz_bytes(others), True))
            continue
        damages += [
            (f"{name} missing", npz_bytes(others), True),
            (f"{name} as text", npz_bytes({**others, name: array.astype(str)}), True),
            (f"{name} with another shape", npz_bytes({**others, name: array[..., None]}), True),
        ]
        if array.dtype.kind == "f" and array.size:
            for bad in (np.nan, np.inf):
                damaged = array.copy()
                damaged.flat[0] = bad
                damages.append(
                    (f"{name} holding {bad}", npz_bytes({**others, name: damaged}), True)
                )
        if array.dtype.kind in "fi":
            flipped = array.astype(np.int64 if array.dtype.kind == "f" else np.float64)
            damages.append(
                (f"{name} as {flipped.dtype}", npz_bytes({**others, name: flipped}), True)
            )
        spec = specs.get(name)
        for bound, beyond in [] if spec is None else [(spec.low, -1), (spec.high, 1)]:
            if bound is not None and array.size:
                damaged = array.copy()
                damaged.flat[0] = bound + beyond
                damages.append(
                    (f"{name} beyond {bound}", npz_bytes({**others, name: damaged}), True)
                )
    return damages


def header_damages(path: Path) -> list[tuple[str, bytes, bool]]:
    """Damages of an agent checkpoint's JSON header, key by key."""
    arrays = read_npz(path)
    header = json.loads(arrays[HEADER].tobytes().decode())
    rest = {k: v for k, v in arrays.items() if k != HEADER}

    def with_header(value) -> bytes:
        return npz_bytes({**rest, HEADER: value})

    damages = [
        ("a header that is not UTF-8", with_header(np.frombuffer(b"\xff\xfe{", np.uint8)), True),
        ("a header that is not JSON", with_header(encoded("{")[1:]), True),
        ("a header that is a list", with_header(encoded([1, 2])), True),
        ("another agent's header", with_header(encoded({**header, "kind": "Other"})), True),
        ("format version 99", with_header(encoded({**header, "format_version": 99})), True),
    ]
    for path_ in key_paths(header):
        where = ".".join(map(str, path_))
        must = path_[0] != "params"  # a parameter the agent ignores may go
        damages += [
            (f"{where} missing", with_header(encoded(edited(header, path_, remove=True))), must),
            (f"{where} a string", with_header(encoded(edited(header, path_, "x"))), must),
            (f"{where} null", with_header(encoded(edited(header, path_, None))), must),
        ]
    return damages


def refusals(load, path: Path, damages, after_load=None) -> tuple[int, list[str]]:
    """Write each damage to ``path``, load it; return the count and what went wrong."""
    problems = []
    for what, data, must_fail in damages:
        path.write_bytes(data)
        try:
            loaded = load(path)
        except ValueError as error:
            if path.name not in str(error):
                problems.append(f"{what}: the message does not name the file: {error}")
            continue
        except Exception as error:
            problems.append(f"{what}: {type(error).__name__} instead of ValueError: {error}")
            continue
        if must_fail:
            problems.append(f"{what}: loaded")
        elif after_load is not None:
            try:
                after_load(loaded)
            except Exception as error:
                problems.append(f"{what}: loaded, then failed: {type(error).__name__}: {error}")
    return len(damages), problems


# agent checkpoints --------------------------------------------------------------------


@pytest.mark.parametrize("name", agent_names())
def test_every_damaged_agent_checkpoint_is_refused_naming_the_file(name, tmp_path):
    env, agent = trained(name)
    saved = tmp_path / "saved.npz"
    agent.save(saved)
    learner = getattr(agent, "learner", agent)  # a drift-resetting wrapper saves its learner
    damages = npz_damages(saved, learner.checkpoint_arrays()) + header_damages(saved)
    case = tmp_path / "case.npz"
    if (tmp_path / f"saved.npz{DRIFT_SIDECAR}").is_file():
        shutil.copy(tmp_path / f"saved.npz{DRIFT_SIDECAR}", tmp_path / f"case.npz{DRIFT_SIDECAR}")

    def load(path):
        fresh = make_agent(name, env, seed=5)
        fresh.load(path)
        return fresh

    count, problems = refusals(load, case, damages, after_load=lambda a: acts(env, a))
    assert count > 40 and problems == []
    acts(env, load(saved))  # the undamaged file still loads and acts


def test_a_checkpoint_of_another_shape_names_the_array_and_the_file(tmp_path):
    path = make_agent("ucb1", gym.make(LB)).save(tmp_path / "ucb")
    small = gym.make(LB, service_rates=[1.0, 2.0], failure_probs=[0, 0])
    with pytest.raises(
        ValueError, match=r"ucb\.npz: array 'counts' has shape \(5,\), expected \(2,\)"
    ):
        make_agent("ucb1", small).load(path)


@pytest.mark.parametrize("name", ["ucb1_drift_reset", "ucb1_adwin"])
def test_a_damaged_drift_history_is_refused_naming_it(name, tmp_path):
    env, agent = trained(name)
    agent.save(tmp_path / "agent.npz")
    sidecar = tmp_path / f"agent.npz{DRIFT_SIDECAR}"
    damages = [
        (what, text.encode(), True)
        for what, text in [
            ("zero bytes", ""),
            ("not JSON", "{"),
            ("a list", "[]"),
            ("resets missing", '{"updates": 3}'),
            ("updates missing", '{"resets": []}'),
            ("a reset that is not an integer", '{"resets": [1.5], "updates": 3}'),
            ("updates a string", '{"resets": [], "updates": "3"}'),
        ]
    ]

    def load(_):
        make_agent(name, env).load(tmp_path / "agent.npz")

    count, problems = refusals(load, sidecar, damages)
    assert count == 7 and problems == []
    sidecar.unlink()
    with pytest.raises(ValueError, match=re.escape(sidecar.name)):
        load(None)


def test_observation_statistics_beside_an_sb3_model_are_checked(tmp_path):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(make_vec_env(LB, n_envs=1, env_kwargs={"render_mode": None, **SMALL}))
    venv.reset()
    for _ in range(20):
        venv.step(np.array([0]))
    saved = tmp_path / "saved.npz"
    sb3.save_observation_statistics(venv, saved)
    shape = venv.observation_space.shape
    specs = sb3.observation_statistics_specs(shape)
    zero_epsilon = {**read_npz(saved), "epsilon": np.array(0.0)}
    damages = npz_damages(saved, specs) + [("epsilon 0", npz_bytes(zero_epsilon), True)]
    count, problems = refusals(
        lambda path: sb3.ObservationNormalizer.load(path, shape), tmp_path / "case.npz", damages
    )
    assert count > 30 and problems == []
    with pytest.raises(ValueError, match=r"array 'mean' has shape"):
        sb3.ObservationNormalizer.load(saved, (shape[0] + 1,))


# run folders ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    settings = quiet_training(
        out, LB, "ucb1", timesteps=400, env_kwargs=SMALL, eval_every=200, cold_start_steps=50
    )
    return train(settings)


def copy_run(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / run.name))


def test_every_damaged_config_is_refused_naming_it(agent_run, tmp_path):
    run = copy_run(agent_run, tmp_path)
    config = json.loads((run / "config.json").read_text())
    texts = [("zero bytes", ""), ("not JSON", "{"), ("a list", "[]")]
    for key in ("env_id", "agent", "seed", "status", "hyperparams"):
        texts.append((f"{key} missing", json.dumps({k: v for k, v in config.items() if k != key})))
        texts.append((f"{key} a list", json.dumps({**config, key: [1]})))
    damages = [(what, text.encode(), True) for what, text in texts]
    env = gym.make(LB, **SMALL)
    count, problems = refusals(
        lambda path: load_trained_policy(path.parent, env), run / "config.json", damages
    )
    assert count == 13 and problems == []


def test_a_run_folder_without_its_agent_names_the_file(agent_run, tmp_path):
    run = copy_run(agent_run, tmp_path)
    env = gym.make(LB, **SMALL)
    (run / "agent.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"agent\.npz is empty"):
        load_trained_policy(run, env)
    (run / "agent.npz").unlink()
    with pytest.raises(ValueError, match=r"agent\.npz not found"):
        load_trained_policy(run, env)


def test_damaged_evaluations_and_cold_start_rewards_name_the_file_and_line(agent_run, tmp_path):
    run = copy_run(agent_run, tmp_path)
    evaluations = run / "evaluations.csv"
    header, first, *_ = evaluations.read_text().splitlines()
    damages = [
        ("a row with an extra value", f"{header}\n{first},7\n", "evaluations.csv:2"),
        ("a row with a word", f"{header}\n{first.replace(',', ',x', 1)}\n", "evaluations.csv:2"),
        ("a short row", f"{header}\n{first}\n1\n", "evaluations.csv:3"),
        ("binary junk", f"{header}\n\x00\xff\x01\n", "evaluations.csv:2"),
    ]
    for _what, text, where in damages:
        evaluations.write_text(text)
        with pytest.raises(ValueError, match=where):
            read_evaluations(run)
    rewards = run / "cold_start.json"
    for text in ["", "[]", '{"rewards": ["a"], "reseed_episodes": true}', '{"rewards": []}']:
        rewards.write_text(text)
        with pytest.raises(ValueError, match="cold_start.json"):
            read_rewards(run)


# trial records -------------------------------------------------------------------------

NOT_RECORDS = [
    "[]",
    '"a string"',
    "42",
    "null",
    "{}",
    '{"key": "x"}',
    '{"key": 1, "status": "ok"}',
]


def test_resume_skips_json_that_is_not_a_trial_record_naming_the_line(tmp_path):
    plan = small_plan(LB, policies=("random", "oracle"), seeds=2, scenarios=("default",))
    records = run_benchmark(plan, tmp_path)
    file = tmp_path / "trials.jsonl"
    good = file.read_text().splitlines()
    broken = [{**json.loads(good[0]), "returns": ["x"]}, {**json.loads(good[1]), "seed": "1"}]
    junk = NOT_RECORDS + [json.dumps(record) for record in broken]
    file.write_text("\n".join([*junk, *good[2:]]) + "\n" + good[0][:20])  # and a torn tail
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = run_benchmark(plan, tmp_path, resume=True)
    messages = [str(w.message) for w in caught]
    for number in range(1, len(junk) + 1):
        assert any(f"trials.jsonl:{number}:" in m and "not a trial record" in m for m in messages)
    # the two trials whose lines were junk ran again; the others were kept
    assert sorted(r["key"] for r in resumed) == sorted(r["key"] for r in records)
    assert all(r["status"] == "ok" for r in resumed)


# atomic writes -------------------------------------------------------------------------


def writers(tmp_path: Path, agent_run: Path) -> dict:
    """Each writer of a results, checkpoint or run-folder file, as (file, write(version))."""
    env, agent = trained("ucb1")
    run = copy_run(agent_run, tmp_path)

    def figure(version):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plt.figure()
        fig.suptitle(str(version))
        save_figure(fig, tmp_path / "figure.png", dpi=20)
        plt.close(fig)

    def summary(version):
        plan = small_plan(LB, policies=("random",), scenarios=("default",))
        records = run_benchmark(plan, tmp_path / "bench", resume=True)
        write_summary(records, tmp_path / "bench", header=f"version {version}\n")

    return {
        "agent checkpoint": (
            tmp_path / "agent.npz",
            lambda v: (setattr(agent, "t", v), agent.save(tmp_path / "agent.npz")),
        ),
        "run config": (run / "config.json", lambda v: write_config(run, {"v": v})),
        "cold-start rewards": (run / "cold_start.json", lambda v: write_rewards(run, [v], True)),
        "summary": (tmp_path / "bench" / "summary.md", summary),
        "figure": (tmp_path / "figure.png", figure),
        "text": (tmp_path / "text.txt", lambda v: write_text(tmp_path / "text.txt", str(v))),
    }


def test_a_crash_while_saving_leaves_the_previous_file_whole(tmp_path, agent_run, monkeypatch):
    for what, (file, write) in writers(tmp_path, agent_run).items():
        write(1)
        before = file.read_bytes()

        def crash(*args):
            raise OSError("the machine lost power")

        monkeypatch.setattr(atomic_module.os, "replace", crash)
        with pytest.raises(OSError, match="lost power"):
            write(2)
        monkeypatch.undo()
        assert file.read_bytes() == before, what
        assert not list(file.parent.glob(".*.tmp")), what
        write(3)
        assert file.read_bytes() != before, what


def test_checkpoints_killed_mid_save_still_load(tmp_path):
    """SIGKILL a process that saves a large checkpoint over and over: what is on disk
    always loads."""
    path = tmp_path / "big.npz"
    specs = {"weights": ArraySpec((2_000_000,))}
    save_checkpoint(path, "Big", {}, {"weights": np.zeros(2_000_000)})
    script = (
        "import numpy as np, sys\n"
        "from opsgym.agents.checkpoint import save_checkpoint\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1\n"
        f"    save_checkpoint({str(path)!r}, 'Big', {{}}, {{'weights': np.full(2_000_000, float(i))}})\n"
        "    print(i, flush=True)\n"
    )
    for delay in (0.0, 0.05, 0.2):
        with subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
        ) as process:
            process.stdout.readline()  # one save done: the next is under way
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
        _, arrays = load_checkpoint(path, "Big", specs, {})
        assert np.all(arrays["weights"] == arrays["weights"][0])


def test_no_module_writes_a_file_but_through_the_atomic_helpers():
    """Whole files go through atomic_write, appended records through append_line."""
    direct = re.compile(
        r"\.write_text\(|\.write_bytes\(|\bopen\([^)]*[\"'][wax]b?\+?[\"']"
        r"|(\.savefig|np\.savez(_compressed)?|model\.save)\((?!\s*handle\b)"
    )
    found = []
    for folder in ("agents", "baselines", "train"):
        for source in sorted((OPSGYM / folder).rglob("*.py")):
            if source.name == "atomic.py":
                continue
            text = source.read_text()
            for match in direct.finditer(text):
                number = text.count("\n", 0, match.start()) + 1
                found.append(f"{source.relative_to(OPSGYM)}:{number}: {match.group()}")
    assert found == [], "\n".join(found)


def test_atomic_write_keeps_the_umask_permissions(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    with atomic_write(tmp_path / "atomic") as handle:
        handle.write("x")
    assert (tmp_path / "atomic").stat().st_mode == plain.stat().st_mode


def test_read_config_names_a_missing_key(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"env_id": LB, "agent": "x", "seed": 0}))
    with pytest.raises(ValueError, match=r"config\.json: missing 'status'"):
        read_config(tmp_path)
