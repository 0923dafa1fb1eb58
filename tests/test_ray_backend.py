"""Ray starts privately unless a cluster is named, and a named dead one fails fast."""

from __future__ import annotations

import os
import time

import pytest

from opsgym.train.cli import main
from opsgym.train.ray_backend import ClusterUnreachable, check_reachable, parse_address

LB = "opsgym/LoadBalancing-v0"


def test_the_suite_runs_with_a_stale_cluster_file_and_address(stale_ray_cluster):
    cluster_file = os.path.join(os.environ["RAY_TMPDIR"], "ray", "ray_current_cluster")
    assert open(cluster_file).read() == stale_ray_cluster
    assert os.environ["RAY_ADDRESS"] == stale_ray_cluster
    with pytest.raises(ClusterUnreachable):
        check_reachable(stale_ray_cluster, timeout=1.0)


@pytest.mark.parametrize(
    "address, parsed",
    [("10.0.0.5:6379", ("10.0.0.5", 6379)), ("ray://head:10001", ("head", 10001))],
)
def test_addresses_are_host_and_port(address, parsed):
    assert parse_address(address) == parsed


@pytest.mark.parametrize("address", ["auto", "head", "head:port", "head:0", ":6379"])
def test_malformed_addresses_are_refused_with_the_form_expected(address):
    with pytest.raises(ClusterUnreachable, match="host:port"):
        parse_address(address)


@pytest.mark.parametrize(
    "command",
    [
        ["benchmark", "--envs", LB, "--policies", "random", "--seeds", "1", "--backend", "ray"],
        ["federated", "--env", LB, "--agent", "ucb1", "--nodes", "2", "--rounds", "1"],
    ],
)
def test_a_dead_named_cluster_is_a_one_line_error(command, stale_ray_cluster, tmp_path, capsys):
    out = ["--out", str(tmp_path / "out")] if command[0] == "benchmark" else []
    started = time.perf_counter()
    assert main([*command, *out, "--address", stale_ray_cluster]) == 2
    assert time.perf_counter() - started < 30
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert stale_ray_cluster in error and "ray start --head" in error


@pytest.mark.parametrize(
    "command",
    [
        ["benchmark", "--envs", LB, "--policies", "random", "--seeds", "1"],
        ["federated", "--env", LB, "--agent", "ucb1", "--backend", "local"],
    ],
)
def test_an_address_without_the_ray_backend_is_refused(command, tmp_path, capsys):
    out = ["--out", str(tmp_path / "out")] if command[0] == "benchmark" else []
    assert main([*command, *out, "--address", "127.0.0.1:6379"]) == 2
    assert "--address" in capsys.readouterr().err
