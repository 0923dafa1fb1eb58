"""The names of the learners that start from the rule, and what each name expands to.

``<algo>_warm`` and ``<algo>_residual`` for every SB3 algorithm
(:mod:`opsgym.train.warm_start`), ``<agent>_warm`` for the hand-written agents of
:data:`AGENTS_FROM_RULE` (:mod:`opsgym.train.agent_warm_start`). Light to import: the
command line's help lists them.
"""

from __future__ import annotations

# learner name suffix -> the --set keys that make a learner start from the rule
FORMS = {"warm": {"init_from": "default"}, "residual": {"residual": "default"}}
# hand-written agents that start from the rule's play, as ``<agent>_warm``: a Q-table,
# and the bandits that keep estimates to seed
AGENTS_FROM_RULE = ("epsilon_greedy", "ucb1", "sw_ucb", "thompson_beta", "linucb", "q_learning")


def sb3_rule_started_names() -> list[str]:
    """The SB3 learners that start from the rule: ``ppo_warm``, ``dqn_residual``..."""
    from opsgym.baselines import sb3

    return [f"{algo}_{form}" for algo in sb3.algorithm_names() for form in FORMS]


def agent_rule_started_names() -> list[str]:
    """The hand-written learners that start from the rule: ``ucb1_warm``, ``q_learning_warm``..."""
    return [f"{agent}_warm" for agent in AGENTS_FROM_RULE]


def rule_started_names() -> list[str]:
    """Every learner name that starts from the rule (the benchmark's names)."""
    return sb3_rule_started_names() + agent_rule_started_names()


def expand(name: str) -> tuple[str, dict]:
    """The learner a rule-started learner's name starts from, and its ``--set`` keys."""
    algo, _, form = name.rpartition("_")
    if name not in rule_started_names():
        raise ValueError(
            f"unknown rule-started learner {name!r}; choose from {rule_started_names()}"
        )
    return algo, dict(FORMS[form])
