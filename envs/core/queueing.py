"""Closed forms of the M/M/c queue (Erlang's delay formula).

An M/M/c queue has Poisson arrivals at rate lambda, c servers and exponential service
at rate mu per server; a = lambda / mu is the offered load [Erlangs]. A request waits
with the Erlang C probability C(c, a); given that it waits, its wait is exponential with
rate theta = c mu - lambda, and its response time is that wait plus its own exponential
service.

Reference: L. Kleinrock, *Queueing Systems, Volume 1: Theory* (1975), section 3.5; the
recursion for the Erlang B formula is the standard numerically stable one (it never
forms a factorial).
"""

from __future__ import annotations

import math


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


def _one_minus_exp_over(x: float) -> float:
    """(1 - exp(-x)) / x, stable near 0 (the limit there is 1)."""
    return 1.0 if x == 0.0 else -math.expm1(-x) / x


def mmc_response_survival(t: float, wait_probability: float, theta: float, mu: float) -> float:
    """P(response time > t) in M/M/c: no wait and service > t, or wait plus service > t.

    With W ~ Exp(theta) and X ~ Exp(mu), P(W + X > t) is the hypoexponential survival
    (theta e^{-mu t} - mu e^{-theta t}) / (theta - mu), written here in a form that stays
    exact when theta is close to mu.
    """
    if t <= 0.0:
        return 1.0
    service_tail = math.exp(-mu * t)
    delta = theta - mu
    if delta * t > -1.0:
        both = service_tail * (1.0 + mu * t * _one_minus_exp_over(delta * t))
    else:
        both = (theta * service_tail - mu * math.exp(-theta * t)) / delta
    return (1.0 - wait_probability) * service_tail + wait_probability * both


def _mmc_response_density(t: float, wait_probability: float, theta: float, mu: float) -> float:
    service_density = mu * math.exp(-mu * t)
    delta = theta - mu
    if delta * t > -1.0:
        both = theta * t * service_density * _one_minus_exp_over(delta * t)
    else:
        both = theta * mu * (math.exp(-theta * t) - math.exp(-mu * t)) / (-delta)
    return (1.0 - wait_probability) * service_density + wait_probability * both


def mmc_response_quantile(
    quantile: float, wait_probability: float, theta: float, mu: float
) -> float:
    """The ``quantile`` of the M/M/c response time, by safeguarded Newton iteration.

    Newton runs on the log-survival, which is close to linear in t (both phases are
    exponential), so it converges in a few steps. The root lies between the larger of
    the service and wait quantiles (the response time exceeds both) and the time at
    which each of wait and service exceeds half of it with probability at most
    (1 - quantile) / 2; a step leaving that bracket bisects it instead.
    """
    tail = 1.0 - quantile
    log_tail = math.log(tail)
    low = -log_tail / mu
    if wait_probability > tail:
        low = max(low, math.log(wait_probability / tail) / theta)
    high = 2.0 * max(math.log(2.0 / tail) / mu, math.log(2.0 / tail) / theta)
    t = low
    for _ in range(100):
        survival = mmc_response_survival(t, wait_probability, theta, mu)
        if survival > tail:
            low = t
        else:
            high = t
        hazard = _mmc_response_density(t, wait_probability, theta, mu) / survival
        step = t + (math.log(survival) - log_tail) / hazard if hazard > 0.0 else high
        if abs(step - t) <= 1e-11 * t:
            return step
        t = step if low < step < high else 0.5 * (low + high)
    return t
