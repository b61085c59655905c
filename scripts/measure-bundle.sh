#!/usr/bin/env bash
# First-load transfer of the sign-in page as a phone fetches it: HTML, JS,
# wasm and CSS, raw and brotli-compressed by the running server.
# Usage: scripts/measure-bundle.sh [http://127.0.0.1:3000]
set -euo pipefail
base="${1:-http://127.0.0.1:3000}"
total_raw=0 total_br=0
printf '%-18s %10s %10s\n' resource raw brotli
for path in /login /pkg/daohu.js /pkg/daohu.wasm /pkg/daohu.css; do
  raw=$(curl -sf -o /dev/null -w '%{size_download}' "$base$path")
  br=$(curl -sf -o /dev/null -H 'Accept-Encoding: br' -w '%{size_download}' "$base$path")
  printf '%-18s %10s %10s\n' "$path" "$raw" "$br"
  total_raw=$((total_raw + raw))
  total_br=$((total_br + br))
done
printf '%-18s %10s %10s\n' total "$total_raw" "$total_br"
