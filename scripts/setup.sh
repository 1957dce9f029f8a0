#!/usr/bin/env bash
# Create .venv in the repo root and install the project into it (idempotent).
# Usage: bash scripts/setup.sh [--test]
#   plain:   newsrag[app]   the library, the `rag` CLI and the chat
#   --test:  newsrag[test]  adds eval, pytest, playwright, ... and Debian Chromium
# One line per step. The output of pip and of the build backend goes to
# .venv/install.log, which is shown only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
extras="[app]"
[ "${1:-}" = "--test" ] && extras="[test]"
LOG=.venv/install.log

# step MESSAGE CMD...: prints MESSAGE, runs CMD into the log, then "done (N s)"
# or, on failure, the log's last lines and exit 1.
step() {
  local msg=$1 t0=$SECONDS
  shift
  printf '%s' "$msg"
  if "$@" >>"$LOG" 2>&1; then
    echo " done ($((SECONDS - t0)) s)"
  else
    echo " failed. The end of $LOG:"
    tail -n 25 "$LOG" | sed 's/^/    /'
    exit 1
  fi
}
pip_install() {
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-warn-script-location "$@"
}
# A stamp is current when it is newer than both files the install depends on.
current() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ] && [ ! constraints.txt -nt "$1" ]; }
install_chromium() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq update &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y chromium fonts-noto-cjk
}

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $($PY --version)…"
  "$PY" -m venv .venv
fi
: >"$LOG"
# [test] includes [app], so a test install serves the chat too.
if ! current ".venv/.installed$extras" && ! current ".venv/.installed[test]"; then
  step "Updating pip…" pip_install --upgrade pip
  # torch first, pinned: 2.13.0 is the CPU build on these machines; anything else pulls CUDA (GBs).
  step "Installing torch (CPU build, pinned in constraints.txt)…" pip_install -c constraints.txt torch
  step "Installing newsrag$extras and its dependencies (first run takes a few minutes)…" \
    pip_install -c constraints.txt -e ".$extras"
  touch ".venv/.installed$extras"
fi
if [ "${1:-}" = "--test" ] && { [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; }; then
  # The browser tests drive Debian's Chromium; never `playwright install` (no downloads here).
  step "Installing Debian chromium and CJK fonts for the browser tests…" install_chromium
fi
