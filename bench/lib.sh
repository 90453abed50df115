# Shared by bench/run.sh and bench/wrk.sh (sourced, after they set work to a scratch directory).

# start BIN ARGS...: starts a server, waits for its "listening on" line, sets PID and URL.
start() {
  "$@" >"$work/out" 2>"$work/err" &
  PID=$!
  for _ in $(seq 1 500); do
    URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/out" | head -1)
    [ -n "$URL" ] && return 0
    sleep 0.01
  done
  echo "server did not start: $(cat "$work/err")" >&2; exit 1
}
