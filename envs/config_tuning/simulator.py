"""A service's steady-state performance as a function of its configuration and workload.

The service runs a pool of worker threads on a machine with a fixed number of cores; a
request holds one thread for its whole life: it computes on a core, and makes database
calls through a connection pool, unless a result cache answers them. The model is a
layered decomposition of M/M/c stations (the method of layers, J. A. Rolia and K. C.
Sevcik, "The method of layers", IEEE TSE 21(8), 1995): each resource is a station whose
service time is how long a customer holds it, and a thread is held for the time its
request spends at the layers below.

- **CPU**: with more threads than cores, requests queue for a core (M/M/cores, an
  infinite-source approximation that overstates the wait when threads barely exceed the
  cores) and every configured thread beyond the cores inflates the CPU time of a request
  by ``thread_contention`` (context switches, cache and lock contention: the linear
  contention term of Gunther's Universal Scalability Law, *Guerrilla Capacity Planning*,
  2007; counted on the pool's size rather than on the threads busy at the moment, a
  simplification that spares a fixed point). With no more threads than cores there is no
  CPU queue.
- **Connection pool**: database calls queue for a connection (M/M/pool) unless the pool
  has at least one connection per thread. The database itself slows down by
  ``db_contention`` per connection beyond twice its cores (the rule behind HikariCP's
  pool-size formula: a core keeps about two sessions busy while others wait on I/O).
- **Hung calls**: a database call hangs with probability ``hang_prob`` (a lock wait, a
  dead peer) for ``hang_time``; the request timeout cuts it off, so a long timeout lets
  hung calls hold threads and connections, and a short one turns them into errors.
- **Threads**: requests queue for a thread (M/M/threads) whose service time is the
  request's holding time.
- **Timeout**: the response time of a request that does not hang is approximated as
  exponential with the model's mean (exact for M/M/1); a request still running at the
  timeout is an error, and is counted in the latency at the timeout.
- **Overload**: a station never runs above ``MAX_UTILIZATION``; the excess arrivals are
  rejected at once, as a bounded accept queue does, and count as errors.

The workload is a mix of a CPU-bound and an I/O-bound request class; the model treats the
mix as one class with the mean demands (exponential service, as M/M/c assumes).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core.drift import interpolate
from opsgym.envs.core.queueing import mmc_mean_wait

if TYPE_CHECKING:
    from opsgym.envs.config_tuning.config import ConfigTuningConfig

MAX_UTILIZATION = 0.98  # beyond this a station sheds load (a bounded accept queue)
BISECTION_STEPS = 30  # the carried rate under overload to 2^-30 of its bracket: 1e-8 of itself
TAIL = 0.05  # the latency percentile reported is the (1 - TAIL) quantile: p95


@dataclass(frozen=True)
class RequestClass:
    """The resource demands of one kind of request."""

    cpu_time: float  # [s of one core]
    db_calls: float  # database calls per request, before the cache


CPU_BOUND = RequestClass(cpu_time=0.010, db_calls=1.0)
IO_BOUND = RequestClass(cpu_time=0.002, db_calls=5.0)


@dataclass(frozen=True)
class ServiceModel:
    """The machine, the database and the cache: everything a knob does not change."""

    cores: int = 8
    thread_contention: float = 0.002  # relative CPU-time increase per thread beyond cores
    db_cores: int = 8
    db_contention: float = 0.02  # relative call-time increase per connection beyond 2 x db_cores
    db_call_time: float = 0.004  # [s] one database call on an uncontended database
    hang_prob: float = 0.0002  # probability that a database call hangs
    hang_time: float = 50.0  # [s] a hung call left alone: InnoDB's default lock wait timeout
    cache_working_set_mb: float = 512.0  # [MB] scale of the cache's hit-ratio curve
    cache_max_hit_ratio: float = 0.8  # share of database calls a cache could ever answer
    thread_memory_mb: float = 1.0  # [MB] a thread's stack (the JVM's default -Xss1m)
    connection_memory_mb: float = 10.0  # [MB] a database session on both ends (assumed)
    cpu_bound: RequestClass = CPU_BOUND
    io_bound: RequestClass = IO_BOUND


@dataclass(frozen=True)
class Config:
    """One setting of the service's knobs."""

    threads: int
    pool: int  # database connections
    cache_mb: float  # [MB]
    timeout: float  # [s]


@dataclass(frozen=True)
class Performance:
    """What a configuration delivers under a workload, in steady state."""

    p95_latency: float  # [s] over the requests that were not rejected
    mean_latency: float  # [s] of the requests that neither hang nor are rejected
    error_rate: float  # rejected or timed-out share of arrivals
    throughput: float  # [requests/s] answered without error
    cpu_utilization: float  # busy share of the cores
    pool_utilization: float  # busy share of the connections
    thread_utilization: float  # busy share of the threads
    memory_gb: float  # [GB] threads, connections and cache


def cache_hit_ratio(model: ServiceModel, cache_mb: float) -> float:
    """The share of database calls the cache answers: saturating in the cache size.

    ``h = h_max (1 - exp(-size / working_set))``, the hit ratio of a cache over an
    exponentially decaying popularity (an assumption, documented rather than cited).
    """
    return model.cache_max_hit_ratio * (1.0 - math.exp(-cache_mb / model.cache_working_set_mb))


def performance(model: ServiceModel, config: Config, rate: float, io_share: float) -> Performance:
    """The steady-state performance of ``config`` under ``rate`` requests/s of the mix.

    Args:
        model: the machine, database and cache.
        config: the knob settings.
        rate: the arrival rate [requests/s], Poisson.
        io_share: the share of I/O-bound requests, in [0, 1].
    """
    threads, pool, timeout = config.threads, config.pool, config.timeout
    cpu_share = 1.0 - io_share
    cpu_time = cpu_share * model.cpu_bound.cpu_time + io_share * model.io_bound.cpu_time
    calls = (cpu_share * model.cpu_bound.db_calls + io_share * model.io_bound.db_calls) * (
        1.0 - cache_hit_ratio(model, config.cache_mb)
    )
    cpu_time *= 1.0 + model.thread_contention * max(0, threads - model.cores)
    call_time = model.db_call_time * (1.0 + model.db_contention * max(0, pool - 2 * model.db_cores))
    hung_hold = min(timeout, model.hang_time)  # a hung call holds its connection this long
    connection_hold = (1.0 - model.hang_prob) * call_time + model.hang_prob * hung_hold
    hang_share = 1.0 - math.exp(-model.hang_prob * calls)  # requests with a hung call
    cpu_servers = min(threads, model.cores)

    served = min(rate, MAX_UTILIZATION * cpu_servers / cpu_time)
    if calls > 0.0:
        served = min(served, MAX_UTILIZATION * pool / (calls * connection_hold))

    def thread_hold(rate: float) -> float:  # how long a request holds its thread [s]
        below = _time_below_threads(
            model, config, rate, cpu_time, calls, call_time, connection_hold
        )
        return below + hang_share * hung_hold

    hold = thread_hold(served)
    if served * hold > MAX_UTILIZATION * threads:
        # the holding time grows with the rate: bisect for the largest rate the threads carry
        low, high = 0.0, served
        for _ in range(BISECTION_STEPS):
            middle = 0.5 * (low + high)
            if middle * thread_hold(middle) > MAX_UTILIZATION * threads:
                high = middle
            else:
                low = middle
        served = low
        hold = thread_hold(served)
    below = hold - hang_share * hung_hold
    mean = below + mmc_mean_wait(served, hold, threads)

    hung_response = mean + model.hang_time
    timed_out = (1.0 - hang_share) * math.exp(-timeout / mean)
    if hung_response > timeout:
        timed_out += hang_share
    rejected = 1.0 - served / rate if rate > 0.0 else 0.0
    error_rate = rejected + (1.0 - rejected) * timed_out
    p95 = min(timeout, _tail_quantile(mean, hang_share, min(timeout, hung_response)))
    return Performance(
        p95_latency=p95,
        mean_latency=mean,
        error_rate=error_rate,
        throughput=rate * (1.0 - error_rate),
        cpu_utilization=served * cpu_time / model.cores,
        pool_utilization=served * calls * connection_hold / pool,
        thread_utilization=served * hold / threads,
        memory_gb=memory_gb(model, config),
    )


def memory_gb(model: ServiceModel, config: Config) -> float:
    """The memory the threads, connections and cache of ``config`` hold [GB]."""
    threads = config.threads * model.thread_memory_mb
    return (threads + config.pool * model.connection_memory_mb + config.cache_mb) / 1024.0


def _time_below_threads(
    model: ServiceModel,
    config: Config,
    rate: float,
    cpu_time: float,
    calls: float,
    call_time: float,
    connection_hold: float,
) -> float:
    """A request's time at the CPU and database layers when none of its calls hangs [s]."""
    cpu_wait = 0.0
    if config.threads > model.cores:
        cpu_wait = mmc_mean_wait(rate, cpu_time, model.cores)
    pool_wait = 0.0
    if config.pool < config.threads and calls > 0.0:
        pool_wait = mmc_mean_wait(rate * calls, connection_hold, config.pool)
    return cpu_time + cpu_wait + calls * (call_time + pool_wait)


def _tail_quantile(mean: float, hang_share: float, hung_response: float) -> float:
    """The (1 - TAIL) quantile of a response time that is exponential with ``mean``,
    except for a share ``hang_share`` of requests that take ``hung_response``.

    Survival: ``S(t) = (1 - p) exp(-t / mean) + p [t < hung_response]``; the quantile is
    the smallest t with S(t) <= TAIL.
    """
    p = hang_share
    after = mean * math.log((1.0 - p) / TAIL) if p < 1.0 - TAIL else 0.0
    if after >= hung_response:
        return after
    if p < TAIL:
        before = mean * math.log((1.0 - p) / (TAIL - p))
        if before < hung_response:
            return before
    return hung_response


class PerformanceTable:
    """:func:`performance` of the configurations of a knob grid under the few workloads an
    episode meets (burst or not, times the levels of the I/O share's drift ramp), each
    computed once on first use, for vector envs that look many up at once.

    Args:
        config: the env's configuration: its knob grid, rates and drift ramp.
    """

    COLUMNS = (
        "p95_latency",
        "error_rate",
        "throughput",
        "memory_gb",
        "cpu_utilization",
        "pool_utilization",
        "thread_utilization",
    )

    def __init__(self, config: ConfigTuningConfig) -> None:
        self.config = config
        self.model = ServiceModel(cores=config.cores)
        self.sizes = np.array([len(o) for o in config.knob_options])
        # flat configuration number = sum of index x stride (the last knob varies fastest)
        self.strides = np.cumprod(np.concatenate(([1], self.sizes[:0:-1])))[::-1].copy()
        self.rates = (config.request_rate, config.request_rate * config.burst_factor)
        self.ramp = max(config.drift_ramp, 1)
        # the I/O share at each step of the drift's ramp, as the single env interpolates it
        self.mixes = np.array(
            [
                interpolate(config.io_share, config.io_share_after, level / self.ramp)
                for level in range(self.ramp + 1)
            ]
        )
        shape = (int(np.prod(self.sizes)), 2 * (self.ramp + 1))  # configuration, workload
        self.values = np.zeros((*shape, len(self.COLUMNS)))
        self.known = np.zeros(shape, dtype=bool)

    def lookup(self, indices: np.ndarray, burst: np.ndarray, level: np.ndarray) -> np.ndarray:
        """The :data:`COLUMNS` of grid ``indices`` (one row each) under the workloads of
        ``burst`` and the ramp's ``level``."""
        flat = indices @ self.strides
        workloads = burst * (self.ramp + 1) + level
        missing = ~self.known[flat, workloads]
        if missing.any():
            width = self.known.shape[1]
            self._compute(*np.divmod(np.unique(flat[missing] * width + workloads[missing]), width))
        return self.values[flat, workloads]

    def _compute(self, numbers: np.ndarray, workloads: np.ndarray) -> None:
        """Fill the table's entries of configurations ``numbers`` under ``workloads``
        (distinct pairs), with the grid indices and workloads unpacked in bulk."""
        grids = np.stack(np.unravel_index(numbers, tuple(self.sizes)), axis=1).tolist()
        bursts, levels = np.divmod(workloads, self.ramp + 1)
        mixes = self.mixes.tolist()
        self.values[numbers, workloads] = [
            _columns(performance(self.model, self.config.config_at(grid), self.rates[b], mixes[m]))
            for grid, b, m in zip(grids, bursts.tolist(), levels.tolist())
        ]
        self.known[numbers, workloads] = True


_columns = operator.attrgetter(*PerformanceTable.COLUMNS)  # a Performance as a table row
