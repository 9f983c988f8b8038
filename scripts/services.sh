#!/usr/bin/env bash
# A local PostgreSQL 15 and Redis 7 for the scale tests and the load benchmark: installed from the machine's
# packages where missing (apt-get, as root), listening on 127.0.0.1 only, data under the data directory.
#
#   bash scripts/services.sh install   install PostgreSQL 15 and Redis where missing (apt-get; make setup runs it)
#   bash scripts/services.sh start     install if needed, initialise, start; prints the URLs
#   bash scripts/services.sh stop      stop both (their data is kept)
#   bash scripts/services.sh status    exit 0 when both answer
#   bash scripts/services.sh env       the variables the tests read:  eval "$(bash scripts/services.sh env)"
#
# Data: $CLINICBOT_DATA_DIR/services (default ./var/services). Ports: CLINICBOT_PG_PORT (55432) and
# CLINICBOT_REDIS_PORT (56379), chosen away from the defaults so a clinic's own servers are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[services]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[services] %s\033[0m\n' "$*" >&2; exit 1; }

DATA=${CLINICBOT_DATA_DIR:-$PWD/var}
DIR=${CLINICBOT_SERVICES_DIR:-$DATA/services}
PG_PORT=${CLINICBOT_PG_PORT:-55432}
REDIS_PORT=${CLINICBOT_REDIS_PORT:-56379}
PG_BIN=${CLINICBOT_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ROLE=clinicbot
PG_URL="postgresql+psycopg://$PG_ROLE@127.0.0.1:$PG_PORT/clinicbot"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

as_pg() {  # initdb and postgres refuse to run as root: run them as the 'postgres' system user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_missing() {
  local wanted=()
  [ -x "$PG_BIN/postgres" ] || wanted+=(postgresql-15)
  command -v redis-server >/dev/null 2>&1 || wanted+=(redis-server)
  [ ${#wanted[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${wanted[*]}: install them as root (apt-get install ${wanted[*]}) and run again"
  say "installing ${wanted[*]} (apt-get)"
  # keep the packages from starting their own system-wide servers on the default ports
  local policy=/usr/sbin/policy-rc.d added=""
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; added=1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
  [ -n "$added" ] && rm -f "$policy"
  [ -x "$PG_BIN/postgres" ] || die "PostgreSQL 15 is not at $PG_BIN after the install (set CLINICBOT_PG_BIN)"
}

pg_dir() {  # under the data directory, unless the postgres user cannot reach it (a clone under /root, say)
  local dir=$DIR/postgres
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DIR"; then
    dir=/var/lib/clinicbot-services/$(printf '%s' "$DIR" | sha256sum | cut -c1-12)/postgres
  fi
  echo "$dir"
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_pg() {
  local dir; dir=$(pg_dir)
  if pg_ready; then say "PostgreSQL already answers on 127.0.0.1:$PG_PORT"; return 0; fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "initialising PostgreSQL in $dir"
    as_pg "$PG_BIN/initdb" -D "$dir" -U "$PG_ROLE" --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  # terse errors, no statements: a unique-key clash would otherwise print the key (a phone number) in server.log
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300 \
        -c log_error_verbosity=terse -c log_min_error_statement=panic" >/dev/null
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'clinicbot'" | grep -q 1; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" clinicbot
  fi
  say "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PG_PORT (data $dir)"
}

start_redis() {
  if redis_ready; then say "Redis already answers on 127.0.0.1:$REDIS_PORT"; return 0; fi
  mkdir -p "$DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" --daemonize yes \
    --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log" --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis_ready && break; sleep 0.1; done
  redis_ready || die "Redis did not start; see $DIR/redis/redis.log"
  say "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$REDIS_PORT (data $DIR/redis)"
}

stop_all() {
  local dir; dir=$(pg_dir)
  if [ -f "$dir/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null && say "PostgreSQL stopped"
  fi
  if redis_ready; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    say "Redis stopped"
  fi
}

case "${1:-}" in
  start)
    install_missing
    start_pg
    start_redis
    echo "CLINICBOT_TEST_POSTGRES_URL=$PG_URL"
    echo "CLINICBOT_TEST_REDIS_URL=$REDIS_URL"
    ;;
  install) install_missing ;;
  stop) stop_all ;;
  status)
    pg_ready && say "PostgreSQL answers on 127.0.0.1:$PG_PORT" || { say "PostgreSQL is down"; exit 1; }
    redis_ready && say "Redis answers on 127.0.0.1:$REDIS_PORT" || { say "Redis is down"; exit 1; }
    ;;
  env)
    echo "export CLINICBOT_TEST_POSTGRES_URL=$PG_URL"
    echo "export CLINICBOT_TEST_REDIS_URL=$REDIS_URL"
    ;;
  *) die "usage: bash scripts/services.sh install|start|stop|status|env" ;;
esac
