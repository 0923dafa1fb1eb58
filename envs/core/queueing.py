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

import numpy as np


def erlang_b(servers: int, offered_load: float) -> float:
    """The blocking probability of an M/M/c/c loss system (Erlang B).

    Args:
        servers: the number of servers c >= 1.
        offered_load: a = arrival rate x mean service time [Erlangs].
    """
    blocking = 1.0
    for k in range(1, servers + 1):
        carried = offered_load * blocking
        blocking = carried / (k + carried)
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


# ----------------------------------------------------------------------------------------
# The same closed forms over numpy arrays, element by element, for vector environments
# that evaluate many queues at once; they agree with the scalar functions above to
# rounding (tests/test_vector_envs.py).
# ----------------------------------------------------------------------------------------


MAX_PLAIN_LOAD = 700.0  # [Erlangs] e^a, the largest term a^j / j! can reach, < 1.8e308
NEWTON_TOLERANCE = 1e-7  # relative; the Newton step after one this small is exact to ~1e-14


def erlang_c_array(servers: np.ndarray, offered_load: np.ndarray) -> np.ndarray:
    """:func:`erlang_c` of each (servers, offered load) pair; requires ``a < c``.

    Erlang B as ``(a^c / c!) / sum_{j <= c} a^j / j!``: the terms are positive, so the
    sum loses nothing. They are running products of a / j while no term can overflow
    (each is at most e^a); beyond, they are summed in log space, scaled by the largest.
    """
    ks = np.arange(1, int(servers.max()) + 1)
    rows = np.arange(servers.size)
    if offered_load.max() <= MAX_PLAIN_LOAD:
        terms = np.cumprod(offered_load[:, None] / ks, axis=1)
        total = 1.0 + np.cumsum(terms, axis=1)[rows, servers - 1]
        blocking = terms[rows, servers - 1] / total
    else:
        with np.errstate(divide="ignore"):  # log(0) = -inf: every term but a^0 / 0! is 0
            logs = np.cumsum(np.log(offered_load)[:, None] - np.log(ks), axis=1)
        logs = np.where(ks <= servers[:, None], logs, -np.inf)
        largest = np.maximum(logs.max(axis=1), 0.0)
        total = np.exp(-largest) + np.exp(logs - largest[:, None]).sum(axis=1)
        blocking = np.exp(logs[rows, servers - 1] - largest) / total
    return servers * blocking / (servers - offered_load * (1.0 - blocking))


def mmc_response_quantile_array(
    quantile: float, wait_probability: np.ndarray, theta: np.ndarray, mu: float
) -> np.ndarray:
    """:func:`mmc_response_quantile` of each element, by a safeguarded Newton iteration
    on the log-survival over the whole batch.

    With s = min(theta, mu), g = |theta - mu| and h(t) = (1 - e^{-g t}) / g (h = t when
    g = 0), the survival of :func:`mmc_response_survival` is
    ``e^{-s t} B(t)`` with ``B = (1 - p) u + p (1 + s h)``, u = e^{-g t} when the wait
    is the slower phase and 1 otherwise, and its hazard is
    ``((1 - p) mu u + p mu theta h) / B``: one ``expm1`` per pass, no cancellation. The
    iteration starts from the quantile of ``e^{-s t} B(infinity)``, the survival's slower
    exponential term alone, which the root is close to, and stops once every Newton step
    is below ``NEWTON_TOLERANCE`` of t (Newton converges quadratically, so that last
    step lands at the root to rounding). Steps leaving the bracket of
    :func:`mmc_response_quantile` bisect it instead.
    """
    tail = 1.0 - quantile
    log_tail = math.log(tail)
    p = wait_probability
    no_wait = 1.0 - p
    slow = np.minimum(theta, mu)
    gap = np.abs(theta - mu)
    zero_gap = gap == 0.0
    # (1 - p) u = (1 - p) + no_wait_if_wait_slower * expm1(-g t)
    no_wait_if_wait_slower = np.where(theta < mu, no_wait, 0.0)
    # elements that never wait have a wait bound log(1) / theta = 0
    low = np.maximum(-log_tail / mu, np.log(np.maximum(p, tail) / tail) / theta)
    high = 2.0 * math.log(2.0 / tail) / slow
    minus_gap = -gap
    minus_inverse_gap = -1.0 / np.where(zero_gap, 1.0, gap)
    # B(infinity); where g = 0, B grows without bound and any guess will do (1 / g := 1)
    limit = np.where(theta < mu, 0.0, no_wait) + p * (1.0 - slow * minus_inverse_gap)
    guess = np.log(np.maximum(limit, tail) / tail) / slow
    t = np.where((low < guess) & (guess < high), guess, low)
    some_zero_gap = bool(zero_gap.any())
    wait_slow = p * slow
    no_wait_mu = no_wait * mu
    wait_slower_mu = no_wait_if_wait_slower * mu
    wait_mu_theta = p * mu * theta
    for _ in range(100):
        decay = np.expm1(minus_gap * t)
        h = decay * minus_inverse_gap
        if some_zero_gap:
            h[zero_gap] = t[zero_gap]
        bracket = 1.0 + no_wait_if_wait_slower * decay + wait_slow * h
        excess = np.log(bracket) - slow * t - log_tail  # log survival - log tail
        hazard_bracket = no_wait_mu + wait_slower_mu * decay + wait_mu_theta * h
        step = t + excess * bracket / hazard_bracket
        if (np.abs(step - t) <= NEWTON_TOLERANCE * t).all():
            return step
        above = excess > 0.0
        low = np.where(above, t, low)
        high = np.where(above, high, t)
        # non-strict: an element already at its root may sit on a bound
        t = np.where((low <= step) & (step <= high), step, 0.5 * (low + high))
    return t
