"""Closed forms of the M/M/c queue (Erlang's delay formula).

Reference: L. Kleinrock, *Queueing Systems, Volume 1: Theory* (1975), section 3.5; the
recursion for the Erlang B formula is the standard numerically stable one (it never
forms a factorial).
"""

from __future__ import annotations


def erlang_b(servers: int, offered_load: float) -> float:
    """The blocking probability of an M/M/c/c loss system (Erlang B).

    Args:
        servers: the number of servers c >= 1.
        offered_load: a = arrival rate x mean service time [Erlangs].
    """
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """The probability that an arrival waits in an M/M/c queue (Erlang C).

    ``C = c B / (c - a (1 - B))`` with B the Erlang B probability; requires ``a < c``.
    """
    if offered_load >= servers:
        raise ValueError(f"offered_load {offered_load} must be below servers {servers}")
    blocking = erlang_b(servers, offered_load)
    return servers * blocking / (servers - offered_load * (1.0 - blocking))


def mmc_mean_wait(arrival_rate: float, service_time: float, servers: int) -> float:
    """The mean time an arrival waits before service in an M/M/c queue [s].

    ``W = C(c, a) * s / (c - a)`` with ``a = arrival_rate * service_time``.
    """
    offered = arrival_rate * service_time
    if offered <= 0.0:
        return 0.0
    return erlang_c(servers, offered) * service_time / (servers - offered)
