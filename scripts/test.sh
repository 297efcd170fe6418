#!/usr/bin/env bash
# Set up and run the test suite: bash scripts/test.sh [pytest args]
# Slow tests (full trainings) run with INKREAD_SLOW=1 or --runslow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
python3 -m pytest -q -p no:cacheprovider "$@"
