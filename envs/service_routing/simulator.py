"""Requests that differ in kind, replicas that differ in what they serve fast.

No gymnasium here. A request has a type (read, write, search), a payload size (mean 1),
a client region and a priority. A replica serves a request of type j and size s in
``service_ms[j] * s`` milliseconds, first come first served, behind a network delay of
``local_delay_ms`` inside the client's region and ``remote_delay_ms`` across regions.
The queues are :class:`opsgym.envs.core.fcfs.FcfsServers`, so the response time of a
request is known when it is dispatched (Lindley's recursion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import request_streams
from opsgym.envs.core.drift import interpolate
from opsgym.envs.core.fcfs import FcfsQueues, FcfsServers

if TYPE_CHECKING:
    from opsgym.envs.service_routing.config import ServiceRoutingConfig

REQUEST_TYPES = ("read", "write", "search")

# Mean service time [ms] per request type (read, write, search) of each default replica:
# a warm read cache, a write-optimized primary, a search-index replica and a remote
# general-purpose one. Illustrative numbers of the order of a key-value read (a few ms)
# and a full-text query (tens of ms).
DEFAULT_SERVICE_MS = (
    (4.0, 30.0, 60.0),
    (20.0, 8.0, 50.0),
    (25.0, 35.0, 12.0),
    (10.0, 15.0, 30.0),
)
DEFAULT_REGIONS = (0, 0, 1, 2)


@dataclass(frozen=True)
class Requests:
    """Consecutive requests of an episode, as numpy arrays.

    Attributes:
        times: arrival times [s], increasing.
        types: index into :data:`REQUEST_TYPES`.
        sizes: payload sizes, mean 1 (a service time multiplier).
        regions: the client's region.
        priorities: 1 for high priority, else 0.
    """

    times: np.ndarray
    types: np.ndarray
    sizes: np.ndarray
    regions: np.ndarray
    priorities: np.ndarray

    def lists(self) -> tuple[list, list, list, list, list]:
        """The fields as plain lists (fast to index one at a time), in the order times,
        types, sizes, regions, priorities."""
        fields = (self.times, self.types, self.sizes, self.regions, self.priorities)
        return tuple(field.tolist() for field in fields)


class RequestSource:
    """What shapes an episode's requests; the type mix's distribution is built once, here.

    Poisson arrivals at ``rate`` [1/s] with i.i.d. types (in proportion to ``type_mix``),
    exponential sizes (mean 1), uniform client regions and Bernoulli priorities, drawn
    ``block`` requests at a time.
    """

    def __init__(
        self,
        length: int,
        rate: float,
        type_mix: tuple[float, ...],
        n_regions: int,
        priority_share: float,
        block: int,
    ) -> None:
        self.length, self.rate, self.block = length, rate, block
        self.cumulative_mix = request_streams.cumulative_weights(type_mix)
        self.n_regions, self.priority_share = n_regions, priority_share

    def episode(self, rng: np.random.Generator) -> RequestStream:
        """A new episode's requests, drawn from ``rng`` as they are reached."""
        return RequestStream(self, rng)


class RequestStream:
    """An episode's requests, drawn a block at a time from its generator as they are reached.

    Every request is independent of the others but for its arrival time, which continues
    the previous block's last one with the same sum, so the stream's law does not depend
    on the block size; blocks take their randomness from the generator in order, so the
    requests do not depend on when they are drawn.
    """

    def __init__(self, source: RequestSource, rng: np.random.Generator) -> None:
        self.source, self.rng = source, rng
        self.blocks: list[Requests] = []

    def block_of(self, k: int) -> Requests:
        """The block holding request ``k`` (requests ``k // block * block`` onwards)."""
        index = k // self.source.block
        while len(self.blocks) <= index:
            self.blocks.append(self._draw())
        return self.blocks[index]

    def all(self) -> Requests:
        """Every request of the episode (drawing the rest now)."""
        blocks, length = self.blocks, self.source.length
        if length:
            self.block_of(length - 1)
        fields = zip(*((b.times, b.types, b.sizes, b.regions, b.priorities) for b in blocks))
        return Requests(*(np.concatenate(field) for field in fields))

    def _draw(self) -> Requests:
        rng, source = self.rng, self.source
        count = min(source.block, source.length - len(self.blocks) * source.block)
        exponentials = rng.standard_exponential((2, count))
        uniforms = rng.random((3, count))
        times = exponentials[0] / source.rate
        if self.blocks:
            times[0] += self.blocks[-1].times[-1]  # then summed in the same order as before
        # the mix's last cumulative probability is exactly 1 and uniforms are below 1
        types = source.cumulative_mix.searchsorted(uniforms[0], side="right")
        return Requests(
            times.cumsum(out=times),
            types,
            exponentials[1],
            (uniforms[1] * source.n_regions).astype(int),
            (uniforms[2] < source.priority_share).astype(int),
        )


def capacity(service_ms, type_mix) -> float:
    """The fleet's throughput [requests/s] if every replica served the mix on its own."""
    total = sum(type_mix)
    return sum(
        1000.0 / sum(ms * share / total for ms, share in zip(profile, type_mix))
        for profile in service_ms
    )


class ServiceFleet:
    """Replicas with per-type service profiles in regions, in front of FCFS queues.

    Args:
        service_ms: per replica, the mean service time [ms] of each request type.
        regions: each replica's region.
        local_delay_ms, remote_delay_ms: the network delay inside and across regions.
        feedback_smoothing: the weight of the newest answer in each replica's recent
            latency.
    """

    def __init__(
        self,
        service_ms,
        regions,
        local_delay_ms: float,
        remote_delay_ms: float,
        feedback_smoothing: float,
    ) -> None:
        self.nominal_service_ms = tuple(tuple(p) for p in service_ms)
        self.regions = tuple(regions)
        self.local_delay_ms, self.remote_delay_ms = local_delay_ms, remote_delay_ms
        n = len(self.regions)
        self.queues = FcfsServers(n, feedback_smoothing)
        self.reset()

    def reset(self) -> None:
        """Empty every queue and restore the nominal profiles."""
        self.service_ms = [list(p) for p in self.nominal_service_ms]
        self.queues.reset()

    def network_ms(self, replica: int, region: int) -> float:
        """The network delay [ms] between a client in ``region`` and ``replica``."""
        return self.local_delay_ms if self.regions[replica] == region else self.remote_delay_ms

    def expected_latency_ms(self, replica: int, kind: int, size: float, region: int) -> float:
        """The latency [ms] a request would see at ``replica`` now (exact under FCFS)."""
        queues = self.queues
        wait = max(0.0, queues.busy_until[replica] - queues.now)
        return (
            1000.0 * wait + self.service_ms[replica][kind] * size + self.network_ms(replica, region)
        )

    def dispatch(self, replica: int, kind: int, size: float, region: int) -> float:
        """Send a request to ``replica`` now; returns its latency [ms]."""
        service_s = self.service_ms[replica][kind] * size / 1000.0
        response_s = self.queues.serve(replica, service_s, False)
        return 1000.0 * response_s + self.network_ms(replica, region)


class ServiceFleets(FcfsQueues):
    """:class:`ServiceFleet` for many instances at once, in numpy arrays (for vector
    envs): ``service_ms`` holds each instance's current profiles.

    Args:
        instances: the number of instances.
        config: the env's configuration (profiles, regions, delays, smoothing).
    """

    def __init__(self, instances: int, config: ServiceRoutingConfig) -> None:
        super().__init__(instances, config.n_replicas, config.feedback_smoothing)
        self.nominal_service_ms = np.array(config.service_ms, dtype=np.float64)
        self.service_ms = np.zeros((instances, *self.nominal_service_ms.shape))
        self.regions = np.array(config.regions)
        self.delays_ms = (config.remote_delay_ms, config.local_delay_ms)

    def reset(self, rows: np.ndarray, now: np.ndarray | float = 0.0) -> None:
        """Empty the queues of ``rows``, restore their nominal profiles and set their
        clocks to ``now``."""
        super().reset(rows, now)
        self.service_ms[rows] = self.nominal_service_ms

    def send(self, rows: np.ndarray, replicas, kinds, sizes, regions) -> np.ndarray:
        """:meth:`ServiceFleet.dispatch` of one request in each of ``rows``; returns
        their latencies [ms]."""
        service_s = self.service_ms[rows, replicas, kinds] * sizes / 1000.0
        response_s = self.dispatch(rows, replicas, service_s, np.zeros(rows.size))
        remote, local = self.delays_ms
        return 1000.0 * response_s + np.where(self.regions[replicas] == regions, local, remote)


# The stages around the queues, written once: functions of one request's scalars or of
# arrays over instances alike (the observations are assembled by each driver: from lists
# one at a time, where numpy costs more than the step, from arrays for many).


def swapped_profiles(
    config: ServiceRoutingConfig, pair: tuple[int, int], fraction: float
) -> tuple[list[float], list[float]]:
    """The service profiles of the swapping ``pair`` of replicas ``fraction`` of the way
    along the swap."""
    a, b = config.service_ms[pair[0]], config.service_ms[pair[1]]
    return [interpolate(x, y, fraction) for x, y in zip(a, b)], [
        interpolate(y, x, fraction) for x, y in zip(a, b)
    ]


def swapping(config: ServiceRoutingConfig, k, drift_step):
    """Whether request ``k`` arrives during the swap (or its ramp) that starts at request
    ``drift_step`` (-1 for none)."""
    return (drift_step >= 0) & (drift_step <= k) & (k < drift_step + max(config.drift_ramp, 1))


def step_rewards(config: ServiceRoutingConfig, latency_ms, timed_out, priority):
    """The reward of served requests and its components, from their latencies [ms],
    whether they timed out and their priorities."""
    rewards = {"latency": -latency_ms / 1000.0, "timeout": 0.0 - timed_out}
    reward = (1.0 + config.priority_weight * priority) * (
        config.latency_weight * rewards["latency"] + config.timeout_weight * rewards["timeout"]
    )
    return reward, rewards


def episode_metrics(
    latencies: np.ndarray, timeouts: np.ndarray, priorities: np.ndarray
) -> dict[str, np.ndarray]:
    """Latency [ms] statistics and the timeout rate of requests (along the last axis)."""
    p95, p99 = np.percentile(latencies, [95, 99], axis=-1)
    rows = zip(
        latencies.reshape(-1, latencies.shape[-1]), priorities.reshape(-1, latencies.shape[-1])
    )
    high = [row[high].mean() if high.any() else 0.0 for row, high in rows]
    return {
        "mean_latency_ms": latencies.mean(axis=-1),
        "p95_latency_ms": p95,
        "p99_latency_ms": p99,
        "high_priority_latency_ms": np.reshape(high, latencies.shape[:-1]),
        "timeout_rate": timeouts.mean(axis=-1),
    }
