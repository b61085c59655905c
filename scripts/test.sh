#!/usr/bin/env bash
# Sets up and runs every check: formatting, clippy (ssr and hydrate), unit,
# store-contract (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
# HTTP and access-matrix tests, then the Playwright specs in Chromium at a
# 360×800 phone viewport. Ends with a pass/fail summary.
source "$(dirname "$0")/lib.sh"
ensure_test_tools

LOGS="$(mktemp -d)"
names=() results=() seconds=()
tests_passed=0 tests_failed=0

step() {
  local name=$1
  shift
  say "$name"
  local start=$SECONDS log="$LOGS/${#names[@]}.log" rc
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  names+=("$name")
  seconds+=($((SECONDS - start)))
  if [ "$rc" -eq 0 ]; then results+=("ok"); else results+=("FAILED"); fi
  # Count individual tests from cargo's and node's closing lines.
  local p f counted_failures
  read -r p f < <(awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }' "$log")
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
  counted_failures=$f
  p=$(awk '/^ℹ pass [0-9]+/ { s += $3 } END { print s+0 }' "$log")
  f=$(awk '/^ℹ fail [0-9]+/ { s += $3 } END { print s+0 }' "$log")
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
  counted_failures=$((counted_failures + f))
  # A step that failed before running any test still counts as a failure.
  if [ "$rc" -ne 0 ] && [ "$counted_failures" -eq 0 ]; then tests_failed=$((tests_failed + 1)); fi
  return 0
}

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  say "注意 / note: TEST_DATABASE_URL 未设置，PostgreSQL 部分将跳过 (set it to run the PostgreSQL half)"
fi

# The portable*.rs store files are include!d: cargo fmt does not reach them.
step "格式 / cargo fmt --check" sh -c 'cargo fmt --all -- --check && rustfmt --edition 2024 --check src/server/db/portable*.rs'
step "clippy (ssr)" cargo clippy --features ssr --all-targets -- -D warnings
step "clippy (hydrate, wasm32)" cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
# One test at a time within a binary. The hangs that first made this the
# rule are found and fixed (routes generated once per process, see
# src/server/router.rs), but some limits are rightly per process (password
# hashing a few at a time) and tests of one binary share the process, so a
# test that fills them would make another's sign-in wait or be refused.
step "单元/存储/HTTP/权限矩阵测试 / cargo test" cargo test --features ssr --no-fail-fast -- --test-threads=1
step "构建站点 / cargo leptos build" cargo leptos build
step "端到端 / Playwright (Chromium 360×800)" env DAOHU_BIN="$ROOT/target/debug/daohu" DAOHU_SITE_ROOT="$ROOT/target/site" \
  node --test --test-concurrency=1 --test-reporter=spec end2end/tests/*.spec.mjs

# The end of each failed step's output, so the cause is on the last screen.
for i in "${!names[@]}"; do
  if [ "${results[$i]}" != ok ]; then
    say "失败详情 / failure: ${names[$i]}"
    # What failed and why (cargo panics and errors, node ✖ lines), then the end.
    grep -E -A7 'panicked at|^error(\[|:)|^not ok|✖' "$LOGS/$i.log" | head -n 80
    echo '  …'
    tail -n 12 "$LOGS/$i.log"
  fi
done
if [[ " ${results[*]} " == *" FAILED "* ]]; then
  echo
  df -h "$ROOT" | sed 's/^/  disk: /'
fi

say "汇总 / summary"
failed=0
for i in "${!names[@]}"; do
  printf '  %-8s %5ss  %s\n' "${results[$i]}" "${seconds[$i]}" "${names[$i]}"
  [ "${results[$i]}" = ok ] || failed=1
done
echo
echo "summary: ${tests_passed} passed, ${tests_failed} failed"
exit $failed
