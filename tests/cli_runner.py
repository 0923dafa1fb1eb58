"""Run the ``opsgym`` command line in a subprocess, as a user runs it."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "opsgym.train.cli", *args], capture_output=True, text=True
    )
