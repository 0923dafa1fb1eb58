"""The pre-positioning rules a CDN operator runs, acting on CDN observations.

Each interval every rule pushes the allowed (candidate, edge) pair it ranks highest, or
nothing if none is allowed (allowed: the env's action mask; without one, a candidate
the edge lacks, by the observation's ``cached`` flags). Pushing one object per interval,
a top-k rule pre-positions its k best candidates over k intervals. The rules differ in
the ranking:

- ``lru_pull``: never push; the edges cache what they can on misses (a pull CDN);
- ``global_top_k``: the candidate most requested across all edges (candidates come
  ranked so), to the edge where it is requested most;
- ``regional_top_k``: the candidate with the largest share of one edge's requests, to
  that edge: each region's own top objects;
- ``trend``: the candidate whose request rate grew most, to the edge where it is
  requested most: viral content before it peaks.

The privileged reference, ``oracle``, is :class:`opsgym.envs.cdn.LookaheadOracle`: it
reads the next 15 minutes' requests (a heuristic ceiling, not a bound; the bound is
:func:`opsgym.envs.cdn.reward_bound`).
"""

from __future__ import annotations

import numpy as np

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.envs.cdn import CDNEnv, LookaheadOracle
from opsgym.envs.core import validation


class _Rule:
    """Reads the observation layout; ``act`` pushes the allowed (candidate, edge) pair
    with the highest score, or nothing."""

    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, CDNEnv, type(self).__name__)
        self.fields = unwrapped.observation_fields()
        self.k, self.n_edges = unwrapped.n_candidates, unwrapped.n_edges
        self.no_push = self.k * self.n_edges

    def act(self, observation, action_mask=None) -> int:
        fields = self.fields
        share = observation[fields["share"]].reshape(self.k, self.n_edges)
        if action_mask is None:
            present = observation[fields["size"]] > 0
            allowed = observation[fields["cached"]].reshape(self.k, self.n_edges) == 0
            allowed &= present[:, None]
        else:
            allowed = np.asarray(action_mask[: self.no_push], dtype=bool).reshape(self.k, -1)
        primary, secondary = (
            np.broadcast_to(key, allowed.shape) for key in self.keys(observation, share)
        )
        order = np.lexsort((-secondary.ravel(), -primary.ravel()))  # stable: rank, then edge
        allowed = (allowed & np.isfinite(primary)).ravel()
        return next((int(i) for i in order if allowed[i]), self.no_push)

    def keys(self, observation, share: np.ndarray) -> tuple:
        """The (candidate, edge) pairs' priority: a primary and a tie-breaking key, each
        of shape (K, E), (K, 1) or a scalar; the highest allowed pair is pushed."""
        raise NotImplementedError


class NoPush(_Rule):
    """Never push: the edges fill themselves on misses."""

    def act(self, observation, action_mask=None) -> int:
        return self.no_push


class GlobalTopK(_Rule):
    """The most requested candidate overall, to the edge where it is requested most."""

    def keys(self, observation, share):
        return -np.arange(self.k)[:, None], share


class RegionalTopK(_Rule):
    """The candidate with the largest share of one edge's requests, to that edge."""

    def keys(self, observation, share):
        return share, 0.0


class TrendFollowing(_Rule):
    """The candidate whose request rate grew most, if it grows, to the edge where it is
    requested most.

    Growth is measured in requests, not as a ratio (a ratio favours objects that go from
    one request to two): with g = now / (now + before) from the observation, the rate
    ``now`` minus ``before`` is ``now * (2g - 1) / g``, with ``now`` approximated by the
    candidate's summed shares of the edges' requests.
    """

    def keys(self, observation, share):
        growth = np.maximum(observation[self.fields["growth"]], 1e-9)
        rise = share.sum(axis=1) * (2.0 * growth - 1.0) / growth
        return np.where(rise > 0.0, rise, -np.inf)[:, None], share


POLICIES = {
    "random": RandomPolicy,
    "lru_pull": NoPush,
    "global_top_k": GlobalTopK,
    "regional_top_k": RegionalTopK,
    "trend": TrendFollowing,
    "oracle": seedless(LookaheadOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "regional_top_k"
