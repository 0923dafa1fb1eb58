"""Federated averaging of the hand-written learners, with optional differential privacy.

A learner that can federate (:class:`Federable`) exports what it has learned as named
arrays (:meth:`~Federable.shared_state`) and imports them back. A server combines the
states that nodes return after a round of local learning, all started from the same
global state, in one of two ways chosen per array by :meth:`~Federable.weight_key`:

- *pooled* (no weight key): the global array plus the sum of the nodes' changes. For
  sufficient statistics (a bandit's pull counts and reward sums, LinUCB's ``A`` and
  ``b``, visit counts) this is exact: the result is what one learner that saw every
  node's stream would hold.
- *averaged* (a weight key names a count array of the same state): the global array
  plus the nodes' changes averaged with weights equal to each node's change of that
  count, entry by entry (a Q-table weighted by visits) or as a whole (parameters
  weighted by steps): federated averaging (McMahan et al., "Communication-efficient
  learning of deep networks from decentralized data", AISTATS 2017).

An array a node does not hold counts as zeros, so sparse tables federate by the union
of their keys.

With :class:`PrivacySettings` the combination is DP-FedAvg (McMahan, Ramage, Talwar and
Zhang, "Learning differentially private recurrent language models", ICLR 2018): each
node's change is clipped to L2 norm ``clip`` (over all its arrays together), Gaussian
noise of standard deviation ``noise * clip`` is added to the sum, and averaged arrays
divide by the number of participants (not by data-dependent weights, which would leak).
:func:`privacy_epsilon` accounts the guarantee with Rényi differential privacy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

State = dict[str, np.ndarray]


@runtime_checkable
class Federable(Protocol):
    """A learner whose knowledge can be exported, combined and imported."""

    def shared_state(self) -> State:
        """What the learner has learned, as named arrays (copies)."""
        ...

    def load_shared_state(self, state: State) -> None:
        """Replace what the learner has learned by ``state``."""
        ...

    def weight_key(self, key: str) -> str | None:
        """The count array that weights ``key`` when averaging, or None to pool it."""
        ...


@dataclass(frozen=True)
class PrivacySettings:
    """DP-FedAvg's parameters.

    Args:
        clip: the L2 bound C on each node's change per round.
        noise: the noise multiplier z: the sum gets Gaussian noise of std z * C.
    """

    clip: float
    noise: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise ValueError(f"dp clip must be > 0, got {self.clip!r}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"dp noise must be >= 0, got {self.noise!r}")


def clip_update(update: State, bound: float) -> State:
    """``update`` scaled down (if needed) so that its L2 norm over all arrays is <= bound."""
    norm = math.sqrt(sum(float(np.sum(np.square(a))) for a in update.values()))
    scale = min(1.0, bound / norm) if norm > 0 else 1.0
    return {key: array * scale for key, array in update.items()}


def federated_average(
    global_state: State,
    node_states: Sequence[State],
    weight_key,
    privacy: PrivacySettings | None = None,
    rng: np.random.Generator | None = None,
) -> State:
    """Combine the states nodes returned after starting from ``global_state``.

    Args:
        global_state: the state every node started the round from.
        node_states: the nodes' states after the round, in a fixed order.
        weight_key: maps an array's name to the count array weighting it, or to None to
            pool it (a :class:`Federable`'s ``weight_key``).
        privacy: clip and noise the changes (DP-FedAvg) when given.
        rng: the generator of the privacy noise (required with ``privacy``).
    """
    if not node_states:
        raise ValueError("federated_average needs at least one node state")
    shapes: dict[str, tuple] = {}
    for state in (global_state, *node_states):
        for key, array in state.items():
            if shapes.setdefault(key, np.shape(array)) != np.shape(array):
                raise ValueError(f"shared array {key!r} has shapes {shapes[key]} and {array.shape}")
    base = {key: np.asarray(global_state.get(key, np.zeros(shapes[key])), float) for key in shapes}
    updates = [
        {key: np.asarray(s.get(key, base[key]), float) - base[key] for key in base}
        for s in node_states
    ]
    counts_changed = updates  # the weights are the unclipped changes of the counts
    noise: State = {key: np.zeros(shapes[key]) for key in base}
    if privacy is not None:
        if rng is None:
            raise ValueError("differential privacy needs a random generator for its noise")
        for state in node_states:
            if set(state) != set(global_state):
                raise ValueError(
                    "differential privacy needs a fixed set of shared arrays, but a node "
                    "shared arrays the global state lacks (a sparse table's visited states)"
                )
        updates = [clip_update(u, privacy.clip) for u in updates]
        std = privacy.noise * privacy.clip
        noise = {key: rng.normal(0.0, std, shapes[key]) for key in sorted(base)}
    combined: State = {}
    for key in base:
        total = sum(u[key] for u in updates) + noise[key]
        weight = weight_key(key)
        if weight is None:
            combined[key] = base[key] + total
        elif privacy is not None:
            combined[key] = base[key] + total / len(updates)
        else:
            weights = [np.broadcast_to(c[weight], shapes[key]) for c in counts_changed]
            weighted = sum(w * u[key] for w, u in zip(weights, updates))
            mass = sum(weights)
            safe = np.where(mass > 0, mass, 1.0)
            combined[key] = base[key] + np.where(mass > 0, weighted / safe, 0.0)
    return combined


def privacy_epsilon(noise: float, rounds: int, delta: float) -> float:
    """The epsilon of ``rounds`` Gaussian mechanisms of noise multiplier ``noise`` at
    ``delta``, by Rényi differential privacy (Mironov, "Rényi differential privacy", CSF
    2017): each round is (alpha, alpha / (2 z^2))-RDP, R rounds compose to
    R alpha / (2 z^2), and (alpha, r)-RDP implies (r + ln(1/delta) / (alpha - 1), delta)-DP
    (Proposition 3). The minimum over alpha > 1 of a alpha + L / (alpha - 1) is
    a + 2 sqrt(a L), at alpha = 1 + sqrt(L / a). No amplification by sampling nodes is
    claimed, so the bound also holds with partial participation.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds!r}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    if noise <= 0:
        return math.inf
    a = rounds / (2.0 * noise**2)
    log_term = math.log(1.0 / delta)
    return a + 2.0 * math.sqrt(a * log_term)
