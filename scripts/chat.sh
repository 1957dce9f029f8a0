#!/usr/bin/env bash
# Install (first time) and start the chat at http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "Starting the chat (the first start converts the model and builds the index)…"
exec .venv/bin/rag-chat "$@"
