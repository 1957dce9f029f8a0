#!/usr/bin/env bash
# Install (first time) and run the whole test suite: unit tests, the real model,
# the real browser, the installed wheel, then the evaluation against its CI thresholds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
echo "Running the tests…"
.venv/bin/python -m pytest -q "$@"
echo "Running the evaluation (every reported set, the shipped answer stage) against eval/thresholds.json…"
.venv/bin/python -m eval run --sets all --configs chosen --check eval/thresholds.json --report eval/out
