#!/bin/sh
# opsgym's quick start. Each command creates ./.venv and installs what it needs first.
#   ./dev.sh benchmark [ARGS]  the quick benchmark: every policy on every environment
#   ./dev.sh evaluate [ARGS]   evaluate the load balancer's heuristics and its oracle
#   ./dev.sh test [ARGS]       run the test suite (ARGS go to pytest)
#   ./dev.sh docs [ARGS]       build the documentation strictly into site/ (ARGS go to
#                              opsgym docs: --check loads every page in Chromium, --serve)
#   ./dev.sh setup             only create the environment (with everything the tests need)
set -eu
cd "$(dirname "$0")"
venv="${OPSGYM_VENV:-.venv}"
python="$venv/bin/python"

# Install opsgym with the extras $1 into the venv, once per set of extras and again when
# pyproject.toml changes; the dev extras hold every other, so after them nothing is added.
setup() {
    [ -x "$python" ] || python3 -m venv "$venv"
    for extras in "$1" dev; do
        stamp="$venv/.opsgym-installed-$extras"
        if [ -f "$stamp" ] && ! [ pyproject.toml -nt "$stamp" ]; then
            return 0
        fi
    done
    "$python" -m pip install --quiet --upgrade pip
    # The CPU build of torch first: an unpinned torch pulls a CUDA build of several GB.
    if ! "$python" -c "import torch" 2>/dev/null; then
        "$python" -m pip install --quiet "torch==2.13.0" ||
            "$python" -m pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
    fi
    "$python" -m pip install --quiet -e ".[$1]"
    touch "$venv/.opsgym-installed-$1"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    benchmark)
        # the figures (matplotlib) and the isolation-forest rules (scikit-learn)
        setup plot,ml
        exec "$venv/bin/opsgym" benchmark --quick --out "results/quick-$(date -u +%Y%m%d-%H%M%S)" "$@"
        ;;
    evaluate)
        setup plot,ml
        exec "$venv/bin/opsgym" evaluate --env opsgym/LoadBalancing-v0 --episodes 20 "$@"
        ;;
    test)
        setup dev
        exec "$python" -m pytest -n 2 "$@"
        ;;
    docs)
        setup dev
        exec "$venv/bin/opsgym" docs "$@"
        ;;
    setup)
        setup dev
        ;;
    *)
        echo "usage: ./dev.sh benchmark|evaluate|test|docs|setup [ARGS]" >&2
        exit 2
        ;;
esac
