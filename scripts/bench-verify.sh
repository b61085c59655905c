#!/usr/bin/env bash
# Times `daohu verify` on one county on SQLite: the demo county at
# HOUSEHOLDS households (default 30,000, the issue's aim: ≤ 30 s) with
# VISITED per cent visited, loaded through the same checks a synced visit
# passes. The first verify also chains what the load left waiting (as a
# running server would within moments); the second only walks. Writes its
# line into README › Performance between the bench-verify markers unless
# UPDATE_README=0. DAOHU_BIN picks the binary (default: the release build,
# built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
HOUSEHOLDS=${HOUSEHOLDS:-30000}
VISITED=${VISITED:-40}
BIN=${DAOHU_BIN:-target/release/daohu}
if [ ! -x "$BIN" ]; then
  cargo build --release --features ssr --bin daohu
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export DATABASE_URL="sqlite:$dir/verify.db"
seconds() { date +%s.%N; }
t0=$(seconds)
"$BIN" demo --households "$HOUSEHOLDS" --visited-percent "$VISITED" > "$dir/demo.txt"
t1=$(seconds)
"$BIN" verify > "$dir/first.txt"
t2=$(seconds)
"$BIN" verify > "$dir/second.txt"
t3=$(seconds)
tail -1 "$dir/second.txt"
records=$(grep -o '[0-9]* 条记录 / records' "$dir/second.txt" | head -1 | cut -d' ' -f1)
line=$(printf '`daohu verify` of one county on SQLite (%s households, %s %% visited: %s chained records): **%.1f s** to chain what the load left and walk, **%.1f s** to walk again (aim ≤ 30 s); loading took %.0f s. (`scripts/bench-verify.sh`, %s)' \
  "$HOUSEHOLDS" "$VISITED" "$records" "$(echo "$t2 - $t1" | bc)" "$(echo "$t3 - $t2" | bc)" "$(echo "$t1 - $t0" | bc)" "$(case "$BIN" in *release*) echo release;; *) echo debug;; esac) build")
echo "$line"
if [ "${UPDATE_README:-1}" != 0 ]; then
  python3 - "$line" <<'PY'
import sys, re
line = sys.argv[1]
p = 'README.md'
s = open(p).read()
begin, end = '<!-- bench-verify.sh: begin -->', '<!-- bench-verify.sh: end -->'
s = re.sub(re.escape(begin) + '.*?' + re.escape(end), begin + '\n' + line + '\n' + end, s, flags=re.S)
open(p, 'w').write(s)
PY
fi
