#!/usr/bin/env bash
# Oversight benchmark: a county of N households (default 30,000) with 40 %
# visited, on SQLite (or DATABASE_URL), served by the release build; times
# the township dashboard, the county overview, the dispatch table and the
# discrepancy queue through their real HTTP endpoints. Prints the median
# and max of RUNS calls.
#   cargo leptos build --release && scripts/bench-reports.sh [households]
set -euo pipefail
cd "$(dirname "$0")/.."
households="${1:-30000}"
runs="${RUNS:-11}"
bin=target/release/daohu
dir=$(mktemp -d)
trap 'if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
export DATABASE_URL="${DATABASE_URL:-sqlite:$dir/daohu.db}"
export DAOHU_ADDR="127.0.0.1:${PORT:-3599}"
export DAOHU_SITE_ROOT=target/site
start=$(date +%s)
"$bin" demo --households "$households" --visited-percent 40 | sed -n 1,2p # reads it all: no SIGPIPE
echo "demo loaded in $(($(date +%s) - start)) s"
"$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
base="http://$DAOHU_ADDR"
for _ in $(seq 1 50); do curl -sf "$base/login" >/dev/null && break; sleep 0.2; done
cookie=$(curl -s -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'username=county&password=daohu-demo-2026' "$base/api/auth/sign_in" |
  grep -i '^set-cookie' | head -1 | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')

time_calls() { # endpoint code → "median max" in ms
  for _ in $(seq 1 "$runs"); do
    curl -sf -o /dev/null -w '%{time_total}\n' -b "$cookie" -X POST \
      -H 'Content-Type: application/x-www-form-urlencoded' -d "code=$2" "$base$1"
  done | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "median %6.1f ms   max %6.1f ms\n", t[int((NR + 1) / 2)], t[NR] }'
}
printf '%-34s %s\n' "township dashboard (621102100000)" "$(time_calls /api/areas/overview 621102100000)"
printf '%-34s %s\n' "county overview (621102000000)" "$(time_calls /api/areas/overview 621102000000)"
printf '%-34s %s\n' "dispatch table, township" "$(time_calls /api/reports/dispatch 621102100000)"
printf '%-34s %s\n' "dispatch table, county" "$(time_calls /api/reports/dispatch 621102000000)"
printf '%-34s %s\n' "discrepancy queue, township" "$(time_calls /api/discrepancies/list 621102100000)"
printf '%-34s %s\n' "discrepancy queue, county" "$(time_calls /api/discrepancies/list 621102000000)"
# How much the queue held: its figures depend on the day (payments fall due
# through the year, so visits early in the year find few discrepancies).
curl -sf -b "$cookie" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'code=621102000000' "$base/api/discrepancies/list" |
  grep -o '"total":[0-9]*' | sed 's/"total":/open discrepancies in the county: /'
