#!/bin/sh
# The tuning studies behind baselines/tuning/*.json, in the order they were run.
# Resumable: each `opsgym tune` continues its SQLite study (in $OUT) up to --trials
# finished trials, so rerunning this script after an interruption picks up where it
# stopped. Trials train on training seeds and are scored on validation seeds (500,000+),
# never on the evaluation seeds (1,000,000+) the benchmark reports.
#   usage: baselines/tuning/studies.sh [OUT]   (default OUT: runs/tune)
set -eu
OUT=${1:-runs/tune}
RECORDS=$(dirname "$0")
TRIALS=50

study() {  # env agent budget
    opsgym tune --env "$1" --agent "$2" --budget "$3" --trials "$TRIALS" \
        --seeds 0 --episodes 5 --evaluations 4 --out "$OUT" --records "$RECORDS"
}

# PPO and A2C on the ids with a native vector env, at 100,000 steps per trial
for agent in ppo a2c; do
    for name in ResourceAllocation-v0 IndexSelection-v0 Autoscaling-v0 LoadBalancing-v0 \
        ServiceRouting-v0 Routing-v1 ConfigTuning-v0 AnomalyDetection-v0; do
        study "opsgym/$name" "$agent" 100000
    done
done
# PPO and DQN on the ids stepped one env at a time, at 50,000 steps per trial
for agent in ppo dqn; do
    for name in Caching-v0 CachingPrefetch-v0; do
        study "opsgym/$name" "$agent" 50000
    done
done
