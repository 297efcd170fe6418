#!/usr/bin/env bash
# Install inkread into the current Python. Usage: bash scripts/setup.sh [run|test]
#   run  : the base package (ONNX Runtime inference + web server; no PyTorch)
#   test : everything for training and the test suite, plus Debian's Chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-run}"
python3 -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
if [ "$what" = "test" ]; then
  # torch==2.13.0 is pinned: on the project's machines it is the CPU build on local disk.
  python3 -m pip install --quiet torch==2.13.0
  python3 -m pip install --quiet -e ".[test]"
  # Debian's handwriting fonts: inkread train-lines writes half its lines in them (data/font_lines.py).
  fonts=$(python3 -c "import os; from inkread.data.font_lines import FONT_FOLDERS as f; print(' '.join(p for p in f if not os.path.isdir(f[p])))")
  if [ -n "$fonts" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $fonts >/dev/null) \
        || echo "warning: could not install the handwriting fonts; tests of train-lines with them will be skipped" >&2
    else
      echo "warning: handwriting fonts missing and apt-get unavailable (apt-get install $fonts); tests of train-lines with them will be skipped" >&2
    fi
  fi
  if ! [ -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "warning: could not install chromium; browser tests will be skipped" >&2
    else
      echo "warning: /usr/bin/chromium missing and apt-get unavailable; browser tests will be skipped" >&2
    fi
  fi
else
  python3 -m pip install --quiet -e .
fi
