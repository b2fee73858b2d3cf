#!/usr/bin/env bash
# Model repository benchmark (issue 15): snapshot write and load of the 200,000 x 20,000 x 64
# model beside plain copies of the same bytes, and start-to-SERVING with 20 ML-100K models.
#   solvers/bench/repository/run_bench.sh
# Env: SERVER_JAR (default server/target/mfserve-server.jar), MFCTL_JAR (client/target/mfctl.jar),
# SYNTH (default /tmp/synth; synth-10m.train.tsv is made with shared/bench/gen_synth.py when
# missing), ML100K (default ../shared/data/ml-100k), WORK (default: a new temporary directory),
# PORT (default 50081), RUNS (default 3), S3=1 to measure the big model's snapshots on an
# S3-compatible store instead of a directory: S3Proxy (the tests' S3TestServer, filesystem
# backend under WORK) is started on port S3_PORT (default 50089), and `cp` is compared with
# the blob file it stores.
#
# What is timed, and against what:
#   write: the server's own log line "snapshot written ... in X s" (serialising, CRC-32C,
#     temporary file, fsync, rename, fsync of the directory) against `cp` of the snapshot, and
#     against `dd conv=fsync` (a copy that is also made durable, as the snapshot write is);
#   load: the log line "loaded from ... in X s" of a restarted server (--preload all: read,
#     checksum, check, build the served model) against `cat` of the file (page cache warm for
#     both: nothing here can drop the cache);
#   start-to-SERVING: from launching the JVM until health says SERVING, with 20 models of
#     ML-100K size (als, k=10, u.data) in the store, beside the same start with an empty store.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
server_jar="${SERVER_JAR:-$root/server/target/mfserve-server.jar}"
mfctl_jar="${MFCTL_JAR:-$root/client/target/mfctl.jar}"
synth="${SYNTH:-/tmp/synth}"
ml="${ML100K:-$root/../shared/data/ml-100k}"
port="${PORT:-50081}"
runs="${RUNS:-3}"
work="${WORK:-$(mktemp -d)}"
store_uri="file://$work/store-big"
s3_args=()
s3_pid=
if [[ "${S3:-}" == 1 ]]; then
  s3_port="${S3_PORT:-50089}"
  (cd "$root" && mvn -B -q -o -pl server -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$work/s3.cp" -Dmdep.includeScope=test > /dev/null)
  java -cp "$root/server/target/test-classes:$root/server/target/classes:$(cat "$work/s3.cp")" \
    io.mfserve.server.testing.S3TestServer "$work/s3" "$s3_port" models > "$work/s3.log" 2>&1 &
  s3_pid=$!
  for _ in $(seq 600); do grep -q "^endpoint" "$work/s3.log" && break; sleep 0.1; done
  store_uri="s3://models/bench"
  s3_args=(--s3-endpoint "http://127.0.0.1:$s3_port" --s3-path-style)
  export AWS_ACCESS_KEY_ID=mfserve-test-access AWS_SECRET_ACCESS_KEY=mfserve-test-secret
  export AWS_REGION=us-east-1
fi
for jar in "$server_jar" "$mfctl_jar"; do
  [[ -f "$jar" ]] || { echo "missing $jar: build with mvn -B package -DskipTests" >&2; exit 2; }
done
train="$synth/synth-10m.train.tsv"
if [[ ! -f "$train" ]]; then
  mkdir -p "$synth"
  /usr/bin/python3 "$root/../shared/bench/gen_synth.py" --users 200000 --items 20000 \
    --nnz 10000000 --rank 10 --seed 2 --out "$synth/synth-10m"
fi
mfctl=(java -jar "$mfctl_jar" --target "localhost:$port")
server=
stop() { if [[ -n "$server" ]]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; fi; server=; }
trap 'stop; if [[ -n "$s3_pid" ]]; then kill "$s3_pid" 2>/dev/null || true; fi' EXIT
now() { date +%s.%N; }
# start LOG ARGS...: starts the server, waits for its "listening" line (logged once health is
# SERVING, after the preload), and sets started_secs to the seconds from launch to that line.
# (Not run in a subshell: the server's pid must reach stop.)
start() {
  local log="$1"; shift
  local t0; t0="$(now)"
  java -Xmx12g -jar "$server_jar" --port "$port" --memory-budget 10g "$@" > "$log" 2>&1 &
  server=$!
  for _ in $(seq 1200); do
    grep -q "mfserve listening" "$log" && break
    kill -0 "$server" 2>/dev/null || { tail -20 "$log" >&2; exit 2; }
    sleep 0.05
  done
  local t1; t1="$(now)"
  started_secs=$(python3 -c "print('%.3f' % ($t1 - $t0))")
}
secs() { sed -E 's/.* in ([0-9.]+) s.*/\1/' <<< "$1"; }
mbps() { python3 -c "print('%.0f' % ($1 / 1e6 / $2))"; }

echo "== write and load: 200,000 x 20,000 x 64 (sgd, 1 iteration, synth-10m), store $store_uri"
start "$work/big.log" --model-store "$store_uri" "${s3_args[@]}"
"${mfctl[@]}" fit "$train" --solver sgd --factors 64 --iterations 1 --model-id big --quiet \
  > /dev/null
for r in $(seq 2 "$runs"); do
  "${mfctl[@]}" fit "$train" --solver sgd --factors 64 --iterations 1 --model-id "big$r" \
    --quiet > /dev/null
done
stop
snap=""
[[ "$store_uri" == file://* ]] && snap="${store_uri#file://}/models/big.mfsnap"
if [[ -n "$s3_pid" ]]; then snap="$(find "$work/s3" -name big.mfsnap -type f | head -1)"; fi
bytes=0
if [[ -n "$snap" ]]; then bytes=$(stat -c %s "$snap"); fi
grep "snapshot written" "$work/big.log" | while read -r line; do
  s=$(secs "$line")
  echo "write  $(sed -E 's/.*model (big[0-9]*):.*/\1/' <<< "$line"): ${s} s$( [[ $bytes -gt 0 ]] && echo ", $(mbps "$bytes" "$s") MB/s of $bytes bytes")"
done
if [[ -n "$s3_pid" && -n "$snap" ]]; then
  # The same bytes through the same S3 server, as one signed PUT and one GET with curl.
  sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
  for r in $(seq "$runs"); do
    t0=$(now)
    curl -sf "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$snap" \
      "http://127.0.0.1:$s3_port/models/peer-copy" > /dev/null
    t1=$(now)
    curl -sf "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null \
      "http://127.0.0.1:$s3_port/models/peer-copy"
    t2=$(now)
    p=$(python3 -c "print('%.3f' % ($t1 - $t0))"); g=$(python3 -c "print('%.3f' % ($t2 - $t1))")
    echo "curl   run $r: PUT ${p} s, $(mbps "$bytes" "$p") MB/s;  GET ${g} s, $(mbps "$bytes" "$g") MB/s"
  done
fi
if [[ -n "$snap" ]]; then
  for r in $(seq "$runs"); do
    t0=$(now); cp "$snap" "$work/copy"; t1=$(now)
    c=$(python3 -c "print('%.3f' % ($t1 - $t0))"); rm -f "$work/copy"
    t0=$(now); dd if="$snap" of="$work/copy" bs=1M conv=fsync status=none; t1=$(now)
    d=$(python3 -c "print('%.3f' % ($t1 - $t0))"); rm -f "$work/copy"
    echo "cp     run $r: ${c} s, $(mbps "$bytes" "$c") MB/s;  dd conv=fsync: ${d} s, $(mbps "$bytes" "$d") MB/s"
  done
fi
for r in $(seq "$runs"); do
  start "$work/load$r.log" --model-store "$store_uri" "${s3_args[@]}" --preload all
  t=$started_secs
  stop
  grep "model big:.*loaded from" "$work/load$r.log" | while read -r line; do
    s=$(secs "$line")
    echo "load   run $r: big ${s} s$( [[ $bytes -gt 0 ]] && echo ", $(mbps "$bytes" "$s") MB/s"); start-to-SERVING with $runs such models ${t} s"
  done
  if [[ -n "$snap" ]]; then
    t0=$(now); cat "$snap" > /dev/null; t1=$(now)
    c=$(python3 -c "print('%.3f' % ($t1 - $t0))")
    echo "cat    run $r: ${c} s, $(mbps "$bytes" "$c") MB/s"
  fi
done

echo "== start-to-SERVING: 20 models of ML-100K (als, k=10, u.data)"
small="$work/store-small"
start "$work/small.log" --model-store "file://$small"
for i in $(seq 20); do
  "${mfctl[@]}" fit "$ml/u.data" --factors 10 --model-id "ml$i" --seed "$i" --quiet > /dev/null
done
stop
echo "snapshots: $(ls "$small/models" | wc -l), $(du -sb "$small/models" | cut -f1) bytes"
for r in $(seq "$runs"); do
  start "$work/empty$r.log" --model-store "file://$work/store-empty$r"
  e=$started_secs
  stop
  start "$work/s$r.log" --model-store "file://$small" --preload all
  t=$started_secs
  stop
  echo "run $r: empty store ${e} s; 20 models ${t} s; $(grep -o 'preloaded .*' "$work/s$r.log")"
done
