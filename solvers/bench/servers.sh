# Sourced by benchmarks that start their own servers: refuse a port something already listens
# on, and wait for a started server to say it listens, stopping the run when it died or never
# did. Without these a benchmark whose server failed to bind timed whatever was already on the
# port (a left-over server from an earlier run once stood in for the upload benchmark's).
# shellcheck shell=bash

# Exits 2 when something accepts connections on 127.0.0.1:$1.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "port $1 is already in use (a left-over server?); stop it or set PORT" >&2
    exit 2
  fi
}

# await_server PID LOG PATTERN [SECONDS]: waits until LOG holds PATTERN; exits 2 with the log's
# tail when process PID ends first or SECONDS (default 120) pass.
await_server() {
  local pid=$1 log=$2 pattern=$3 seconds=${4:-120} n
  for ((n = 0; n < seconds * 2; n++)); do
    grep -qs -- "$pattern" "$log" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the server (pid $pid) exited before listening:" >&2
      tail -5 "$log" >&2
      exit 2
    fi
    sleep 0.5
  done
  echo "the server (pid $pid) did not listen within $seconds s:" >&2
  tail -5 "$log" >&2
  exit 2
}
