"""Closed forms of the M/M/c queue (Erlang C), for fleets of identical servers.

An M/M/c queue has Poisson arrivals at rate lambda, c servers and exponential service
at rate mu per server; a = lambda / mu is the offered load [Erlangs] and rho = a / c < 1
the utilization. A request waits with the Erlang C probability C(c, a); given that it
waits, its wait is exponential with rate theta = c mu - lambda (Kleinrock, Queueing
Systems vol. 1, 1975, section 3.5; Gross and Harris, Fundamentals of Queueing Theory,
section 2.3). Its response time is that wait plus its own exponential service.
"""

from __future__ import annotations

import math


def erlang_b(servers: int, offered: float) -> float:
    """The Erlang B blocking probability B(c, a).

    Computed with the recursion B(0) = 1, B(n) = a B(n-1) / (n + a B(n-1)), which is
    numerically stable for any c and a (no factorials, no powers; Jagerman, 1974).
    """
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = offered * blocking / (n + offered * blocking)
    return blocking


def erlang_c_from_b(blocking: float, servers: int, offered: float) -> float:
    """C(c, a) from B(c, a): C = B / (1 - rho (1 - B)), with rho = a / c < 1."""
    rho = offered / servers
    return blocking / (1.0 - rho * (1.0 - blocking))


def erlang_c(servers: int, offered: float) -> float:
    """The Erlang C probability that a request waits, for ``offered < servers``."""
    return erlang_c_from_b(erlang_b(servers, offered), servers, offered)


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
