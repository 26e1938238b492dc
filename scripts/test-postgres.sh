#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests of shared state (Debian's postgresql, installed
# if missing), on a private port and socket folder, as the Docker engine is for the deploy tests.
#   scripts/test-postgres.sh start DIR    initdb into DIR, start on a free 127.0.0.1 port, and
#                                         print the connection string (postgres://…)
#   scripts/test-postgres.sh stop DIR     stop it and delete DIR
set -euo pipefail

die() { echo "test-postgres: $*" >&2; exit 1; }
bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d && -x $d/postgres ]] && echo "$d"
}
# initdb and postgres refuse to run as root.
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  local dir=$1 bin port password
  if ! bin=$(bindir); then
    echo "test-postgres: installing Debian's postgresql" >&2
    apt-get update -qq
    # No cluster of its own and no service started: the tests start their own server.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/pm-tests.conf
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(bindir) || die "postgresql did not install a server"
  fi
  [[ ! -e $dir ]] || die "$dir exists"
  # The server runs as postgres: DIR's parent must let it in (e.g. /tmp; not a private temp folder).
  mkdir -p -m 700 "$dir"
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && echo "$password" >"$dir/.pw")
  [[ $(id -u) != 0 ]] || chown -R postgres: "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U terraform --pwfile="$dir/.pw" -A scram-sha-256 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=40 -c shared_buffers=16MB" start >/dev/null ||
    { cat "$dir/server.log" >&2; die "the server did not start"; }
  echo "postgres://terraform:$password@127.0.0.1:$port/postgres?sslmode=disable"
}

stop() {
  local dir=$1 bin
  [[ -d $dir ]] || return 0
  bin=$(bindir) || die "no postgresql server installed"
  [[ ! -f $dir/data/postmaster.pid ]] || as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case ${1:-} in
  start | stop) [[ $# == 2 ]] || die "usage: $0 start|stop DIR"; "$1" "$2" ;;
  *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
