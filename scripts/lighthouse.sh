#!/usr/bin/env bash
# First-load transfer (brotli) and Lighthouse mobile scores of /login,
# /field, the township dashboard, the dispatch table and a household page,
# against the release build; prints a Markdown table for README ›
# Performance and writes target/lighthouse.json (details: end2end/bench/lighthouse.mjs).
#
#   scripts/lighthouse.sh                 # build the release site (as run.sh), then measure
#   SKIP_BUILD=1 scripts/lighthouse.sh    # measure the release build already there
#   RUNS=5 NO_FAIL=1 scripts/lighthouse.sh
#
# Exits 1 when a page misses its aim (first load ≤ 350 KB for /field,
# ≤ 250 KB for the others; performance ≥ 90; accessibility ≥ 95), unless NO_FAIL=1.
source "$(dirname "$0")/lib.sh"

if [ "${SKIP_BUILD:-}" != 1 ]; then
  ensure_build_tools
  say "构建 / building (release, as run.sh)"
  LEPTOS_SITE_ROOT="$RELEASE_SITE" cargo leptos build --release
  precompress_site "$RELEASE_SITE"
fi
for f in target/release/daohu target/release/hash.txt; do
  [ -f "$f" ] || { echo "missing $f: build the release site (run without SKIP_BUILD=1)" >&2; exit 1; }
done
if ! compgen -G "$RELEASE_SITE/pkg/*.wasm" >/dev/null; then
  echo "no wasm in $RELEASE_SITE/pkg: build the release site (run without SKIP_BUILD=1)" >&2
  exit 1
fi
if ! compgen -G "$RELEASE_SITE/pkg/*.wasm.br" >/dev/null; then
  echo "warning: $RELEASE_SITE/pkg has no .br files; the first load is measured as compressed on the fly" >&2
fi

# The system Chromium, never a downloaded browser; a CJK font; sqlite3 for
# picking a household from the demo database.
if [ ! -x /usr/bin/chromium ] || [ -z "$(fc-list :lang=zh 2>/dev/null)" ] || ! command -v sqlite3 >/dev/null 2>&1; then
  say "安装 Chromium、中文字体与 sqlite3 / installing Chromium, a CJK font and sqlite3 (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk sqlite3 >/dev/null
fi
# end2end/support (shared with the specs) imports playwright-core from
# end2end/node_modules; Lighthouse lives in end2end/bench/node_modules.
for dir in end2end end2end/bench; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "安装 $dir 依赖 / installing $dir packages"
    npm ci --prefix "$dir" --no-audit --no-fund
  fi
done

say "测量 / measuring (Lighthouse ${RUNS:-3}× per page)"
DAOHU_BIN=target/release/daohu DAOHU_SITE_ROOT="$RELEASE_SITE" CHROME_PATH=/usr/bin/chromium \
  node end2end/bench/lighthouse.mjs
