#!/usr/bin/env bash
# Province-scale benchmark on PostgreSQL: loads the demo province (Gansu's
# shape, default 1,500,000 households) into a fresh database, timing the
# load, then times the oversight pages through their real HTTP endpoints:
# the province's dispatch table, a county's and a township's, and the
# township dashboard, and the plan and risk tables after recomputing every
# household's income account (timed), and the weekly report: counties of
# the first city submitting their week (each once), the city's and the
# province's approval overviews, and the ratings of the city and the
# province; then `daohu verify` of every chain. Prints the median and max of RUNS calls
# each.
#   cargo build --release --features ssr && scripts/bench-province.sh [households] [visited %, default 1]
# The visits go through the real ingest path, one worker at a time (≈ 20–40
# visits/s here), so a large percentage takes long.
# ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) must be
# allowed to create databases; KEEP=1 keeps the database afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
households="${1:-1500000}"
visited="${2:-1}"
runs="${RUNS:-11}"
bin=target/release/daohu
admin="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
name=daohu_bench_province
dir=$(mktemp -d)
cleanup() {
  if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; fi
  if [ -z "${KEEP:-}" ]; then psql -q "$admin" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
psql -q "$admin" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
export DATABASE_URL="${admin%/*}/$name"
export DAOHU_ADDR="127.0.0.1:${PORT:-3597}"
export DAOHU_SITE_ROOT=target/site
export RUST_LOG=warn
"$bin" migrate >/dev/null
start=$(date +%s)
"$bin" demo-province --households "$households" --visited-percent "$visited"
echo "province loaded in $(($(date +%s) - start)) s"
psql -qAt "$DATABASE_URL" -c "select 'households', count(*) from households" \
  -c "select 'entitlements', count(*) from entitlements" -c "select 'visits', count(*) from visits" \
  -c "select 'database size', pg_size_pretty(pg_database_size(current_database()))"

# The machine's PostgreSQL runs without autovacuum; a real server would
# have analysed 10 million fresh rows by now. Run without it on 2026-12-04
# (1 % visited), the recomputation below had not ended after 13 min, against
# 34 s for the province without visits; missing statistics are the suspect.
start=$(date +%s)
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE"
echo "VACUUM ANALYZE after the load: $(($(date +%s) - start)) s"

start=$(date +%s)
"$bin" recompute-income | tail -1
echo "income accounts of the province recomputed in $(($(date +%s) - start)) s"

"$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
base="http://$DAOHU_ADDR"
for _ in $(seq 1 100); do curl -sf "$base/login" >/dev/null && break; sleep 0.2; done
sign_in() {
  curl -s -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
    -d "username=$1&password=daohu-demo-2026" "$base/api/auth/sign_in" |
    grep -i '^set-cookie' | head -1 | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//'
}
time_calls() { # cookie endpoint code → "median max" in ms
  for _ in $(seq 1 "$runs"); do
    curl -sf -o /dev/null -w '%{time_total}\n' -b "$1" -X POST \
      -H 'Content-Type: application/x-www-form-urlencoded' -d "code=$3" "$base$2"
  done | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "median %7.1f ms   max %7.1f ms\n", t[int((NR + 1) / 2)], t[NR] }'
}
province=$(sign_in province)
township=620101100000
township_user=$(sign_in "township${township:0:9}")
printf '%-36s %s\n' "dispatch table, province" "$(time_calls "$province" /api/reports/dispatch 620000000000)"
printf '%-36s %s\n' "dispatch table, city (620100000000)" "$(time_calls "$province" /api/reports/dispatch 620100000000)"
printf '%-36s %s\n' "dispatch table, county (620101000000)" "$(time_calls "$province" /api/reports/dispatch 620101000000)"
printf '%-36s %s\n' "dispatch table, township" "$(time_calls "$township_user" /api/reports/dispatch "$township")"
printf '%-36s %s\n' "township dashboard" "$(time_calls "$township_user" /api/areas/overview "$township")"
printf '%-36s %s\n' "province overview" "$(time_calls "$province" /api/areas/overview 620000000000)"
printf '%-36s %s\n' "income table, province" "$(time_calls "$province" /api/income/table 620000000000)"
printf '%-36s %s\n' "income table, city (620100000000)" "$(time_calls "$province" /api/income/table 620100000000)"
printf '%-36s %s\n' "income table, county (620101000000)" "$(time_calls "$province" /api/income/table 620101000000)"
printf '%-36s %s\n' "income table, township" "$(time_calls "$township_user" /api/income/table "$township")"

# The weekly report: the counties of the first city submit their week, one
# after another (a submission is made once a week), then the overviews.
county_names=$(psql -qAt "$DATABASE_URL" -c "select code from areas where parent_code = '620100000000' order by code")
as_of=$(curl -sf -b "$province" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
  -d "code=620000000000" "$base/api/weekly/view" | grep -o '"as_of":"[0-9-]*"' | head -1 | cut -d'"' -f4)
for county in $county_names; do
  cookie=$(sign_in "county${county:0:6}")
  curl -sf -o /dev/null -w '%{time_total}\n' -b "$cookie" -X POST \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -d "code=$county&as_of=$as_of&contact_name=bench&contact_phone=0931-0000000" "$base/api/weekly/submit"
done | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "%-36s median %7.1f ms   max %7.1f ms   (%d counties)\n", "weekly submission, county", t[int((NR + 1) / 2)], t[NR], NR }'
printf '%-36s %s\n' "weekly overview, city (620100000000)" "$(time_calls "$(sign_in city01)" /api/weekly/view 620100000000)"
printf '%-36s %s\n' "weekly overview, province" "$(time_calls "$province" /api/weekly/view 620000000000)"
# The week's rating (评估评定): a city's counties, the province's cities
# and counties.
printf '%-36s %s\n' "ratings, city (620100000000)" "$(time_calls "$(sign_in city01)" /api/ratings/view 620100000000)"
printf '%-36s %s\n' "ratings, province" "$(time_calls "$province" /api/ratings/view 620000000000)"

# Tamper evidence: `daohu verify` walks every county's chain (what the
# server's chainer appended while it ran, and what still waits, against the
# hash its write took), with the server stopped, as an operator would run it.
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=
psql -qAt "$DATABASE_URL" -c "select 'chained records', count(*) from ledger_entries" \
  -c "select 'records waiting to be chained', count(*) from ledger_pending"
start=$(date +%s%N)
"$bin" verify | tail -2
echo "verify, the whole province: $(( ($(date +%s%N) - start) / 1000000 )) ms"
