#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data folder, a loopback port, a role and a database.
#
#   eval "$(.ci/postgres.sh start .pg-ci)"   # initdb (once) and start; prints the export line
#   python -m pytest tests/test_feedback.py   # the PostgreSQL tests run against $SPAMGUARD_TEST_POSTGRES_URL
#   .ci/postgres.sh stop .pg-ci               # stop it (the data folder stays; rm -rf it to start afresh)
#
# `start` prints `export SPAMGUARD_TEST_POSTGRES_URL=postgresql://spamguard:PASSWORD@127.0.0.1:PORT/spamguard`
# on stdout (everything else goes to stderr). The role may create databases: the tests make a fresh
# one for each test and drop it after. The server listens on 127.0.0.1 only, with password (SCRAM)
# authentication and no Unix socket; the passwords are random and kept in the data folder (mode 700).
#
# initdb and pg_ctl refuse to run as root: as root the server runs as the user named by
# SPAMGUARD_PG_OS_USER (default: postgres, the user Debian's `postgresql` package creates), who
# must be able to reach the folder. As anyone else it runs as you. The binaries are found on PATH,
# else in the newest /usr/lib/postgresql/*/bin (Debian keeps them there).
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|url FOLDER" >&2
    exit 2
}
[ $# -eq 2 ] || usage
action=$1
mkdir -p "$2"
folder=$(cd "$2" && pwd)
data="$folder/data"

bindir() {
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"  # Debian links some of them into /usr/local/bin
        return
    fi
    local found
    found=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$found" ]; then
        echo "postgres.sh: no initdb on PATH or under /usr/lib/postgresql; install PostgreSQL (Debian: apt-get install postgresql)" >&2
        exit 1
    fi
    dirname "$found"
}
BIN=$(bindir)

if [ "$(id -u)" -eq 0 ]; then
    owner=${SPAMGUARD_PG_OS_USER:-postgres}
    as_owner() { runuser -u "$owner" -- "$@"; }
else
    owner=$(id -un)
    as_owner() { "$@"; }
fi

running() {
    [ -f "$data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" status -D "$data" >/dev/null 2>&1
}

url() {
    echo "postgresql://spamguard:$(cat "$folder/role-password")@127.0.0.1:$(cat "$folder/port")/spamguard"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    if [ "$(id -u)" -eq 0 ]; then
        chown "$owner" "$folder"
    fi
    chmod 700 "$folder"
    if ! as_owner test -w "$folder"; then
        echo "postgres.sh: $owner cannot write to $folder (a parent folder is closed to it?); give a folder $owner can reach" >&2
        exit 1
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        echo "postgres.sh: initdb $data (as $owner)" >&2
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$folder/admin-password"
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$folder/role-password"
        if [ "$(id -u)" -eq 0 ]; then
            chown "$owner" "$folder/admin-password" "$folder/role-password"
        fi
        chmod 600 "$folder/admin-password" "$folder/role-password"
        as_owner "$BIN/initdb" -D "$data" --username=postgres --pwfile="$folder/admin-password" \
            --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 \
            || { cat "$folder/initdb.log" >&2; exit 1; }
        free_port >"$folder/port"
    fi
    local port
    port=$(cat "$folder/port")
    if running; then
        echo "postgres.sh: already running on 127.0.0.1:$port" >&2
    else
        echo "postgres.sh: starting PostgreSQL ($("$BIN/postgres" --version)) on 127.0.0.1:$port" >&2
        as_owner "$BIN/pg_ctl" start -D "$data" -l "$folder/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=''" >&2 \
            || { tail -n 20 "$folder/server.log" >&2; exit 1; }
    fi
    if [ ! -f "$folder/role-created" ]; then
        PGPASSWORD=$(cat "$folder/admin-password") "$BIN/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
            -U postgres -d postgres -v "pw=$(cat "$folder/role-password")" >&2 <<'SQL'
CREATE ROLE spamguard LOGIN CREATEDB PASSWORD :'pw';
CREATE DATABASE spamguard OWNER spamguard;
SQL
        touch "$folder/role-created"
    fi
    echo "export SPAMGUARD_TEST_POSTGRES_URL=$(url)"
}

stop() {
    if [ -f "$data/PG_VERSION" ] && running; then
        as_owner "$BIN/pg_ctl" stop -D "$data" -m fast -w >&2
    else
        echo "postgres.sh: not running ($data)" >&2
    fi
}

case "$action" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    *) usage ;;
esac
