"""A benchmark stopped by a signal leaves no process behind and no run folder that looks
finished; ``--resume`` then runs the unfinished trials again from scratch.

Real subprocesses, real signals: the benchmark runs as a user runs it, its pool workers
are found in /proc, and the parent is killed the ways a user or a system kills it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsgym.train.benchmark import read_trials
from opsgym.train.cli import main

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

LB = "opsgym/LoadBalancing-v0"
DEADLINE_SECONDS = 180  # for the benchmark to start training, or to stop, on a loaded machine
EXIT_SECONDS = 30  # for processes to be gone once their parent is


def benchmark_args(out: Path, jobs: int, budget: int) -> list[str]:
    """Two seeds of a learner whose training lasts far longer than the test, unless small."""
    return [
        "benchmark",
        "--envs",
        LB,
        "--policies",
        "ucb1",
        "--agents",
        "ucb1",
        "--sb3",
        "--seeds",
        "2",
        "--episodes",
        "1",
        "--budget",
        str(budget),
        "--cold-start-steps",
        "0",
        "--scenarios",
        "default",
        "--jobs",
        str(jobs),
        "--out",
        str(out),
    ]


def children(pid: int) -> set[int]:
    """The live descendants of ``pid``, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = _state(int(entry.name))
            if state is not None and state[0] != "Z":
                parents[int(entry.name)] = state[1]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _state(pid: int) -> tuple[str, int] | None:
    """A process's state letter and parent pid, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return fields[0], int(fields[1])


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (_state(pid) or ("Z",))[0] != "Z"}


@pytest.fixture
def start_training():
    """Start a benchmark and wait until ``jobs`` trials are training; return it and its
    pool workers (none with one job: it trains in its own process).

    Whatever the test does, the benchmark and its workers are killed when it ends: their
    training would otherwise run on for days."""
    started = []

    def start(out: Path, jobs: int) -> tuple[subprocess.Popen, set[int]]:
        process = subprocess.Popen(
            [sys.executable, "-m", "opsgym.train.cli", *benchmark_args(out, jobs, 10**9)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=as_from_a_terminal,
        )
        started.append(process)
        return process, wait_for_training(process, out, jobs)

    yield start
    for process in started:
        for pid in children(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.communicate()


def as_from_a_terminal() -> None:
    """Let SIGINT reach the benchmark even where pytest itself runs as a background job of
    a script, which POSIX starts with SIGINT ignored (and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_training(process: subprocess.Popen, out: Path, jobs: int) -> set[int]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(run_configs(out)) < jobs and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(run_configs(out)) == jobs, "the benchmark did not start training"
    workers = children(process.pid) if jobs > 1 else set()
    assert len(workers) >= jobs if jobs > 1 else True
    return workers


def run_configs(out: Path) -> list[dict]:
    """The config.json of every run folder of the sweep."""
    files = sorted((out / "runs").glob("*/*/config.json"))
    return [json.loads(file.read_text()) for file in files if file.stat().st_size]


def wait_gone(pids: set[int]) -> set[int]:
    deadline = time.monotonic() + EXIT_SECONDS
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pids)


def test_pool_workers_exit_when_the_benchmark_is_killed(tmp_path, start_training):
    out = tmp_path / "out"
    process, workers = start_training(out, jobs=2)
    process.kill()  # SIGKILL: the parent runs no cleanup at all
    process.wait()
    assert wait_gone(workers) == set()
    assert {c["status"] for c in run_configs(out)} == {"running"}

    # --resume deletes what the killed trials left and runs them again
    assert main([*benchmark_args(out, 1, 300), "--resume"]) == 0
    records = read_trials(out / "trials.jsonl")
    assert sorted(r["seed"] for r in records) == [0, 1]
    assert [c["status"] for c in run_configs(out)] == ["finished", "finished"]
    assert all(Path(r["run_folder"]).is_dir() for r in records)


@pytest.mark.parametrize(
    ("signum", "jobs"),
    [(signal.SIGTERM, 2), (signal.SIGINT, 2), (signal.SIGINT, 1)],
)
def test_a_stopped_benchmark_stops_its_workers_and_marks_its_runs(
    tmp_path, start_training, signum, jobs
):
    out = tmp_path / "out"
    process, workers = start_training(out, jobs)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=DEADLINE_SECONDS)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "--resume" in stderr
    assert wait_gone(workers) == set()
    assert {c["status"] for c in run_configs(out)} == {"interrupted"}
    assert read_trials(out / "trials.jsonl") == []  # no trial counts as done


def test_the_watchdog_alone_ends_an_orphaned_worker(tmp_path):
    """Where the kernel cannot be asked (not Linux), the worker's own thread notices."""
    script = tmp_path / "orphan.py"
    script.write_text(
        """
import ctypes, multiprocessing, os, time

def worker():
    def no_prctl(*args, **kwargs):
        raise OSError("no prctl here")
    ctypes.CDLL = no_prctl
    from opsgym.train.worker_pool import exit_with_parent
    exit_with_parent(os.getppid())
    print("watching", flush=True)
    time.sleep(60)

if __name__ == "__main__":
    child = multiprocessing.get_context("spawn").Process(target=worker)
    child.start()
    print(child.pid, flush=True)
    time.sleep(60)
"""
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "watching"
    parent.kill()
    parent.wait()
    assert wait_gone({worker}) == set()


def test_workers_ignore_ctrl_c_sent_to_the_whole_process_group(tmp_path, start_training):
    out = tmp_path / "out"
    process, workers = start_training(out, jobs=2)
    for worker in workers:
        os.kill(worker, signal.SIGINT)  # as a terminal's Ctrl-C reaches them too
    time.sleep(1)
    assert alive(workers) == workers
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=DEADLINE_SECONDS)
    assert wait_gone(workers) == set()
