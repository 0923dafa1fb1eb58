#!/bin/sh
# opsgym's quick start. Each command creates ./.venv and installs what it needs first.
#   ./dev.sh benchmark [ARGS]  the quick benchmark: every policy on every environment
#   ./dev.sh evaluate [ARGS]   evaluate the load balancer's heuristics and its oracle
#   ./dev.sh test [ARGS]       run the test suite (ARGS go to pytest)
#   ./dev.sh docs [ARGS]       build the documentation strictly into site/ (ARGS go to
#                              opsgym docs: --check loads every page in Chromium, --serve)
#   ./dev.sh setup             only create the environment
set -eu
cd "$(dirname "$0")"
venv="${OPSGYM_VENV:-.venv}"
python="$venv/bin/python"

setup() {
    [ -x "$python" ] || python3 -m venv "$venv"
    stamp="$venv/.opsgym-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$python" -m pip install --quiet --upgrade pip
        # The CPU build of torch first: an unpinned torch pulls a CUDA build of several GB.
        if ! "$python" -c "import torch" 2>/dev/null; then
            "$python" -m pip install --quiet "torch==2.13.0" ||
                "$python" -m pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
        fi
        "$python" -m pip install --quiet -e ".[dev]"
        touch "$stamp"
    fi
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    benchmark)
        setup
        exec "$venv/bin/opsgym" benchmark --quick --out "results/quick-$(date -u +%Y%m%d-%H%M%S)" "$@"
        ;;
    evaluate)
        setup
        exec "$venv/bin/opsgym" evaluate --env opsgym/LoadBalancing-v0 --episodes 20 "$@"
        ;;
    test)
        setup
        exec "$python" -m pytest -n 2 "$@"
        ;;
    docs)
        setup
        stamp="$venv/.opsgym-docs-installed"
        if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
            "$python" -m pip install --quiet -e ".[docs]"
            touch "$stamp"
        fi
        exec "$venv/bin/opsgym" docs "$@"
        ;;
    setup)
        setup
        ;;
    *)
        echo "usage: ./dev.sh benchmark|evaluate|test|docs|setup [ARGS]" >&2
        exit 2
        ;;
esac
