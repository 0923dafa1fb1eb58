"""What the edges of CDN-v0 are asked for: regional popularity, daily cycles, viral objects
and flash crowds.

Objects: the catalogue (ids ``0 .. catalog_size - 1``, by global popularity rank) and,
after it, the episode's event objects (viral objects, then each flash crowd's hot set),
which exist only from their event on. Sizes are lognormal: a catalogue object's median is
``size_median_kb`` (sigma ``size_sigma``), an event object's ``viral_size_mb`` (sigma
0.5: video clips of similar lengths).

Per edge and interval:

- the request count is Poisson with mean ``peak * profile(local time) * (1 + flash)``:
  the daily cycle of :mod:`opsgym.envs.core.seasonal` (low at 04:00, high at 16:00 local
  time, no business hours or weekends) at the edge's UTC offset, plus the flash crowds;
- each request is for a viral object with its current share, for a flash crowd's hot
  object with the crowd's share, else for a catalogue object drawn from the edge's
  popularity: ``(1 - regional_share) * global + regional_share * regional``, where the
  regional ranking applies the global rank-frequency to a random permutation of the
  catalogue drawn per region and episode (tastes that differ by region);
- the rank-frequency is the shipped Web07 trace's (its ``catalog_size`` most requested
  objects; ``popularity="web07"``) or Zipf's (``"zipf"``).

A viral object is born in one region (viral births are a Poisson process); its share of
that region's requests rises and decays with the shape of an Autoscaling flash crowd
stretched to ``viral_lifetime_minutes`` (a linear rise over a sixth of the lifetime,
then an exponential decay with the lifetime as time constant), peaking at
``viral_share``. Every other region follows after a delay drawn uniformly in [0.5, 1.5]
times ``spread_delay_minutes``, at an intensity drawn uniformly in [0.25, 1]. The viral
shares of one edge are scaled down together if they would exceed one half.

A flash crowd (a Poisson process too) strikes every edge at once: extra requests,
``flash_crowd_size`` times the edge's rate at the crowd's peak, with the shape of
:func:`opsgym.envs.core.seasonal.flash_crowd_shapes` (5-minute rise, 30-minute decay),
shared equally by ``flash_crowd_objects`` new objects.

The requests of one interval, all edges interleaved in a random order, are drawn when the
simulation first reaches the interval, from a generator of their own: the future can be
drawn ahead (for the bound of :mod:`opsgym.envs.cdn.oracle`) without changing it.
"""

from __future__ import annotations

import functools

import numpy as np

from opsgym.envs.cdn.config import CDNConfig
from opsgym.envs.core import seasonal
from opsgym.envs.core.traces import web07

VIRAL_SHARE_CAP = 0.5  # the viral objects of one edge never take more of its requests
SPREAD_DELAY_RANGE = (0.5, 1.5)  # a region's delay, as a multiple of spread_delay_minutes
SPREAD_INTENSITY_RANGE = (0.25, 1.0)  # a region's peak share, as a multiple of viral_share
EVENT_SIZE_SIGMA = 0.5  # sigma of the log of event object sizes: clips of a similar length


@functools.cache
def web07_rank_frequency() -> np.ndarray:
    """Request counts of the Web07 trace's objects, most requested first (read once)."""
    _, counts = np.unique(web07().ids, return_counts=True)
    counts = np.sort(counts)[::-1].astype(np.float64)
    counts.flags.writeable = False
    return counts


def rank_frequency(config: CDNConfig) -> np.ndarray:
    """The global popularity of the catalogue, by rank: probabilities summing to 1."""
    if config.popularity == "web07":
        weights = web07_rank_frequency()[: config.catalog_size]
    else:
        weights = np.arange(1, config.catalog_size + 1, dtype=np.float64) ** -config.zipf_exponent
    return weights / weights.sum()


def burst_shape(since_seconds: np.ndarray, lifetime_seconds: float) -> np.ndarray:
    """A flash crowd's shape (peak 1) stretched so its decay time constant is ``lifetime``."""
    stretch = seasonal.FLASH_CROWD_DECAY / lifetime_seconds
    return seasonal.flash_crowd_shapes(since_seconds * stretch)


def poisson_times(rng: np.random.Generator, per_hour: float, seconds: float) -> np.ndarray:
    """The sorted times [s] of a Poisson process of ``per_hour`` events over ``seconds``."""
    return np.sort(rng.uniform(0.0, seconds, rng.poisson(per_hour * seconds / 3600.0)))


def regional_popularity(config: CDNConfig, rng: np.random.Generator) -> np.ndarray:
    """Each edge's popularity of the catalogue, shape (edges, catalogue): the global
    rank-frequency mixed with the same rank-frequency over a permutation of its own."""
    global_p = rank_frequency(config)
    popularity = np.empty((config.n_edges, config.catalog_size))
    for e in range(config.n_edges):
        regional = np.empty_like(global_p)
        regional[rng.permutation(config.catalog_size)] = global_p
        popularity[e] = (1.0 - config.regional_share) * global_p + config.regional_share * regional
    return popularity


def viral_shares(
    config: CDNConfig, rng: np.random.Generator, seconds: float, middle: np.ndarray
) -> np.ndarray:
    """The share of each edge's requests each of the episode's viral objects takes in
    each interval, shape (viral objects, edges, intervals); ``middle`` holds the
    intervals' midpoints [s]."""
    births = poisson_times(rng, config.viral_per_hour, seconds)
    n, n_edges = len(births), config.n_edges
    first = rng.integers(0, n_edges, n)
    delays = rng.uniform(*SPREAD_DELAY_RANGE, (n, n_edges)) * config.spread_delay_minutes * 60.0
    intensity = rng.uniform(*SPREAD_INTENSITY_RANGE, (n, n_edges))
    delays[np.arange(n), first] = 0.0
    intensity[np.arange(n), first] = 1.0
    since = middle[None, None, :] - births[:, None, None] - delays[:, :, None]
    shares = config.viral_share * intensity[:, :, None]
    shares = shares * burst_shape(since, config.viral_lifetime_minutes * 60.0)
    total = shares.sum(axis=0)
    return shares * np.where(
        total > VIRAL_SHARE_CAP, VIRAL_SHARE_CAP / np.maximum(total, 1e-300), 1.0
    )


class Workload:
    """One episode's requests, drawn interval by interval from the episode's generator.

    Args:
        config: the environment's arguments.
        rng: the episode's generator; the workload draws its schedule from it, then keeps
            a generator of its own for the requests.
    """

    def __init__(self, config: CDNConfig, rng: np.random.Generator) -> None:
        self.config = config
        middle = (np.arange(config.episode_length) + 0.5) * config.interval_seconds  # [s]
        self.start_seconds = float(rng.integers(0, 24 * 60)) * 60.0  # UTC time of day
        self.popularity = regional_popularity(config, rng)
        self._cdf = np.cumsum(self.popularity, axis=1)
        self._cdf[:, -1] = 1.0
        viral = viral_shares(config, rng, config.episode_length * config.interval_seconds, middle)
        crowd = self._flash_crowds(rng, middle)
        hot = np.repeat(crowd / config.flash_crowd_objects, config.flash_crowd_objects, axis=0)
        n = config.catalog_size
        self._event_ids = np.arange(n, n + len(viral) + len(hot))
        self.n_objects = n + len(self._event_ids)
        self.sizes = self._sizes(rng, len(self._event_ids))
        surge = 1.0 + crowd.sum(axis=0)
        self.mean_requests = self._mean_requests(middle, surge)  # (edge, interval)
        events = np.concatenate(
            [viral, np.broadcast_to(hot[:, None, :], (len(hot), *viral.shape[1:]))]
        )
        # (interval, edge, event): each event object's share of the interval's requests
        self.event_shares = np.ascontiguousarray((events / surge).transpose(2, 1, 0))
        self._rng = np.random.default_rng(rng.integers(2**63))
        self._drawn: list[tuple[np.ndarray, np.ndarray]] = []

    def _flash_crowds(self, rng: np.random.Generator, middle: np.ndarray) -> np.ndarray:
        """Each crowd's extra requests per interval, as a multiple of an edge's rate."""
        config = self.config
        seconds = config.episode_length * config.interval_seconds
        self.crowd_starts = poisson_times(rng, config.flash_crowds_per_day / 24.0, seconds)
        return config.flash_crowd_size * seasonal.flash_crowd_shapes(
            middle[None, :] - self.crowd_starts[:, None]
        )

    def _sizes(self, rng: np.random.Generator, events: int) -> np.ndarray:
        """Every object's size [bytes]: the catalogue's, then the event objects'."""
        config = self.config
        sizes_kb = np.concatenate(
            [
                config.size_median_kb * rng.lognormal(0.0, config.size_sigma, config.catalog_size),
                config.viral_size_mb * 1e3 * rng.lognormal(0.0, EVENT_SIZE_SIGMA, events),
            ]
        )
        return np.maximum(np.rint(sizes_kb * 1e3), 1).astype(np.int64)

    def _mean_requests(self, middle: np.ndarray, surge: np.ndarray) -> np.ndarray:
        """Each edge's mean requests per interval: its peak rate on its local daily cycle."""
        config = self.config
        offsets = np.array(config.utc_offsets)[:, None] * 3600
        local = self.start_seconds + middle[None, :] + offsets
        cycle = seasonal.SeasonalShape(config.daily_trough, 0.0, 0.0, 1.0)  # no weekly shape
        rates = np.array(config.peak_rps)[:, None] * config.interval_seconds
        return rates * seasonal.weekly_profile(cycle, local) * surge

    def local_hours(self, t: int) -> np.ndarray:
        """Each edge's local time of day [hours] at the start of interval ``t``."""
        utc = self.start_seconds + t * self.config.interval_seconds
        return ((utc + np.array(self.config.utc_offsets) * 3600.0) % 86_400.0) / 3600.0

    def requests(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The edge and object of each request of interval ``t``, in arrival order."""
        while len(self._drawn) <= t:
            self._drawn.append(self._draw(len(self._drawn)))
        return self._drawn[t]

    def _draw(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self._rng
        counts = rng.poisson(self.mean_requests[:, t])
        edges, objects = [], []
        for e, n in enumerate(counts.tolist()):
            shares = self.event_shares[t, e]
            mix = rng.multinomial(n, np.append(shares, max(0.0, 1.0 - shares.sum())))
            catalogue = np.searchsorted(self._cdf[e], rng.random(mix[-1]), side="right")
            objects.append(np.concatenate([np.repeat(self._event_ids, mix[:-1]), catalogue]))
            edges.append(np.full(n, e))
        order = rng.permutation(int(counts.sum()))
        return np.concatenate(edges)[order], np.concatenate(objects)[order]
