"""Finds opsgym's packages: the top folder's ``__init__.py`` as ``opsgym``, and every
package and data folder inside the top-level folders that pyproject.toml's
``package-dir`` installs as ``opsgym.<folder>``.

setuptools' ``packages.find`` names what it finds after the folders (``envs.core``),
with no way to put them under ``opsgym``; this does. The top folder is the ``opsgym``
package only for its ``__init__.py``: this script stays out of it.
"""

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

FOLDERS = ("envs", "agents", "baselines", "train")


class BuildWithoutSetupScript(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [entry for entry in modules if (package, entry[1]) != ("opsgym", "setup")]


found = find_namespace_packages(
    include=[pattern for folder in FOLDERS for pattern in (folder, f"{folder}.*")],
    exclude=["*__pycache__*"],
)
setup(
    packages=["opsgym"] + [f"opsgym.{name}" for name in found],
    cmdclass={"build_py": BuildWithoutSetupScript},
)
