#!/usr/bin/env bash
# Warm-up benchmark (issue 16): the first and the fifth fit after start, with and without the
# warm-up before SERVING, and the start-to-SERVING time.
#   solvers/bench/warmup/run_bench.sh [--data DIR] [--runs N] [--port P] [--rounds R]
# --data: the ML-100K directory (default: ../shared/data/ml-100k from the repository root);
# --runs: fits per solver after each start (default 5); --rounds: starts per mode (default 1;
# modes alternate, so noise from other processes falls on both). Env SERVER_JAR, MFCTL_JAR.
#
# For each mode (warm-up on, --no-warmup) it starts the server jar, waits for its "mfserve
# listening" line (logged once health is SERVING, i.e. after the warm-up), then runs N ALS fits
# of u1.base and N NMF fits of u.data with `mfctl fit ... --json`, one after the other.
# fit_seconds is the server's own ModelInfo.fit_seconds (from the fit starting on the fit
# executor to the model built: the solver and the served model's indexes, not the upload);
# client_s is the whole mfctl command's wall time, which includes the mfctl JVM's own start
# (~1.5 s, cold every time) and reading and uploading the file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
data="$root/../shared/data/ml-100k"
runs=5
rounds=1
port=50093
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
server_jar="${SERVER_JAR:-$root/server/target/mfserve-server.jar}"
mfctl_jar="${MFCTL_JAR:-$root/client/target/mfctl.jar}"
for f in "$server_jar" "$mfctl_jar" "$data/u1.base" "$data/u.data"; do
  [[ -f "$f" ]] || { echo "missing $f (build: mvn -B -o -pl server,client -am package -DskipTests)" >&2; exit 2; }
done
work="$(mktemp -d)"
server=
stop() { if [[ -n "$server" ]]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; fi; server=; }
trap 'stop; rm -rf "$work"' EXIT
now() { date +%s.%N; }
mfctl=(java -jar "$mfctl_jar" --target "localhost:$port")

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(java -version 2>&1 | head -1)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-4s %-14s %-7s' mode fit "file" serving
for r in $(seq "$runs"); do printf ' %8s' "fit$r"; done
printf ' %8s %9s  %s\n' "1st/${runs}th" "1st/med" "(client_s per fit)"
for round in $(seq "$rounds"); do
  for mode in warmup no-warmup; do
    args=(--port "$port")
    [[ "$mode" == no-warmup ]] && args+=(--no-warmup)
    log="$work/$mode.$round.log"
    t0=$(now)
    java -jar "$server_jar" "${args[@]}" > "$log" 2>&1 &
    server=$!
    for _ in $(seq 1200); do
      grep -qs "mfserve listening" "$log" && break
      kill -0 "$server" 2>/dev/null || { tail -20 "$log" >&2; exit 2; }
      sleep 0.02
    done
    t1=$(now)
    serving=$(python3 -c "print('%.2f' % ($t1 - $t0))")
    for spec in "als u1.base" "nmf u.data"; do
      read -r solver file <<< "$spec"
      fits=(); clients=()
      for r in $(seq "$runs"); do
        a=$(now)
        out=$("${mfctl[@]}" fit "$data/$file" --solver "$solver" --model-id "$solver-$r" --json)
        b=$(now)
        fits+=("$(python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["fit_seconds"])' <<< "$out")")
        clients+=("$(python3 -c "print('%.2f' % ($b - $a))")")
      done
      printf '%-9s %-4s %-14s %-7s' "$mode" "$solver" "$file" "$serving"
      for f in "${fits[@]}"; do printf ' %8s' "$f"; done
      # 1st/med: the first fit over the median of the later ones, steadier than one 5th fit.
      printf ' %8s %9s  (%s)\n' "$(python3 -c "print('%.2fx' % (${fits[0]} / ${fits[-1]}))")" \
        "$(python3 -c "import statistics as s; f=[$(IFS=,; echo "${fits[*]}")]; print('%.2fx' % (f[0] / s.median(f[1:])))")" \
        "${clients[*]}"
    done
    grep -o "warm-up: .*" "$log" | sed 's/^/# /' || true
    stop
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
