#!/usr/bin/env bash
# Generates the Python gRPC stubs of the mfserve client from the one proto in proto/.
#
# Output (ignored by git, regenerated on every run, never edited by hand):
#   mfserve/v1/mfserve_pb2.py, mfserve/v1/mfserve_pb2_grpc.py   from mfserve/v1/mfserve.proto
#   google/rpc/status_pb2.py, google/rpc/error_details_pb2.py  for the server's error details,
#       unless a google.rpc package (googleapis-common-protos) is already importable. Their
#       .proto files are read from the proto-google-common-protos jar that Maven already
#       downloaded for the Java client (Debian ships no Python package of them).
#
# Debian's protoc 3.21 and grpc_python_plugin are used on purpose: code from protoc 4.x needs a
# newer Python protobuf runtime than Debian's python3-protobuf. Override with PROTOC,
# GRPC_PYTHON_PLUGIN, PYTHON, COMMON_PROTOS_JAR or MAVEN_REPO_LOCAL.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
protoc=${PROTOC:-/usr/bin/protoc}
plugin=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}
python=${PYTHON:-/usr/bin/python3}
proto_dir=$root/proto/src/main/proto

for tool in "$protoc" "$plugin"; do
  if [ ! -x "$tool" ]; then
    echo "generate.sh: $tool not found; install the Debian packages protobuf-compiler and" \
      "protobuf-compiler-grpc" >&2
    exit 1
  fi
done

rm -rf "$here/mfserve/v1"
"$protoc" -I "$proto_dir" --python_out="$here" --grpc_python_out="$here" \
  --plugin=protoc-gen-grpc_python="$plugin" mfserve/v1/mfserve.proto
echo "generate.sh: mfserve/v1 stubs from $proto_dir/mfserve/v1/mfserve.proto"

# google.rpc.Status and BadRequest, to read field violations from errors.
rm -rf "$here/google"
if (cd / && "$python" -c 'import google.rpc.status_pb2, google.rpc.error_details_pb2') \
    2>/dev/null; then
  echo "generate.sh: google.rpc is installed; not generating it"
  exit 0
fi
jar=${COMMON_PROTOS_JAR:-}
if [ -z "$jar" ]; then
  repo=${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}
  jar=$(ls "$repo"/com/google/api/grpc/proto-google-common-protos/*/proto-google-common-protos-*.jar \
    2>/dev/null | grep -v -e '-sources' -e '-javadoc' | sort -V | tail -n 1 || true)
fi
if [ -z "$jar" ] || [ ! -f "$jar" ]; then
  echo "generate.sh: WARNING: no proto-google-common-protos jar found (build the Java client" \
    "first: mvn -B -o -pl client package, or set COMMON_PROTOS_JAR); errors will carry no" \
    "field violations" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" - "$jar" "$tmp" <<'PY'
import sys, zipfile
jar, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as z:
    for name in ("google/rpc/status.proto", "google/rpc/error_details.proto"):
        z.extract(name, out)
PY
"$protoc" -I "$tmp" --python_out="$here" google/rpc/status.proto google/rpc/error_details.proto
echo "generate.sh: google/rpc stubs from $jar"
