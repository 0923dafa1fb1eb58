"""What ``opsgym --help`` and ``opsgym COMMAND --help`` show besides the options.

Every option's default is shown unless it has none worth saying (None, False, an empty
list) or its help text already says it; every command ends with examples, which the
tests check against the parser and the documentation's command-line page shows.
"""

from __future__ import annotations

import argparse

EXAMPLES = {
    "opsgym": """
opsgym list
opsgym evaluate --env opsgym/LoadBalancing-v0 --policy least_connections oracle --episodes 20
opsgym train --env opsgym/LoadBalancing-v0 --agent ppo --timesteps 100000
opsgym benchmark --quick
""",
    "list": """
opsgym list
""",
    "evaluate": """
opsgym evaluate --env opsgym/LoadBalancing-v0 --policy least_connections oracle \\
    --episodes 20 --seed 0 --env-arg load=0.95 --env-arg mode=full
opsgym evaluate --env opsgym/CachingPrefetch-v0 --env-arg workload='"sequential"' --json
opsgym evaluate --model runs/opsgym-LoadBalancing-v0__ppo__seed0__* \\
    --policy random least_connections oracle --episodes 20
""",
    "train": """
opsgym train --env opsgym/LoadBalancing-v0 --agent ppo --timesteps 100000 --seed 0
opsgym train --env opsgym/LoadBalancing-v0 --agent ucb1 --env-arg mode=feedback \\
    --timesteps 20000
opsgym train --env opsgym/Autoscaling-v0 --agent bc --set teacher=hpa \\
    --set dagger_rounds=4 --timesteps 100000
""",
    "tune": """
opsgym tune --env opsgym/LoadBalancing-v0 --agent ppo --trials 50 --budget 200000
opsgym tune --env opsgym/LoadBalancing-v0 --agent ppo --trials 50 --budget 200000 \\
    --write-hyperparams
""",
    "imitate": """
opsgym imitate --timesteps 50000
opsgym imitate --envs opsgym/Autoscaling-v0 --timesteps 100000 --set dagger_rounds=4
""",
    "benchmark": """
opsgym benchmark --quick
opsgym benchmark --seeds 10 --budget 200000
opsgym benchmark --envs opsgym/Caching-v0 --scenarios default adversary-flood --seeds 3
opsgym benchmark --backend ray --address 10.0.0.5:6379
opsgym benchmark --quick --out results/quick --resume
""",
    "federated": """
opsgym federated --env opsgym/ServiceRouting-v0 --agent q_learning --nodes 4 --rounds 10
opsgym federated --env opsgym/LoadBalancing-v0 --agent ucb1 --nodes 4 --rounds 10 \\
    --dp-clip 3000 --dp-noise 1.0
opsgym federated --env opsgym/LoadBalancing-v0 --agent ucb1 --participation 0.25 --rounds 40
""",
    "plot": """
opsgym plot runs/opsgym-LoadBalancing-v0__ppo__* --out ppo.png
""",
    "throughput": """
opsgym throughput --env all --clock cpu
opsgym throughput --env opsgym/Routing-v1 --ppo-timesteps 0
opsgym throughput --oracles
opsgym throughput --training --clock cpu
""",
    "record": """
opsgym record --env opsgym/Caching-v0 --policy lru --out episode.gif
opsgym record --env opsgym/Autoscaling-v0 --policy hpa --out frame.png --steps 1100
""",
    "hyperparams": """
opsgym hyperparams ppo
opsgym hyperparams agents
""",
    "docs": """
opsgym docs
opsgym docs --check
opsgym docs --serve
""",
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option's help, and the examples epilog kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        nothing = action.default is None or action.default is False or action.default == []
        if nothing or "default" in help_text:
            return help_text
        return super()._get_help_string(action)


def examples(command: str) -> str | None:
    """The epilog of ``command`` (``"opsgym"`` for the top level); None if it has none
    (a test requires one of every command)."""
    if command not in EXAMPLES:
        return None
    lines = EXAMPLES[command].strip("\n").split("\n")
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
