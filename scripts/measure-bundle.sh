#!/usr/bin/env bash
# First-load transfer of a page as a phone fetches it: the HTML and the JS,
# wasm and CSS it links, raw and as the server sends them with brotli.
# Usage: scripts/measure-bundle.sh [http://127.0.0.1:3000] [/login]
set -euo pipefail
base="${1:-http://127.0.0.1:3000}"
page="${2:-/login}"
html=$(curl -sf "$base$page")
mapfile -t assets < <(grep -oE '/pkg/[^"]+\.(js|wasm|css)' <<<"$html" | sort -u)
total_raw=0 total_br=0
printf '%-48s %10s %10s\n' resource raw brotli
for path in "$page" "${assets[@]}"; do
  raw=$(curl -sf -o /dev/null -w '%{size_download}' "$base$path")
  br=$(curl -sf -o /dev/null -H 'Accept-Encoding: br' -w '%{size_download}' "$base$path")
  printf '%-48s %10s %10s\n' "$path" "$raw" "$br"
  total_raw=$((total_raw + raw))
  total_br=$((total_br + br))
done
printf '%-48s %10s %10s\n' total "$total_raw" "$total_br"
