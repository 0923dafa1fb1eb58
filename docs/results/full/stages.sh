#!/bin/sh
# The full benchmark's remaining stages, in the order they run (docs/results/full/README.md).
# Each stage is `opsgym benchmark` with the FULL preset and --resume: the trials already in
# OUT/trials.jsonl are skipped, so rerunning this script after an interruption picks up
# where it stopped, and a stage whose trials are all in returns at once. A stage only
# chooses which trials run first; the last runs everything the preset names.
#   usage: docs/results/full/stages.sh OUT ADDRESS   (ADDRESS: a Ray cluster's host:port)
# On a fresh clone, OUT starts from the committed trials:
#   mkdir -p OUT && cp docs/results/full/trials.jsonl OUT/
set -eu
[ $# -eq 2 ] || { echo "usage: $0 OUT ADDRESS" >&2; exit 2; }
OUT=$1
ADDRESS=$2

stage() {
    echo "stages.sh: $(date -u +%FT%TZ) opsgym benchmark $*"
    opsgym benchmark --out "$OUT" --resume --backend ray --address "$ADDRESS" "$@"
}

# the rule-started PPO forms on Caching at 1,000,000 steps (issue 25's last id)
stage --envs opsgym/Caching-v0 --policies ppo_warm ppo_residual --scenarios default
# DQN and its rule-started form on the caching ids, their tuned second SB3 algorithm
stage --envs opsgym/Caching-v0 opsgym/CachingPrefetch-v0 --policies dqn dqn_warm \
    --scenarios default
# every learner at the default configurations (A2C on CDN, the hand-written agents)
stage --scenarios default
# everything else: the reference policies and the scenario learners on every scenario
stage
