# Shared helpers for scripts/dev and scripts/test. Source it; do not run it.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.local"
mkdir -p "$STATE"
export SAM_CLI_TELEMETRY=0
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN=local
export AWS_REGION="${AWS_REGION:-eu-central-1}" AWS_DEFAULT_REGION="${AWS_REGION:-eu-central-1}"
export PATH="$VENV/bin:$PATH"

PIDS=()

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_http URL SECONDS: until URL answers anything at all.
wait_for_http() {
  local url=$1 deadline=$((SECONDS + ${2:-30}))
  until curl -s -o /dev/null --max-time 1 "$url"; do
    if ((SECONDS > deadline)); then
      log "timed out waiting for $url"
      return 1
    fi
    sleep 0.2
  done
}

# start_moto PORT LOGFILE: moto server on loopback, DynamoDB calls serialized (see the script).
start_moto() {
  "$VENV/bin/python" "$ROOT/scripts/moto_serialized.py" "$1" >"$2" 2>&1 &
  PIDS+=($!)
  wait_for_http "http://127.0.0.1:$1/moto-api/" 30
}

# start_localstripe PORT LOGFILE
start_localstripe() {
  "$VENV/bin/python" "$ROOT/scripts/localstripe_loopback.py" "$1" >"$2" 2>&1 &
  PIDS+=($!)
  wait_for_http "http://127.0.0.1:$1/v1/customers" 30
}

# start_search PORT LOGFILE: the search engine's stand-in, osmem-server (an in-memory server
# speaking OpenSearch's REST API; the binary comes in its PyPI wheel), on loopback. It ends
# with this shell (--parent-pid) as well as with stop_all.
start_search() {
  local binary
  binary=$("$VENV/bin/python" -c 'import osmem_server; print(osmem_server.resolve_binary())')
  "$binary" -addr "127.0.0.1:$1" -no-ja -no-stdin-watch -parent-pid $$ >"$2" 2>&1 &
  PIDS+=($!)
  wait_for_http "http://127.0.0.1:$1/" 30
}

# start_runner PORT MOTO_PORT STRIPE_PORT STACK LOGFILE [extra args...]
# (RUNNER_BIN_DIR: where the function binaries are; target/debug unless set. SEARCH_URL: the
# search engine; unless set, a stand-in is started for this runner, on SEARCH_PORT if set. The
# stack's listings index is `listings-{stack}`, so stacks sharing a stand-in do not mix.)
# Every function runs with its own role, enforced by the moto launcher (--iam, decision 0028).
start_runner() {
  local port=$1 moto=$2 stripe=$3 stack=$4 logfile=$5
  shift 5
  if [[ -z "${SEARCH_URL:-}" ]]; then
    local search_port=${SEARCH_PORT:-$(free_port)}
    start_search "$search_port" "${logfile%.log}-search.log"
    SEARCH_URL="http://127.0.0.1:$search_port"
  fi
  local translated="$STATE/$stack-translated.json"
  "$VENV/bin/python" "$ROOT/scripts/check_translated.py" "$ROOT/template.yaml" "$translated" >/dev/null
  "$ROOT/target/debug/local-runner" \
    --template "$ROOT/template.yaml" --bin-dir "${RUNNER_BIN_DIR:-$ROOT/target/debug}" \
    --dev-secrets "$ROOT/local-runner/dev-secrets.json" \
    --aws-endpoint "http://127.0.0.1:$moto" --port "$port" --stack-name "$stack" \
    --param "StripeApiBase=http://127.0.0.1:$stripe" \
    --param "MediaBaseUrl=http://127.0.0.1:$port/_local/cdn" --param "ApiBaseUrl=http://127.0.0.1:$port" \
    --param "SearchEndpoint=$SEARCH_URL" --param "SearchIndex=listings-${stack,,}" \
    --resources-out "$STATE/$stack-resources.json" --iam "$translated" "$@" >"$logfile" 2>&1 &
  PIDS+=($!)
  local deadline=$((SECONDS + 60))
  until grep -q "local-runner ready" "$logfile" 2>/dev/null; do
    if ! kill -0 "${PIDS[-1]}" 2>/dev/null || ((SECONDS > deadline)); then
      log "local-runner did not start; its log:"
      cat "$logfile" >&2
      return 1
    fi
    sleep 0.2
  done
  configure_stripe_webhook "$stripe" "$port" "$stack"
}

# configure_stripe_webhook STRIPE_PORT API_PORT STACK: the local Stripe signs and sends its
# events to this stack's POST /webhooks/stripe, and its Connect events to POST
# /webhooks/stripe-connect, each with the endpoint's local dev secret, as Stripe would.
configure_stripe_webhook() {
  local secrets platform connect
  secrets="$ROOT/local-runner/dev-secrets.json"
  platform=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["StripeSecret"]["webhook_secret"])' "$secrets")
  connect=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["StripeConnectSecret"]["webhook_secret"])' "$secrets")
  curl -sf -X POST "http://127.0.0.1:$1/_config/webhooks/$3" -H 'content-type: application/json' \
    -d "{\"url\": \"http://127.0.0.1:$2/webhooks/stripe\", \"secret\": \"$platform\"}" >/dev/null &&
    curl -sf -X POST "http://127.0.0.1:$1/_config/connect_webhooks/$3" -H 'content-type: application/json' \
      -d "{\"url\": \"http://127.0.0.1:$2/webhooks/stripe-connect\", \"secret\": \"$connect\"}" >/dev/null ||
    { log "could not configure the local Stripe's webhooks"; return 1; }
}

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# The functions and the runner only: the benchmark binaries (integration-tests) are built by
# the benchmark scripts that use them, tests build what they need, and the deploy binary
# (bundles/) is built by deploys and scripts/bench.
build_functions() {
  log "building functions and the local runner (debug)"
  (cd "$ROOT" && cargo build --workspace --exclude integration-tests --exclude 'bundle*' --bins --quiet)
}
