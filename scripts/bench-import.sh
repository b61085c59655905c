#!/usr/bin/env bash
# Roster import benchmark: the demo county of N households (default 25,000,
# ≈100,000 member rows) written as the two import files, then uploaded to
# the release server as a county office would and timed from the start of
# the upload to the end of the write (polling the job like the page does);
# then the same households file again, which must change nothing.
# SQLite by default, or DATABASE_URL.
#   cargo build --release --features ssr && scripts/bench-import.sh [households]
set -euo pipefail
cd "$(dirname "$0")/.."
households="${1:-25000}"
bin=target/release/daohu
dir=$(mktemp -d)
trap 'if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
export DATABASE_URL="${DATABASE_URL:-sqlite:$dir/daohu.db}"
export DAOHU_ADDR="127.0.0.1:${PORT:-3598}"
export DAOHU_SITE_ROOT=target/site
"$bin" migrate >/dev/null
"$bin" demo-roster --households "$households" --out "$dir"
printf 'households.csv: %s rows, %s bytes; entitlements.csv: %s rows, %s bytes\n' \
  "$(($(wc -l <"$dir/households.csv") - 1))" "$(wc -c <"$dir/households.csv")" \
  "$(($(wc -l <"$dir/entitlements.csv") - 1))" "$(wc -c <"$dir/entitlements.csv")"
"$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
base="http://$DAOHU_ADDR"
for _ in $(seq 1 50); do curl -sf "$base/login" >/dev/null && break; sleep 0.2; done
cookie=$(curl -s -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'username=county&password=daohu-demo-2026' "$base/api/auth/sign_in" |
  grep -i '^set-cookie' | head -1 | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')

import() { # kind file → prints the outcome and the seconds it took
  local start end location job
  start=$(date +%s.%N)
  location=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$cookie" \
    -F "kind=$1" -F "file=@$2" "$base/roster/upload")
  while :; do
    job=$(curl -s -b "$cookie" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
      -d "id=${location##*/}" "$base/api/roster/job")
    case "$job" in *'"Done"'* | *'"Refused"'* | *'"Failed"'*) break ;; esac
    sleep 0.1
  done
  end=$(date +%s.%N)
  printf '%-28s %6.1f s   %s\n' "$1 $(basename "$2")" "$(echo "$end - $start" | bc)" \
    "$(echo "$job" | grep -o '"Done":{[^}]*}\|"Refused".\{0,200\}\|"Failed".\{0,200\}')"
}
import households "$dir/households.csv"
import entitlements "$dir/entitlements.csv"
import households "$dir/households.csv"
