# Shared by run-bench.sh and run-overhead.sh (sourced, after each sets plugin, server_jar and
# mfctl): checks the jars, kills the processes in pids on exit, and defines free_port, the
# --add-opens flags Spark needs on Java 17 (opens) and wait_for FILE TEXT SECONDS.
# shellcheck shell=bash
lib="$plugin/spark-als/lib"
for f in "$server_jar" "$mfctl" "$lib"; do
  [[ -e "$f" ]] || { echo "missing $f: build first (mvn -B package -DskipTests)" >&2; exit 2; }
done
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
opens=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
    java.util.concurrent java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs \
    sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
wait_for() { # file text seconds
  for _ in $(seq 1 $((10 * $3))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1:" >&2; tail -30 "$1" >&2; return 1
}
