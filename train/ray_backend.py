"""Starting Ray for the benchmark and federated commands.

Without an address, Ray's own ``ray.init()`` attaches to whatever cluster the machine
remembers: the ``RAY_ADDRESS`` environment variable, or the ``ray_current_cluster`` file
a past ``ray start`` left in Ray's temporary folder. A dead cluster named there makes
it retry forever. opsgym asks Ray for a private local instance instead
(``address="local"``, which Ray resolves without reading either), and attaches to a
cluster only when the user names it, after checking within a bounded time that
something answers at that address.
"""

from __future__ import annotations

import socket
import sys
from types import ModuleType

CONNECT_TIMEOUT_S = 10.0
_connected_to: tuple[str | None] | None = None  # what this process's Ray was started for
START_HINT = "start one with `ray start --head`, or run without --address for a local one"


class ClusterUnreachable(ValueError):
    """No Ray cluster answers at the address the user gave."""


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (or ``ray://host:port``) of a Ray cluster's head node.

    Raises:
        ClusterUnreachable: the address is not of that form.
    """
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterUnreachable(
            f"--address {address!r} is not host:port (e.g. 127.0.0.1:6379); {START_HINT}"
        )
    return host, int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise :class:`ClusterUnreachable` unless a TCP connection to ``address`` opens."""
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        raise ClusterUnreachable(
            f"no Ray cluster answers at --address {address} within {timeout:.0f} s "
            f"({error.strerror or error}); {START_HINT}"
        ) from None


def init_ray(address: str | None = None) -> ModuleType:
    """The ``ray`` module, initialized: a private local instance, or the named cluster.

    A process that already runs Ray for another target shuts it down first, so a run
    never lands on a cluster it did not ask for.

    Raises:
        ValueError: Ray is not installed.
        ClusterUnreachable: ``address`` is malformed or nothing answers there.
    """
    global _connected_to
    try:
        import ray
    except ImportError as error:
        raise ValueError("the Ray backend needs Ray: pip install 'opsgym[ray]'") from error
    if address is not None:
        check_reachable(address)
    if ray.is_initialized():
        if _connected_to == (address,):
            return ray
        ray.shutdown()
    if address is None:
        ray.init(address="local", include_dashboard=False, log_to_driver=False)
    else:
        print(f"opsgym: attaching to the Ray cluster at {address}", file=sys.stderr)
        ray.init(address=address, log_to_driver=False)
    _connected_to = (address,)
    return ray
