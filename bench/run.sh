#!/usr/bin/env bash
# Measures the mock's performance targets (issue 14) on this machine, side by side in one run:
# a bare net/http JSON handler, the mock's approved authorize, and stripe-mock or Prism when
# installed, each alone on the machine's cores with the same load generator (bench/load):
#   - requests/s, and the mock's as a ratio of the bare handler's;
#   - server CPU per request (the run time of the server's threads from /proc/PID/task/*/schedstat
#     / requests);
#   - p50 and p99 latency at the given connections;
#   - the mock's CPU per request by fifth of a store going from empty to the tenant's quota;
#   - time from process start to the first answer (median of 5 starts, bench/firstreq);
#   - resident memory after the load.
# Usage: bench/run.sh [seconds per load run, default 10] [connections, default 32]
# Loads only 127.0.0.1; every run is bounded in time. MOCK_ARGS passes flags to the mock;
# QUOTA must then match its --max-objects (default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
secs=${1:-10}
conns=${2:-32}
quota=${QUOTA:-5000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/klarna-mock" ./cmd/klarna-mock
go build -o "$work/bare" ./bench/bare
go build -o "$work/firstreq" ./bench/firstreq
go build -o "$work/load" ./bench/load

# shellcheck source=bench/lib.sh
. bench/lib.sh

# measure NAME COLD_START LOAD_ARGS...: loads the started server (PID, URL) and keeps its figures
# in $work/fig-NAME, one line of name=value pairs.
measure() {
  local name=$1 cold=$2; shift 2
  "$work/load" -c "$conns" -d "${secs}s" -pid "$PID" "$@" >"$work/load-$name"
  echo "$(head -1 "$work/load-$name") $cold" >"$work/fig-$name"
  kill "$PID"; wait "$PID" 2>/dev/null || true
  if grep -q '^status' "$work/load-$name"; then
    echo "$name: answers other than 200 (these figures do not measure $name alone):" >&2
    grep '^status' "$work/load-$name" >&2
  fi
}

# field NAME KEY: a figure of a measured server.
field() { tr ' ' '\n' <"$work/fig-$1" | sed -n "s/^$2=//p"; }

echo "== $(date -u +%FT%TZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $secs s per run, $conns connections"

cold=$("$work/firstreq" -path / "$work/bare")
start "$work/bare"
measure bare "$cold" -url "$URL/" \
  -body '{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1"}}'

# The mock's load is an approved authorize charging a customer token without the customer, as a
# subscription's renewals are, with line items, a customer and the subscription: full contract
# validation, rules, a stored transaction. The token, unlike a network session token (spent by
# the first transaction made with it), can be charged again and again; bench/load makes it, and
# starts each round from an empty tenant (see its doc), so the store goes from empty to the
# tenant's quota and never answers 429.
cold=$("$work/firstreq" "$work/klarna-mock" --addr 127.0.0.1:0 ${MOCK_ARGS:-})
start "$work/klarna-mock" --addr 127.0.0.1:0 ${MOCK_ARGS:-}
account=krn:partner:global:account:test:BENCH001
authorize='{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"},"subscriptions":[{"subscription_reference":"sub-1","name":"Shoe club","billing_plans":[{"billing_amount":11800,"currency":"USD","interval":"MONTH","interval_frequency":1}]}]}}'
measure mock "$cold" -url "$URL/v2/accounts/$account/payment/authorize" -mock-quota "$quota" \
  -H 'Partner-Correlation-Id: bench1' -body "$authorize"
servers="bare mock"

# For comparison, when installed: stripe-mock (validates, keeps no state) creating a customer,
# and Prism mocking the same authorize from contracts/klarna-payments.yaml with validation on;
# their cold start is one start polled with curl, coarser than bench/firstreq's.
# Neither prints a "listening on" line; each listens on its default port, polled until it answers.
# other PORT PATH BIN ARGS...: starts the server, sets PID and URL and, in COLD, its first answer.
other() {
  local port=$1 path=$2; shift 2
  "$@" >"$work/out" 2>"$work/err" &
  PID=$!
  URL=http://127.0.0.1:$port
  local t0
  t0=$(date +%s%N)
  for _ in $(seq 1 3000); do
    curl -s -o /dev/null "$URL$path" && break
    sleep 0.005
  done
  COLD="first_answer_ms=$((($(date +%s%N) - t0) / 1000000))"
}
if command -v stripe-mock >/dev/null; then
  other 12111 /v1/customers stripe-mock -http-addr 127.0.0.1:12111
  measure stripe-mock "$COLD" -url "$URL/v1/customers" -H 'Authorization: Bearer sk_test_123' \
    -H 'Content-Type: application/x-www-form-urlencoded' -body 'email=jane%40example.com&description=bench'
  servers="$servers stripe-mock"
fi
if command -v prism >/dev/null; then
  other 4010 / prism mock -h 127.0.0.1 -p 4010 contracts/klarna-payments.yaml
  measure prism "$COLD" -url "$URL/v2/accounts/$account/payment/authorize" \
    -H 'Authorization: Basic klarna_test_api_bench' -H 'Content-Type: application/json' -body "$authorize"
  servers="$servers prism"
fi

printf '%-12s %10s %12s %9s %9s %9s %12s\n' server req/s 'CPU us/req' 'p50 ms' 'p99 ms' 'RSS MiB' 'cold ms'
for s in $servers; do
  printf '%-12s %10s %12s %9s %9s %9s %12s\n' "$s" "$(field "$s" rps)" "$(field "$s" cpu_us)" \
    "$(field "$s" p50_ms)" "$(field "$s" p99_ms)" "$(field "$s" rss_mib)" "$(field "$s" first_answer_ms)"
done
echo "mock: $(field mock rounds) rounds from an empty tenant to its quota of $quota transactions; CPU us/request by fifth of a round:" \
  "$(sed -n 's/^fifth=\([0-9]\) cpu_us=\([0-9.]*\).*/\2/p' "$work/load-mock" | tr '\n' ' ')"
awk -v m="$(field mock rps)" -v b="$(field bare rps)" -v cpu="$(field mock cpu_us)" -v bcpu="$(field bare cpu_us)" -v p50="$(field mock p50_ms)" \
  -v cold="$(field mock first_answer_ms)" -v f="$(sed -n 's/^fifth=[0-9] cpu_us=\([0-9.]*\).*/\1/p' "$work/load-mock" | tr '\n' ' ')" '
  function verdict(ok) { return ok ? "met" : "NOT met" }
  BEGIN {
    n = split(f, fifth, " "); lo = hi = fifth[1]
    for (i = 2; i <= n; i++) { if (fifth[i] < lo) lo = fifth[i]; if (fifth[i] > hi) hi = fifth[i] }
    printf "mock/bare req/s %.2f (target >= 0.50: %s); CPU %.1f us/request, %.1f times bare (<= 30 us: %s); p50 %.3f ms (<= 1: %s)\n",
      m / b, verdict(m / b >= 0.5), cpu, cpu / bcpu, verdict(cpu <= 30), p50, verdict(p50 <= 1)
    printf "cost by fifth: highest/lowest %.2f (<= 1.10: %s); cold start %.1f ms (<= 25: %s)\n",
      hi / lo, verdict(hi / lo <= 1.10), cold, verdict(cold <= 25)
  }'
