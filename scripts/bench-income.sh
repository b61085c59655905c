#!/usr/bin/env bash
# Income benchmark: a county of N households (default 30,000) with 40 %
# visited (each visit declaring income) and the demo's plans, on SQLite (or
# DATABASE_URL). Times the recomputation of every account and signal of the
# county through the real code path (`daohu recompute-income`, the service
# the server runs), then the plan and risk table through its HTTP endpoint.
# Prints the median and max of RUNS each.
#   cargo build --release --features ssr && scripts/bench-income.sh [households]
set -euo pipefail
cd "$(dirname "$0")/.."
households="${1:-30000}"
runs="${RUNS:-5}"
bin=target/release/daohu
dir=$(mktemp -d)
trap 'if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
export DATABASE_URL="${DATABASE_URL:-sqlite:$dir/daohu.db}"
export DAOHU_ADDR="127.0.0.1:${PORT:-3598}"
export DAOHU_SITE_ROOT=target/site
export RUST_LOG=warn
start=$(date +%s)
"$bin" demo --households "$households" --visited-percent 40 | sed -n 1,2p # reads it all: no SIGPIPE
echo "demo loaded in $(($(date +%s) - start)) s"

stats() { sort -n | awk '{ t[NR] = $1 } END { printf "median %7.1f ms   max %7.1f ms\n", t[int((NR + 1) / 2)], t[NR] }'; }
for _ in $(seq 1 "$runs"); do
  "$bin" recompute-income --area 621102000000 | sed -n 's/^621102000000: [0-9]* 户 · \([0-9.]*\) s$/\1/p' |
    awk '{ print $1 * 1000 }'
done | stats | sed "s/^/recompute county ($households households)  /"

"$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
base="http://$DAOHU_ADDR"
for _ in $(seq 1 50); do curl -sf "$base/login" >/dev/null && break; sleep 0.2; done
cookie=$(curl -s -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'username=county&password=daohu-demo-2026' "$base/api/auth/sign_in" |
  grep -i '^set-cookie' | head -1 | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
time_calls() { # endpoint code → "median max" in ms
  for _ in $(seq 1 11); do
    curl -sf -o /dev/null -w '%{time_total}\n' -b "$cookie" -X POST \
      -H 'Content-Type: application/x-www-form-urlencoded' -d "code=$2" "$base$1"
  done | awk '{ print $1 * 1000 }' | stats
}
printf '%-34s %s\n' "income table, county" "$(time_calls /api/income/table 621102000000)"
printf '%-34s %s\n' "income table, township" "$(time_calls /api/income/table 621102100000)"
curl -sf -b "$cookie" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'code=621102000000' "$base/api/income/table" |
  grep -o '"total":{.*' | grep -o '"households":[0-9]*,"flagged":[0-9]*,"by_flag":\[[0-9,]*\],"measures_due":[0-9]*,"measures_on_time":[0-9]*' |
  sed 's/^/county total: /'
