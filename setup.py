"""Finds opsgym's packages: every package and data folder inside the top-level folders
that pyproject.toml's ``package-dir`` installs as ``opsgym.<folder>``.

setuptools' ``packages.find`` names what it finds after the folders (``envs.core``),
with no way to put them under ``opsgym``; this does.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = ("envs", "agents", "baselines", "train")

found = find_namespace_packages(
    include=[pattern for folder in FOLDERS for pattern in (folder, f"{folder}.*")],
    exclude=["*__pycache__*"],
)
setup(packages=[f"opsgym.{name}" for name in found])
