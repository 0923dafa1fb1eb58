#!/bin/sh
# The tuning studies behind baselines/tuning/*.json, in the order they are run.
# Resumable: each `opsgym tune` continues its SQLite study (in $OUT) up to --trials
# finished trials, so rerunning this script after an interruption picks up where it
# stopped. Trials train on training seeds and are scored on validation seeds (500,000+),
# never on the evaluation seeds (1,000,000+) the benchmark reports.
#   usage: baselines/tuning/studies.sh [OUT]   (default OUT: runs/tune)
set -eu
OUT=${1:-runs/tune}
RECORDS=$(dirname "$0")
TRIALS=50
NATIVE="ResourceAllocation-v0 IndexSelection-v0 Autoscaling-v0 LoadBalancing-v0
    ServiceRouting-v0 Routing-v1 ConfigTuning-v0 AnomalyDetection-v0"
STEPPED="Caching-v0 CachingPrefetch-v0"  # no native vector env: one env at a time

study() {  # env agent budget
    opsgym tune --env "opsgym/$1" --agent "$2" --budget "$3" --trials "$TRIALS" \
        --seeds 0 --episodes 5 --evaluations 4 --confirm 5 --out "$OUT" --records "$RECORDS" \
        || echo "studies.sh: the study of $2 on $1 failed; going on" >&2
}

# PPO first, on every id: 100,000 steps per trial where a native vector env batches
# the steps, 50,000 where the env is stepped one at a time, 20,000 on CDN (~900 steps/s)
for name in $NATIVE; do study "$name" ppo 100000; done
for name in $STEPPED; do study "$name" ppo 50000; done
study CDN-v0 ppo 20000
# the best hand-written learner of the quick run, UCB1: the best of ucb1, sw_ucb and
# q_learning on 8 of the 11 ids, and within 0.03 of sw_ucb on Caching and ResourceAllocation
for name in $NATIVE $STEPPED; do study "$name" ucb1 100000; done
study CDN-v0 ucb1 20000
# the second SB3 algorithm: A2C on the native ids and on CDN (where a DQN trial took
# 6 minutes, most of it gradient steps), DQN on the caching ids
for name in $NATIVE; do study "$name" a2c 100000; done
for name in $STEPPED; do study "$name" dqn 50000; done
study CDN-v0 a2c 20000
# the tabular Q-learner, only where it was the best hand-written learner of the quick run
study AnomalyDetection-v0 q_learning 100000
