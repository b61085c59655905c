#!/usr/bin/env bash
# Reconciliation benchmark (三方比对): the demo county of N households
# (default 31,000, a large county) imported as a county office would, then
# a paying department's payout file of ROWS rows (default 300,000) made
# from its payments due — most paid as due, some in two unequal instalments, every
# 20th short by 1 元, every 50th missing — uploaded to the release server
# and timed from the start of the upload to the end of the write, which
# includes matching every key of the file's items three ways and opening
# the discrepancy items of the mismatches; then the same file again.
# SQLite by default, or DATABASE_URL (PostgreSQL: the script runs VACUUM
# ANALYZE after the roster import, as autovacuum would on a real server).
#   cargo build --release --features ssr && scripts/bench-reconcile.sh [households] [rows]
set -euo pipefail
cd "$(dirname "$0")/.."
households="${1:-31000}"
rows="${2:-300000}"
bin=${DAOHU_BIN:-target/release/daohu}
dir=$(mktemp -d)
trap 'if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
export DATABASE_URL="${DATABASE_URL:-sqlite:$dir/daohu.db}"
export DAOHU_ADDR="127.0.0.1:${PORT:-3597}"
export DAOHU_SITE_ROOT=target/site
"$bin" migrate >/dev/null
"$bin" demo-roster --households "$households" --out "$dir"
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
    sleep 0.2
  done
  end=$(date +%s.%N)
  printf '%-28s %6.1f s   %s\n' "$1 $(basename "$2")" "$(echo "$end - $start" | bc)" \
    "$(echo "$job" | grep -o '"Done":{[^}]*}\|"Refused".\{0,300\}\|"Failed".\{0,200\}')"
}
import households "$dir/households.csv" >/dev/null
import entitlements "$dir/entitlements.csv" >/dev/null
case "$DATABASE_URL" in postgres*) psql -q "$DATABASE_URL" -c 'VACUUM ANALYZE' ;; esac

# The payout file: one row per payment due (paid on its date, or today if
# that is still ahead), a second instalment for as many as it takes to
# reach ROWS rows.
today=$(TZ=Asia/Shanghai date +%F)
due=$(($(wc -l <"$dir/entitlements.csv") - 1))
awk -F, -v rows="$rows" -v today="$today" -v extra=$((rows - (due - due / 50))) '
  NR == 1 { print "户编号,身份证号,补贴项目,发放金额（元）,发放日期,发放部门,收款账号"; next }
  out >= rows { exit }
  {
    n = NR - 1
    if (n % 50 == 0) next
    fen = int($4 * 100 + 0.5); day = ($5 > today) ? today : $5
    if (n % 20 == 0) fen -= 100
    if (splits < extra && fen >= 5) {
      splits++; half = int(fen * 2 / 5)
      printf "%s,,%s,%.2f,%s,%s,6228********%04d\n", $1, $2, half / 100, day, $6, n % 10000
      printf "%s,,%s,%.2f,%s,%s,6228********%04d\n", $1, $2, (fen - half) / 100, day, $6, n % 10000
      out += 2
    } else {
      printf "%s,,%s,%.2f,%s,%s,\n", $1, $2, fen / 100, day, $6
      out++
    }
  }' "$dir/entitlements.csv" >"$dir/payouts.csv"
printf 'payouts.csv: %s rows, %s bytes (from %s payments due of %s households)\n' \
  "$(($(wc -l <"$dir/payouts.csv") - 1))" "$(wc -c <"$dir/payouts.csv")" "$due" "$households"
import payouts "$dir/payouts.csv"
import payouts "$dir/payouts.csv"
curl -s -b "$cookie" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d "code=621102000000" "$base/api/reconciliation/view" |
  grep -o '"total":{[^}]*}' | head -1
