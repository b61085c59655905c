#!/usr/bin/env bash
# Daohu as a province runs it: N instances on one PostgreSQL database behind
# a round-robin, health-checked HAProxy, on this machine.
#
#   scripts/cluster.sh start       # PostgreSQL (the machine's), the database, the instances, HAProxy
#   scripts/cluster.sh status      # each instance and what the balancer thinks of it
#   scripts/cluster.sh kill N      # SIGKILL instance N (1-based): a crash
#   scripts/cluster.sh restart N   # stop instance N if it runs, start it again, wait until healthy
#   scripts/cluster.sh url         # the balancer's URL
#   scripts/cluster.sh stop        # stop everything this script started (the database stays)
#
# Settings (environment):
#   DAOHU_BIN            the binary (default: target/release/daohu, else target/debug/daohu)
#   CLUSTER_DATABASE_URL the PostgreSQL database (default postgres://postgres@127.0.0.1:5432/daohu_cluster;
#                        created if missing)
#   CLUSTER_DIR          run directory: pids, logs, haproxy.cfg (default target/cluster)
#   CLUSTER_PORT         the balancer's port (default 8080); instance N listens on CLUSTER_PORT+N
#   CLUSTER_INSTANCES    how many instances (default 3)
#   CLUSTER_STATS_PORT   HAProxy's statistics page (default CLUSTER_PORT+100)
#   DAOHU_SITE_ROOT      the built site (default: run.sh's target/site-release for a release binary, else target/site), DAOHU_PUBLIC_ORIGIN and RUST_LOG are passed on
# Running `start` again starts only what is not running.
source "$(dirname "$0")/lib.sh"

RUN="${CLUSTER_DIR:-$ROOT/target/cluster}"
PORT="${CLUSTER_PORT:-8080}"
N="${CLUSTER_INSTANCES:-3}"
STATS_PORT="${CLUSTER_STATS_PORT:-$((PORT + 100))}"
DB_URL="${CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/daohu_cluster}"
HOST=127.0.0.1

bin() {
  if [ -n "${DAOHU_BIN:-}" ]; then
    echo "$DAOHU_BIN"
  elif [ -x "$ROOT/target/release/daohu" ]; then
    echo "$ROOT/target/release/daohu"
  else
    echo "$ROOT/target/debug/daohu"
  fi
}

# The site built with the binary: a release binary's hash.txt names the
# files run.sh builds into target/site-release, a debug one target/site's.
site_root() {
  if [ -n "${DAOHU_SITE_ROOT:-}" ]; then
    echo "$DAOHU_SITE_ROOT"
  elif [[ "$(bin)" == */release/* ]]; then
    echo "$ROOT/target/site-release"
  else
    echo "$ROOT/target/site"
  fi
}
SITE_ROOT="$(site_root)"

instance_port() { echo $((PORT + $1)); }
pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }
# Whether pid $1 runs: not gone, not a zombie left for a parent that does
# not reap (a killed instance's parent is whoever adopted it).
running() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}
# Whether the process of pid file $1 runs and is still ours (a stale pid
# file's number may belong to another program by now).
alive() {
  local pid cmdline
  pid=$(pid_of "$1")
  running "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  case "$1" in
    haproxy) [[ "$cmdline" == *" $RUN/haproxy.cfg "* ]] ;;
    *) [[ "$cmdline" == *" serve --demo-if-empty "* ]] ;;
  esac
}

# The HTTP status of GET url ("000" when nothing answers).
http_status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }

# postgres://user@host:port/name?params → name, and the same URL on the
# `postgres` database (to create it from).
db_name() {
  local path="${DB_URL%%\?*}"
  echo "${path##*/}"
}
admin_url() {
  local path="${DB_URL%%\?*}" query=""
  [[ "$DB_URL" == *\?* ]] && query="?${DB_URL#*\?}"
  echo "${path%/*}/postgres${query}"
}

ensure_postgres() {
  case "$DB_URL" in
    postgres://* | postgresql://*) ;;
    *)
      echo "CLUSTER_DATABASE_URL 必须是 postgres://…（实例共用一个 PostgreSQL 数据库）/ must be postgres://…" >&2
      exit 2
      ;;
  esac
  if ! pg_isready -q -d "$(admin_url)"; then
    # The machine's own cluster (Debian's postgresql package), if it is stopped.
    local cluster
    cluster=$(pg_lsclusters -h 2>/dev/null | awk '{ print $1 " " $2; exit }' || true)
    if [ -z "$cluster" ]; then
      echo "PostgreSQL 无法连接，本机也没有可启动的集群 / PostgreSQL unreachable at $(admin_url) and no local cluster to start" >&2
      exit 1
    fi
    say "启动 PostgreSQL $cluster / starting PostgreSQL"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start
    echo "$cluster" >"$RUN/postgres.started"
    for _ in $(seq 50); do pg_isready -q -d "$(admin_url)" && break; sleep 0.2; done
  fi
  local name
  name=$(db_name)
  if [ -z "$(psql "$(admin_url)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    say "创建数据库 $name / creating database $name"
    psql -q "$(admin_url)" -c "CREATE DATABASE \"$name\""
  fi
}

# Starts instance $1 unless it runs. Does not wait.
start_instance() {
  local i=$1 port
  port=$(instance_port "$i")
  if alive "daohu-$i"; then return; fi
  local public=()
  [ -n "${DAOHU_PUBLIC_ORIGIN:-}" ] && public=(DAOHU_PUBLIC_ORIGIN="$DAOHU_PUBLIC_ORIGIN")
  # setsid: its own process group, so a Ctrl-C in this shell leaves it be.
  env DATABASE_URL="$DB_URL" DAOHU_ADDR="$HOST:$port" DAOHU_SITE_ROOT="$SITE_ROOT" \
    DAOHU_TRUST_FORWARDED_FOR=true RUST_LOG="${RUST_LOG:-info,sqlx=warn}" "${public[@]}" \
    setsid "$(bin)" serve --demo-if-empty >>"$RUN/daohu-$i.log" 2>&1 </dev/null &
  echo $! >"$RUN/daohu-$i.pid"
}

wait_healthy() {
  local i=$1 port
  port=$(instance_port "$i")
  for _ in $(seq 600); do
    [ "$(http_status "http://$HOST:$port/healthz")" = 200 ] && return 0
    if ! alive "daohu-$i"; then
      echo "实例 $i 已退出 / instance $i exited; its log:" >&2
      tail -n 20 "$RUN/daohu-$i.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "实例 $i 60 秒内未就绪 / instance $i not healthy within 60 s" >&2
  return 1
}

# `/readyz` (database reachable, migrations current) when the binary has
# it, else `/healthz`: the balancer sends requests only to ready instances.
health_path() {
  if [ "$(http_status "http://$HOST:$(instance_port 1)/readyz")" = 200 ]; then
    echo /readyz
  else
    echo /healthz
  fi
}

write_haproxy_cfg() {
  local check=$1 i
  {
    cat <<EOF
# Written by scripts/cluster.sh.
global
    maxconn 4096
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 30s
    # A request whose connection to an instance fails goes to another
    # (it never reached the dead one, so resending it is safe).
    retries 3
    option redispatch 1

frontend daohu
    bind $HOST:$PORT
    # What Daohu trusts with DAOHU_TRUST_FORWARDED_FOR=true: the last
    # X-Forwarded-For entry (this one, added by HAProxy; whatever the client
    # wrote before it is ignored), and X-Forwarded-Host/-Proto (replaced
    # here, never passed on from the client).
    option forwardfor
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-request set-header X-Forwarded-Proto http unless { ssl_fc }
    default_backend instances

backend instances
    balance roundrobin
    option httpchk
    http-check send meth GET uri $check
    http-check expect status 200
    # Which instance answered: for the cluster test and for operators.
    http-response set-header X-Daohu-Instance %s
EOF
    for i in $(seq "$N"); do
      echo "    server daohu-$i $HOST:$(instance_port "$i") check inter 500ms fall 2 rise 2"
    done
    cat <<EOF

listen stats
    bind $HOST:$STATS_PORT
    stats enable
    stats uri /
    stats refresh 2s
EOF
  } >"$RUN/haproxy.cfg"
}

start_balancer() {
  alive haproxy && return
  write_haproxy_cfg "$(health_path)"
  haproxy -c -q -f "$RUN/haproxy.cfg"
  haproxy -db -f "$RUN/haproxy.cfg" >>"$RUN/haproxy.log" 2>&1 </dev/null &
  echo $! >"$RUN/haproxy.pid"
  for _ in $(seq 100); do
    [ "$(http_status "http://$HOST:$PORT/healthz")" = 200 ] && return 0
    sleep 0.1
  done
  echo "HAProxy 未能转发 / HAProxy does not forward; its log:" >&2
  tail -n 20 "$RUN/haproxy.log" >&2
  return 1
}

# Stops the process of pid file $1: TERM, then KILL after 10 s.
stop_process() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$RUN/$name.pid"
}

check_instance_number() {
  if ! [[ "${1:-}" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt "$N" ]; then
    echo "实例编号须为 1–$N / instance number must be 1–$N" >&2
    exit 2
  fi
}

cmd_start() {
  ensure_cluster_tools
  mkdir -p "$RUN"
  local b
  b=$(bin)
  [ -x "$b" ] || { echo "找不到程序 / no binary at $b (build it, or set DAOHU_BIN)" >&2; exit 1; }
  ensure_postgres
  # All at once, as a province's instances come up: the start-up lock lets
  # one migrate and load the demo while the others wait.
  local i
  for i in $(seq "$N"); do start_instance "$i"; done
  for i in $(seq "$N"); do wait_healthy "$i"; done
  start_balancer
  for i in $(seq "$N"); do wait_balancer_sees "$i"; done
  cmd_status
  echo
  echo "均衡器 / balancer: http://$HOST:$PORT   (统计 / stats: http://$HOST:$STATS_PORT/)"
  # Every instance prints the demo sign-ins, loaded or found.
  sed -n '/演示账号/,/^[^ ]/p' "$RUN/daohu-1.log" | grep -v '^到户' | tail -n 8
}

# Waits until the balancer checks instance $1 as UP (so it gets requests).
wait_balancer_sees() {
  for _ in $(seq 200); do
    [ "$(balancer_state "daohu-$1")" = UP ] && return 0
    sleep 0.1
  done
  echo "均衡器未将实例 $1 标为可用 / the balancer does not see instance $1 UP" >&2
  return 1
}

# The balancer's view of one server (HAProxy's CSV statistics: field 18).
balancer_state() {
  curl -s -m 5 "http://$HOST:$STATS_PORT/;csv" | awk -F, -v s="$1" '$1 == "instances" && $2 == s { print $18 }'
}

cmd_status() {
  local i state
  for i in $(seq "$N"); do
    if alive "daohu-$i"; then state="pid $(pid_of "daohu-$i")"; else state="停止 stopped"; fi
    printf '  daohu-%s  %s:%s  %-14s /healthz %s\n' "$i" "$HOST" "$(instance_port "$i")" "$state" \
      "$(http_status "http://$HOST:$(instance_port "$i")/healthz")"
  done
  if alive haproxy; then
    printf '  haproxy  %s:%s  pid %s\n' "$HOST" "$PORT" "$(pid_of haproxy)"
    for i in $(seq "$N"); do
      printf '    daohu-%s  %s\n' "$i" "$(balancer_state "daohu-$i")"
    done
  else
    echo "  haproxy  停止 stopped"
  fi
}

cmd_stop() {
  local i
  stop_process haproxy
  for i in $(seq "$N"); do stop_process "daohu-$i"; done
  if [ -f "$RUN/postgres.started" ]; then
    # shellcheck disable=SC2046
    pg_ctlcluster $(cat "$RUN/postgres.started") stop
    rm -f "$RUN/postgres.started"
  fi
  echo "已停止 / stopped"
}

case "${1:-}" in
  start) cmd_start ;;
  stop)
    if [ -d "$RUN" ]; then cmd_stop; else echo "没有运行中的集群 / nothing to stop ($RUN)"; fi
    ;;
  status) cmd_status ;;
  url) echo "http://$HOST:$PORT" ;;
  kill)
    check_instance_number "${2:-}"
    pid=$(pid_of "daohu-$2")
    if ! alive "daohu-$2"; then
      echo "实例 $2 未在运行 / instance $2 is not running ($RUN)" >&2
      exit 1
    fi
    kill -KILL "$pid"
    for _ in $(seq 100); do running "$pid" || break; sleep 0.05; done
    echo "已杀死实例 $2 / killed instance $2 (SIGKILL)"
    ;;
  restart)
    check_instance_number "${2:-}"
    stop_process "daohu-$2"
    start_instance "$2"
    wait_healthy "$2"
    if alive haproxy; then wait_balancer_sees "$2"; fi
    echo "已重启实例 $2 / restarted instance $2"
    ;;
  *)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
