"""Suite-wide setup: where the real-data fixtures are, and a machine that remembers a
dead Ray cluster.

Tests that read the project's real traces and traffic matrices take the
``shared_fixtures`` fixture, which finds them or skips saying how to get them.

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
from pathlib import Path

import pytest

FIXTURES_VARIABLE = "OPSGYM_FIXTURES"
FIXTURE_FOLDERS = ("cache", "routing")
# a checkout of the project sits beside its shared folder: <parent>/<clone>, <parent>/shared
BESIDE_THE_CLONE = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


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


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The folder of the project's real traces and matrices (read, never copied: their
    licences allow tests, not redistribution), holding ``cache/`` and ``routing/``.

    ``$OPSGYM_FIXTURES`` if set (an error if it lacks those folders), else
    ``../shared/fixtures`` beside the clone; the test is skipped, saying how to get
    them, when neither is there.
    """
    configured = os.environ.get(FIXTURES_VARIABLE)
    folder = Path(configured) if configured else BESIDE_THE_CLONE
    missing = [name for name in FIXTURE_FOLDERS if not (folder / name).is_dir()]
    if not missing:
        return folder
    if configured:
        absent = " or ".join(f"{name}/" for name in missing)
        pytest.fail(f"{FIXTURES_VARIABLE}={configured} holds no {absent} folder")
    pytest.skip(
        f"real-data fixtures absent (no {BESIDE_THE_CLONE}): set {FIXTURES_VARIABLE} to a "
        f"folder holding {' and '.join(f'{name}/' for name in FIXTURE_FOLDERS)} from the "
        "project's shared fixtures"
    )
