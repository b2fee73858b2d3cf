# Sourced by the benchmarks that start the server jar and drive it with mfctl (serving,
# reliability/run_load.sh, security), after each sets root: the two jars (SERVER_JAR, MFCTL_JAR
# or the built ones), the whole run under /tmp/bench.lock (flock -o: the server it starts does
# not inherit the lock; BENCH_LOCKED=1 when the caller holds it), and a clear stop when a jar
# is missing.
# shellcheck shell=bash
server_jar="${SERVER_JAR:-$root/server/target/mfserve-server.jar}"
mfctl_jar="${MFCTL_JAR:-$root/client/target/mfctl.jar}"
if [[ -z "${BENCH_LOCKED:-}" ]] && command -v flock >/dev/null; then
  BENCH_LOCKED=1 exec flock -o /tmp/bench.lock "$0" "$@"
fi
for jar in "$server_jar" "$mfctl_jar"; do
  [[ -f "$jar" ]] || { echo "missing $jar: build with mvn -B package -DskipTests" >&2; exit 2; }
done
