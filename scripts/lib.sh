# Shared by run.sh and test.sh: install what is missing, skip what is there.
# Sourced, not run.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/tools/node_modules/.bin:$PATH"
# Tools are built once per machine; a faster, un-LTO'd build is fine for them.
TOOL_BUILD_ENV=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16)

say() { printf '\n\033[1;31m==>\033[0m \033[1m%s\033[0m\n' "$*"; }

ensure_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "安装 wasm32 目标 / adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  # 0.3.11 needs a newer Rust than 1.95; no_downloads: take tools from PATH.
  if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
    say "安装 cargo-leptos 0.3.10 (一次性，约10分钟) / installing cargo-leptos (once)"
    "${TOOL_BUILD_ENV[@]}" cargo install cargo-leptos@0.3.10 --locked --features no_downloads
  fi
  # wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
  local wb
  wb=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wb}\$"; then
    say "安装 wasm-bindgen-cli ${wb} / installing wasm-bindgen-cli"
    "${TOOL_BUILD_ENV[@]}" cargo install wasm-bindgen-cli --version "$wb" --force
  fi
  if ! command -v brotli >/dev/null 2>&1; then
    say "安装 brotli / installing brotli (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq brotli >/dev/null
  fi
  if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
    say "安装 wasm-opt (binaryen 132) / installing wasm-opt"
    npm ci --prefix tools --no-audit --no-fund
  fi
}

# The province set-up of scripts/cluster.sh (and its test): a real load
# balancer, PostgreSQL's client to create the database, curl for checks.
ensure_cluster_tools() {
  local missing=()
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    say "安装 ${missing[*]} / installing ${missing[*]} (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_test_tools() {
  ensure_build_tools
  ensure_cluster_tools
  # Chromium for the specs; a CJK font so screenshots show Chinese, not boxes.
  # sqlite3: the offline spec checks what arrived in the database itself.
  if ! command -v chromium >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ] || ! command -v sqlite3 >/dev/null 2>&1; then
    say "安装 Chromium、中文字体与 sqlite3 / installing Chromium, a CJK font and sqlite3 (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk sqlite3 >/dev/null
  fi
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "安装端到端测试依赖 / installing end-to-end test packages"
    npm ci --prefix end2end --no-audit --no-fund
  fi
}

# Where run.sh (and the measuring scripts) keep the release site.
RELEASE_SITE=target/site-release

# Brotli at the highest level once, at build time; the server prefers these.
precompress_site() {
  local f
  for f in "$1"/pkg/*.js "$1"/pkg/*.wasm "$1"/pkg/*.css; do
    [ -f "$f.br" ] || brotli -q 11 -k -f "$f"
  done
}
