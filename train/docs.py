"""``opsgym docs``: build the documentation site of a clone with MkDocs, strictly."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

# MkDocs and Material print a banner about their successors on every build; the
# choice is argued in docs/development.md, so the banner is noise here.
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


def build_docs(
    config: str | Path, site: str | Path, serve: bool = False, check: bool = False
) -> int:
    """Build (or serve) the site of ``config`` with every warning an error; with ``check``,
    then load every page in headless Chromium. Returns the exit code.

    Raises:
        ValueError: MkDocs is not installed (the docs extra names what to install).
    """
    if importlib.util.find_spec("mkdocs") is None:
        raise ValueError(
            "building the documentation needs the docs extra: pip install -e '.[docs]'"
        )
    config = Path(config)
    # `python -m mkdocs`, not the `mkdocs` script: from the script's folder, the API
    # pages' loader would take the `opsgym` console script for the package.
    mkdocs = [sys.executable, "-m", "mkdocs"]
    environment = {**os.environ, **QUIET}
    if serve:
        command = [*mkdocs, "serve", "--strict", "--config-file", str(config)]
        return subprocess.run(command, env=environment).returncode
    command = [*mkdocs, "build", "--strict", "--config-file", str(config), "--site-dir", str(site)]
    built = subprocess.run(command, env=environment).returncode
    if built != 0 or not check:
        return built
    checker = config.parent / "docs" / "check_site.py"
    screenshots = Path(site).parent / "site-check"
    command = [sys.executable, str(checker), str(site), "--screenshots", str(screenshots)]
    return subprocess.run(command).returncode
