#!/usr/bin/env bash
# Shows the mock's memory bound: one tenant filling its quota with step-up authorizes must not
# push the mock's resident set over 128 MiB, nor keep another tenant from getting its answers.
# Builds the mock as the Dockerfile does and runs bench/memload against it (see bench/README.md).
# Usage: bench/memory.sh [-short] [memload flags, e.g. -n 100000 -c 4]
#   -short   a smoke run of a few seconds: 2000 authorizes against --max-objects 500, so that
#            tenant A still reaches its quota
# MOCK_ARGS passes extra flags to the mock. Loads only 127.0.0.1; memload stops after 10 minutes
# at most, and timeout(1) backs that up.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
load_args=()
mock_args=()
if [ "${1:-}" = -short ]; then
  shift
  load_args=(-n 2000)
  mock_args=(--max-objects 500)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/klarna-mock" ./cmd/klarna-mock
go build -o "$work/memload" ./bench/memload
# shellcheck disable=SC2086 # MOCK_ARGS is a list of flags
timeout 11m "$work/memload" "${load_args[@]}" "$@" -- "$work/klarna-mock" --addr 127.0.0.1:0 "${mock_args[@]}" ${MOCK_ARGS:-}
