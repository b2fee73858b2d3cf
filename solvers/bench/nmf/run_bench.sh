#!/usr/bin/env bash
# The NMF benchmark: scikit-learn 1.2 (cd, mu; init='nndsvda') and gensim 4.2 Nmf against
# mfserve's nmf through the server (the Fit RPC alone, as a client times it, on an uploaded
# matrix), on MovieLens 100K u.data as a 943 x 1682 matrix with zeros (rank 10 and 50), a dense
# 2,000 x 1,000 low-rank-plus-noise matrix (rank 20) and, with 'topics', a 20,000 x 10,000
# planted-topic count matrix (rank 20). Median of 3 after one warm-up fit; every timed part
# runs under flock /tmp/bench.lock.
#
#   solvers/bench/nmf/run_bench.sh            # u.data and dense
#   solvers/bench/nmf/run_bench.sh topics     # the planted-topic corpus
#   solvers/bench/nmf/run_bench.sh fitpath    # Fit as a client sees it (issue 22): inline
#
# 'fitpath' sends the matrix inline in every Fit on a warm server and reports, per line, the
# client's median seconds, the server's own fit_seconds and their ratio: NMF rank 10 on u.data
# and ALS defaults on u1.base from the Java client (NmfFitBench --inline true) and from the
# Python client (bench_peers.py --mfserve; PY names a Python with the client installed; by
# default this tree's client/python is installed into a fresh venv for the run, with
# client/python/install-venv.sh), beside scikit-learn cd's NMF of u.data at rank 10 in the same
# run. U1BASE defaults to u1.base next to UDATA. An untimed round of the Java rows warms the
# server before any row is timed.
#
# Needs: apt-get install -y python3-sklearn python3-gensim (Debian 12: 1.2.1, 4.2.0), and
# 'mvn -B package -DskipTests' (server/target/mfserve-server.jar, client/target/mfctl.jar).
# Environment: UDATA (default ../shared/data/ml-100k/u.data next to the repository), PORT (50987), SERVER_JAR,
# MFCTL_JAR, JAVA_OPTS (the server's JVM flags; default deploy/jvm-flags), WARMUPS (untimed fits per mfserve row before the timed ones, 5: a fit of u.data
# takes tens of milliseconds, so after one the JIT is still compiling and the timed fits fall
# from 0.137 to 0.068 s; after 5 they are steady, as on a server in service. WARMUPS=1 shows a
# cold server).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
UDATA=${UDATA:-$ROOT/../shared/data/ml-100k/u.data}
PORT=${PORT:-50987}
SERVER_JAR=${SERVER_JAR:-$ROOT/server/target/mfserve-server.jar}
MFCTL_JAR=${MFCTL_JAR:-$ROOT/client/target/mfctl.jar}
WHAT=${1:-ratings}
WARMUPS=${WARMUPS:-5}
U1BASE=${U1BASE:-$(dirname "$UDATA")/u1.base}
PY=${PY:-}

cd "$HERE"
if [ "$WHAT" != fitpath ]; then
  [ -f /tmp/nmf-bench-dense-2000x1000.f32 ] && [ -f /tmp/nmf-bench-topics-20000x10000.mtx ] \
    || /usr/bin/python3 nmf_data.py
fi

# shellcheck source=../servers.sh
. "$HERE/../servers.sh"
port_free "$PORT"
# The server's JVM flags: the README's (deploy/jvm-flags) unless JAVA_OPTS says otherwise.
# shellcheck disable=SC2086
java ${JAVA_OPTS-$(cat "$ROOT/deploy/jvm-flags")} -Xmx8g -jar "$SERVER_JAR" --port "$PORT" \
  --max-inbound-message-size 64m > /tmp/nmf-bench-server.log 2>&1 &
SERVER=$!
venv=""
trap 'kill $SERVER; [ -z "$venv" ] || rm -rf "$venv"' EXIT
await_server "$SERVER" /tmp/nmf-bench-server.log "listening on port" 60

bench() {
  java -cp "$MFCTL_JAR" "$HERE/NmfFitBench.java" --target "localhost:$PORT" \
    --warmups "$WARMUPS" "$@"
}
export -f bench
export MFCTL_JAR HERE PORT UDATA WARMUPS U1BASE PY

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$WHAT" = fitpath ]; then
  if [ -z "$PY" ]; then
    # The client as it is in this tree, installed afresh: a venv left by an earlier
    # run-tests.sh may hold an older client (one did, and the report timed it).
    venv=$(mktemp -d /tmp/mfserve-bench-venv.XXXXXX)
    "$ROOT/client/python/install-venv.sh" "$venv" > /dev/null
    PY="$venv/bin/python"
  fi
  [ -x "$PY" ] || { echo "no Python client at $PY (client/python/run-tests.sh installs it)" >&2
    exit 2; }
  # One untimed round of each Java row first, so that no row meets a server still compiling:
  # without it the first row paid for the server's warm-up (its fit_s 0.052-0.068 s against
  # 0.044-0.046 s for the same request on the warm server, 2026-12-07), the later rows not.
  flock /tmp/bench.lock bash -c '
    bench --udata "$UDATA" --k 10 --inline true --repeats 1 --label warm-nmf > /dev/null
    bench --udata "$U1BASE" --k 10 --solver als --inline true --repeats 1 --label warm-als \
      > /dev/null
    bench --udata "$UDATA" --k 10 --inline true --label "udata mfserve-nmf-java-inline"
    bench --udata "$U1BASE" --k 10 --solver als --inline true \
      --label "u1.base mfserve-als-java-inline"
    "$PY" bench_peers.py --udata "$UDATA" --cd-only --mfserve "localhost:$PORT" \
      --u1base "$U1BASE" --warmups "$WARMUPS" --repeats 5
  '
elif [ "$WHAT" = topics ]; then
  flock /tmp/bench.lock bash -c '
    /usr/bin/python3 bench_peers.py --topics
    T="--mtx /tmp/nmf-bench-topics-20000x10000.mtx --topics /tmp/nmf-bench-topics-planted-20x10000.f32 --k 20"
    bench $T --label "topics mfserve-default"
    bench $T --label "topics mfserve-random" --param init=random
    bench $T --label "topics mfserve-kl" --param loss=kl
  '
else
  flock /tmp/bench.lock bash -c '
    /usr/bin/python3 bench_peers.py --udata "$UDATA" --dense
    U="--udata $UDATA"
    D="--dense /tmp/nmf-bench-dense-2000x1000.f32 --rows 2000 --cols 1000 --k 20"
    # Defaults (init auto = nndsvda here, tolerance 1e-4, extrapolated HALS), then the one
    # documented alternative, the same on every matrix: init=random (scikit-learn'"'"'s random
    # start scaled to the data; no SVD). No per-matrix iteration counts.
    bench $U --k 10 --label "udata mfserve-default"
    bench $U --k 10 --label "udata mfserve-random" --param init=random
    bench $U --k 50 --label "udata mfserve-default"
    bench $U --k 50 --label "udata mfserve-random" --param init=random
    bench $D --label "dense mfserve-default"
    bench $D --label "dense mfserve-random" --param init=random
  '
fi
echo "# load after $(cut -d' ' -f1-3 /proc/loadavg)"
