#!/usr/bin/env bash
# Sets up and runs Daohu with the demo county on the embedded SQLite
# database (data/daohu.db). Run again: skips what is installed and built.
source "$(dirname "$0")/lib.sh"
ensure_build_tools

say "构建 / building (release)"
cargo leptos build --release
# Brotli at the highest level once, at build time; the server prefers these.
for f in target/site/pkg/*.js target/site/pkg/*.wasm target/site/pkg/*.css; do
  [ -f "$f.br" ] || brotli -q 11 -k -f "$f"
done

export DATABASE_URL="${DATABASE_URL:-sqlite:data/daohu.db}"
export DAOHU_ADDR="${DAOHU_ADDR:-127.0.0.1:3000}"
say "启动 / starting on http://${DAOHU_ADDR} (Ctrl-C 停止)"
exec target/release/daohu serve --demo-if-empty
