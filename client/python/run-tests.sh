#!/usr/bin/env bash
# Installs the Python client as a user would (a virtual environment with the system's packages,
# pip install --no-build-isolation, which generates the stubs into the build) and runs its tests
# (client/python/tests) against the real server jar.
#
# Called by `mvn -B verify` (client module, integration-test phase, after the jars exist) and
# usable alone from any directory. When the Python packages are missing it says which Debian
# packages to install and exits 0 -- unless MFSERVE_REQUIRE_CROSS_LANGUAGE is set (CI sets it),
# in which case it fails. -DskipTests / -DskipITs skip it (passed in as MFSERVE_SKIP_*).
# Extra arguments go to pytest, e.g. `run-tests.sh -k tune`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}
name="python client tests"

# Skips on -DskipTests/-DskipITs; defines unavailable().
source "$here/../cross-language.sh"

missing=()
if [ -x "$python" ]; then
  for pair in grpc:python3-grpcio google.protobuf:python3-protobuf numpy:python3-numpy \
      scipy:python3-scipy pandas:python3-pandas pytest:python3-pytest \
      setuptools:python3-setuptools ensurepip:python3-venv; do
    (cd / && "$python" -c "import ${pair%%:*}") >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
else
  missing+=(python3 python3-grpcio python3-protobuf python3-numpy python3-scipy python3-pandas
    python3-pytest python3-setuptools python3-venv)
fi
[ -x "${PROTOC:-/usr/bin/protoc}" ] || missing+=(protobuf-compiler)
[ -x "${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}" ] || missing+=(protobuf-compiler-grpc)
if [ ${#missing[@]} -gt 0 ]; then
  unavailable "missing Debian packages; install them with: apt-get install -y ${missing[*]}"
fi

# A fresh environment each run, under the client module's Maven target directory.
venv="$here/../target/python-venv"
"$here/install-venv.sh" "$venv" "$python"
cd "$here"
# The src/ layout keeps the source tree off sys.path: the tests import the installed package.
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
