#!/usr/bin/env bash
# Soak benchmark: the real server under mixed load for a while, its memory
# printed as it goes. Not a timed test: a measurement, run by hand.
#
#   scripts/soak.sh [minutes]     # default 30; 2 is a smoke run
#
# Starts `daohu serve --demo-if-empty` on a fresh database (SQLite, or a
# fresh PostgreSQL database when SOAK_POSTGRES names a server, e.g.
# postgres://postgres@127.0.0.1:5432/postgres), then examples/soak.rs
# drives it: the four demo workers' phones deliver a few signed visits a
# second each through POST /api/sync/v1/visits (one batch in ten sent
# twice), office staff and workers load pages, people sign in right and
# wrong (16 wrong at once every minute). A line every SOAK_INTERVAL seconds
# (default 60) gives the server's VmRSS and peak VmHWM; the run fails
# (exit 1) if the peak passes SOAK_BOUND_MIB (default 300) or any answer
# was a 5xx. SOAK_RELEASE=1 measures the release build instead of the
# debug one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
minutes="${1:-30}"
interval="${SOAK_INTERVAL:-60}"
bound="${SOAK_BOUND_MIB:-300}"
profile=debug
release=()
if [ "${SOAK_RELEASE:-0}" = 1 ]; then
  profile=release
  release=(--release)
fi

cargo build "${release[@]}" --features ssr --bin daohu --example soak
target="$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')"
bin="$target/$profile/daohu"
driver="$target/$profile/examples/soak"

dir=$(mktemp -d)
pg_name=""
cleanup() {
  if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$pg_name" ]; then psql "$SOAK_POSTGRES" -qc "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
if [ -n "${SOAK_POSTGRES:-}" ]; then
  pg_name="daohu_soak_$(date +%s)"
  psql "$SOAK_POSTGRES" -qc "CREATE DATABASE $pg_name"
  export DATABASE_URL="${SOAK_POSTGRES%/*}/$pg_name"
  backend=postgres
else
  export DATABASE_URL="sqlite:$dir/daohu.db"
  backend=sqlite
fi
port="${SOAK_PORT:-3687}"
export DAOHU_ADDR="127.0.0.1:$port"
export DAOHU_SITE_ROOT="$dir/site"
export RUST_LOG="${RUST_LOG:-warn}"
mkdir -p "$DAOHU_SITE_ROOT"

"$bin" serve --demo-if-empty >"$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  curl -sf "http://$DAOHU_ADDR/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$dir/serve.log"; exit 1; }
  sleep 0.2
done
echo "soak: $profile build, $backend, $minutes min, bound $bound MiB"
set +e
"$driver" --addr "$DAOHU_ADDR" --pid "$server" --minutes "$minutes" --interval "$interval" --bound-mib "$bound"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "server log (last lines):"
  tail -n 20 "$dir/serve.log"
fi
exit "$rc"
