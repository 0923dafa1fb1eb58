"""opsgym: Gymnasium environments for infrastructure control.

The repository's top folder is this package; its folders are the subpackages
(``envs/`` is :mod:`opsgym.envs`, ``agents/`` :mod:`opsgym.agents`, ...). Importing it
imports nothing else.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opsgym")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
