#!/usr/bin/env bash
# Sets up and runs Daohu with the demo county on the embedded SQLite
# database (data/daohu.db). Run again: skips what is installed and built.
source "$(dirname "$0")/lib.sh"
ensure_build_tools

# The release site has its own folder: the test command builds a debug
# site into target/site, and must not pull the bundle from under a server
# this script started (the release binary reads target/release/hash.txt,
# which names these files).
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$RELEASE_SITE}"
export DAOHU_SITE_ROOT="$LEPTOS_SITE_ROOT"
say "构建 / building (release)"
cargo leptos build --release
precompress_site "$LEPTOS_SITE_ROOT"

export DATABASE_URL="${DATABASE_URL:-sqlite:data/daohu.db}"
export DAOHU_ADDR="${DAOHU_ADDR:-127.0.0.1:3000}"
say "启动 / starting on http://${DAOHU_ADDR} (Ctrl-C 停止)"
exec target/release/daohu serve --demo-if-empty
