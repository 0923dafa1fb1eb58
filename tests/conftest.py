"""Suite-wide setup: every test runs on a machine that remembers a dead Ray cluster.

A past ``ray start`` leaves ``ray_current_cluster`` in Ray's temporary folder, and a
shell may still export ``RAY_ADDRESS``; plain ``ray.init()`` attaches to either and
hangs when that cluster is gone. The suite creates both, pointing at a port where
nothing listens, in a private temporary folder it points Ray at, so every Ray test
proves that a default run ignores them (and no test touches a real cluster).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile

import pytest


def _dead_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"  # closed on exit: nothing listens


@pytest.fixture(scope="session", autouse=True)
def stale_ray_cluster():
    """``RAY_TMPDIR`` with a stale ``ray/ray_current_cluster``, and a stale ``RAY_ADDRESS``."""
    # short: Ray's socket paths under this folder must fit in 107 bytes
    folder = tempfile.mkdtemp(prefix="opsgym-ray-", dir="/tmp")
    address = _dead_address()
    os.makedirs(os.path.join(folder, "ray"))
    with open(os.path.join(folder, "ray", "ray_current_cluster"), "w") as file:
        file.write(address)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_TMPDIR", folder)
        patch.setenv("RAY_ADDRESS", address)
        yield address
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():
            sys.modules["ray"].shutdown()
    shutil.rmtree(folder, ignore_errors=True)
