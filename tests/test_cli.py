"""The ``opsgym`` command line, run as a user runs it."""

from __future__ import annotations

import json
import re

import pytest
from cli_runner import run_cli

from opsgym.envs import opsgym_ids, registered_ids
from opsgym.train.cli import main


def test_list_names_every_registered_id_with_a_description(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert ids == opsgym_ids()
    assert all(len(line.split()) > 2 for line in lines)
    scenario_ids = [line.split()[1].rstrip(":") for line in lines if "scenario " in line]
    assert sorted(ids + scenario_ids) == registered_ids()
    assert any(
        "scenario opsgym/LoadBalancing-drift-slowdown-v0: a backend" in line for line in lines
    )


def test_evaluate_prints_a_table_of_domain_metrics():
    result = run_cli(
        "evaluate",
        "--env",
        "opsgym/LoadBalancing-v0",
        "--policy",
        "round_robin",
        "oracle",
        "--episodes",
        "3",
        "--seed",
        "1",
        "--env-arg",
        "episode_length=200",
    )
    assert result.returncode == 0, result.stderr
    assert "mean_latency_ms" in result.stdout or "mean latency" in result.stdout.lower()
    assert "round_robin" in result.stdout and "oracle" in result.stdout


def test_evaluate_json_is_deterministic(capsys):
    args = [
        "evaluate",
        "--env",
        "opsgym/LoadBalancing-v0",
        "--policy",
        "least_connections",
        "--episodes",
        "2",
        "--env-arg",
        "episode_length=100",
        "--json",
    ]
    main(args)
    first = json.loads(capsys.readouterr().out)
    main(args)
    assert json.loads(capsys.readouterr().out) == first
    metrics = first["policies"]["least_connections"]
    assert set(metrics) >= {"mean_latency_ms", "p99_latency_ms", "error_rate", "return"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--env", "opsgym/Nope-v0"], "opsgym/LoadBalancing-v0"),
        (["evaluate", "--env", "opsgym/LoadBalancing-v0", "--policy", "magic"], "round_robin"),
        (["evaluate", "--env", "opsgym/LoadBalancing-v0", "--env-arg", "lod=0.5"], "lod"),
        (["evaluate", "--env", "opsgym/LoadBalancing-v0", "--env-arg", "load=2"], "load"),
        (["evaluate", "--env", "opsgym/LoadBalancing-v0", "--env-arg", "load"], "KEY=VALUE"),
    ],
)
def test_bad_input_gets_a_message_naming_it(capsys, args, message):
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"opsgym {args[0]}: error:") and message in error


def test_throughput_prints_a_ratio_to_cartpole(capsys):
    assert (
        main(
            [
                "throughput",
                "--env",
                "opsgym/LoadBalancing-v0",
                "--steps",
                "300",
                "--rounds",
                "1",
                "--num-envs",
                "4",
                "--vector-steps",
                "400",
                "--ppo-timesteps",
                "1024",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "CartPole-v1" in out
    assert re.search(r"LoadBalancing-v0 .*\d+\.\d\dx", out)
    assert re.search(r"LoadBalancing-v0 \| 4 .*\d+\.\dx", out)  # native vector vs sync
    assert re.search(r"LoadBalancing-v0 .*\d+\.\d%", out)  # PPO's time in the env


def test_throughput_oracles_prints_a_row_per_oracle(capsys):
    args = ["throughput", "--oracles", "--oracle-requests", "2000", "--oracle-steps", "60"]
    assert main([*args, "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"Belady's MIN \(caching\) +\| 2,000 requests.*\| [\d.]+ +\| [\d,]+ requests/s", out
    )
    assert re.search(r"perfect-foresight plan \(autoscaling\) +\| 60 one-minute steps", out)
    assert re.search(r"min-max utilization LP \(routing\) +\| Abilene: 11 nodes", out)


def test_throughput_on_the_cpu_clock(capsys):
    args = ["throughput", "--env", "opsgym/LoadBalancing-v0", "--steps", "300", "--rounds", "1"]
    vector = ["--num-envs", "4", "--vector-steps", "400", "--ppo-timesteps", "0"]
    assert main([*args, *vector, "--clock", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "(cpu clock)" in out
    assert re.search(r"LoadBalancing-v0 .*\d+\.\d\dx", out)
    assert "native vector env against SyncVectorEnv (cpu clock)" in out
