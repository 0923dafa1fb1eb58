"""Hit ratios and speed of the exact cache simulators on a trace.

    python -m opsgym.train.cache_benchmark                      # Web07, a few cache sizes
    python -m opsgym.train.cache_benchmark --trace my.csv --capacity 1000 10000

Speed is given as requests per second and, because this machine's speed drifts, as a
ratio to the cheapest cache a Python loop can simulate, measured in the same run: an
unbounded cache (a set membership test and insert per request). A ratio of 0.25 means
the policy replays a trace at a quarter of that speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np

from opsgym.envs.core import exact_caches as exact
from opsgym.envs.core.traces import FORMATS, Trace, read_trace, web07
from opsgym.train.table import markdown_table


def unbounded_cache(ids: Sequence) -> int:
    """The hits of a cache that never evicts: the reference loop of the speed ratios."""
    seen: set = set()
    hits = 0
    for x in ids:
        if x in seen:
            hits += 1
        else:
            seen.add(x)
    return hits


def requests_per_second(run, args: tuple, requests: int, rounds: int) -> float:
    """The median over ``rounds`` of ``requests`` divided by the time ``run(*args)`` takes."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        run(*args)
        rates.append(requests / (time.perf_counter() - start))
    return statistics.median(rates)


def hit_ratio_table(trace: Trace, capacities: Sequence[int], policies: Sequence[str]) -> str:
    """A Markdown table of each policy's hit ratio (and byte hit ratio with sizes)."""
    rows = []
    for capacity in capacities:
        cells = [f"{capacity:,}"]
        for policy in policies:
            stats = exact.simulate(policy, trace.ids, capacity, trace.sizes)
            cell = f"{stats.hit_ratio:.4f}"
            if trace.sizes is not None:
                cell += f" ({stats.byte_hit_ratio:.4f})"
            cells.append(cell)
        rows.append(cells)
    return markdown_table(["capacity", *policies], rows)


def speed_table(trace: Trace, capacity: int, policies: Sequence[str], rounds: int) -> str:
    """A Markdown table of each policy's requests per second and ratio to the reference."""
    ids = trace.ids.tolist()
    sizes = None if trace.sizes is None else trace.sizes.tolist()
    n = len(ids)
    rows = []
    for policy in policies:
        # interleave the reference with each policy so both see the same machine state
        reference = requests_per_second(unbounded_cache, (ids,), n, rounds)
        rate = requests_per_second(exact.simulate, (policy, ids, capacity, sizes), n, rounds)
        rows.append([policy, f"{rate:,.0f}", f"{reference:,.0f}", f"{rate / reference:.2f}"])
    return markdown_table(["policy", "requests/s", "unbounded-cache loop/s", "ratio"], rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m opsgym.train.cache_benchmark", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--trace", default="web07", help="'web07' (shipped) or a trace file")
    parser.add_argument(
        "--format", default=None, choices=FORMATS, help="trace format (default: from the name)"
    )
    parser.add_argument(
        "--capacity",
        type=int,
        nargs="+",
        default=[100, 500, 2000, 5000],
        help="cache sizes [bytes; objects for traces without sizes]",
    )
    parser.add_argument(
        "--policy", nargs="+", default=list(exact.POLICIES), choices=list(exact.POLICIES)
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per policy")
    parser.add_argument(
        "--repeat", type=int, default=1, help="replay the trace this many times back to back"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if min(args.capacity) < 1 or args.rounds < 1 or args.repeat < 1:
        print("capacity, rounds and repeat must be >= 1", file=sys.stderr)
        return 2
    trace = web07() if args.trace == "web07" else read_trace(args.trace, args.format)
    if args.repeat > 1:
        sizes = None if trace.sizes is None else np.tile(trace.sizes, args.repeat)
        trace = Trace(np.tile(trace.ids, args.repeat), sizes)
    policies = args.policy
    if trace.sizes is not None:
        policies = [p for p in policies if p in exact.SIZED_POLICIES]
    distinct = len(set(trace.ids.tolist()))
    print(f"{args.trace}: {len(trace):,} requests, {distinct:,} distinct objects\n")
    print("hit ratio" + (" (byte hit ratio)" if trace.sizes is not None else ""))
    print(hit_ratio_table(trace, args.capacity, policies))
    capacity = args.capacity[len(args.capacity) // 2]
    print(f"\nspeed at capacity {capacity:,}, median of {args.rounds} rounds")
    print(speed_table(trace, capacity, policies, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
