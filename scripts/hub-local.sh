#!/usr/bin/env bash
# A local hub for trying several tills on one machine: a PostgreSQL cluster in a directory of
# its own (no system service, no root needed), on loopback only, with password authentication.
#
#   scripts/hub-local.sh start [DIR] [PORT]   # default DIR=/tmp/kassa-hub, PORT=55432
#   scripts/hub-local.sh stop  [DIR]
#
# `start` asks for the password of the hub's user `kassa` (or reads $KASSA_HUB_PASSWORD),
# creates the cluster on first use with the database `shop`, and prints the hub.url to set on
# each till. The tills create the hub's tables themselves on first connection.
set -euo pipefail
cmd=${1:-}
dir=${2:-/tmp/kassa-hub}
port=${3:-55432}

bin=${KASSA_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || { echo "PostgreSQL not found (make setup installs it; or set KASSA_PG_BIN)" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

case "$cmd" in
  start)
    if [ ! -d "$dir/data" ]; then
      password=${KASSA_HUB_PASSWORD:-}
      if [ -z "$password" ]; then
        read -rsp "password for the hub's user kassa: " password; echo
      fi
      mkdir -p "$dir"
      [ ${#as_pg[@]} -eq 0 ] || chown postgres:postgres "$dir"
      pw=$(mktemp "$dir/pw.XXXXXX")
      printf '%s' "$password" > "$pw"
      [ ${#as_pg[@]} -eq 0 ] || chown postgres:postgres "$pw"
      "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U kassa -A scram-sha-256 -E UTF8 --locale=C \
        --pwfile="$pw" >/dev/null
      rm -f "$pw"
      created=1
    fi
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir" start >/dev/null
    if [ "${created:-0}" = 1 ]; then
      PGPASSWORD=$password "$bin/psql" -q -h 127.0.0.1 -p "$port" -U kassa -d postgres \
        -c 'CREATE DATABASE shop'
    fi
    echo "hub running: kassa-cli config set hub.url postgres://kassa@127.0.0.1:$port/shop"
    ;;
  stop)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
