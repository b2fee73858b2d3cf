#!/usr/bin/env bash
# Installs this tree's Python client into a fresh virtual environment VENV, as a user would:
# the system's (Debian) packages visible, pip install --no-build-isolation (which generates the
# gRPC stubs into the build) with --no-index (no package index is reachable here).
#   client/python/install-venv.sh VENV [PYTHON]     # PYTHON: default /usr/bin/python3
# Used by run-tests.sh and by the fit-path benchmark (solvers/bench/nmf/run_bench.sh fitpath).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$1
python=${2:-/usr/bin/python3}
rm -rf "$venv" "$here/build" "$here"/src/*.egg-info
"$python" -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install -q --no-build-isolation --no-index "$here"
rm -rf "$here/build" "$here"/src/*.egg-info
