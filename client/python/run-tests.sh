#!/usr/bin/env bash
# Runs the Python client's tests (client/python/tests) against the real server jar.
#
# Called by `mvn -B verify` (client module, integration-test phase, after the jars exist) and
# usable alone from any directory. When the Python packages are missing it says which Debian
# packages to install and exits 0 -- unless MFSERVE_REQUIRE_CROSS_LANGUAGE is set (CI sets it),
# in which case it fails. -DskipTests / -DskipITs skip it (passed in as MFSERVE_SKIP_*).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}
name="python client tests"

# Skips on -DskipTests/-DskipITs; defines unavailable().
source "$here/../cross-language.sh"

missing=()
if [ -x "$python" ]; then
  for pair in grpc:python3-grpcio google.protobuf:python3-protobuf numpy:python3-numpy \
      scipy:python3-scipy pytest:python3-pytest; do
    (cd / && "$python" -c "import ${pair%%:*}") >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
else
  missing+=(python3 python3-grpcio python3-protobuf python3-numpy python3-scipy python3-pytest)
fi
[ -x "${PROTOC:-/usr/bin/protoc}" ] || missing+=(protobuf-compiler)
[ -x "${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}" ] || missing+=(protobuf-compiler-grpc)
if [ ${#missing[@]} -gt 0 ]; then
  unavailable "missing Debian packages; install them with: apt-get install -y ${missing[*]}"
fi

bash "$here/generate.sh"
cd "$here"
# The stubs are fresh: conftest need not generate them again.
MFSERVE_SKIP_GENERATE=1 "$python" -m pytest -q -p no:cacheprovider tests
