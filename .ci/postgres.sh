#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite, sourced by .ci/run (or run alone to try it:
# `bash .ci/postgres.sh` starts one, prints its URL and stops it again).
#
# Installs PostgreSQL from Debian's packages when no server binaries are there, starts a new
# cluster in a temporary directory on 127.0.0.1 on a free port (trust authentication, no fsync:
# the data is thrown away), exports ECANFHIR_TEST_POSTGRES_URL for the tests, and stops and
# removes the cluster when the sourcing shell exits. Idempotent: every run makes its own cluster.
set -euo pipefail

ecan_pg_bindir() {
    local initdb
    initdb=$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$initdb" ]]; then dirname "$initdb"; fi
}

ecan_pg_install() {
    if [[ -z "$(ecan_pg_bindir)" ]]; then
        echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
}

# Runs a command as the postgres user when root (initdb refuses root), else as oneself.
ecan_pg_as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ecan_pg_stop() {
    if [[ -n "${ECAN_PG_DIR:-}" && -d "$ECAN_PG_DIR" ]]; then
        ecan_pg_as_owner "$ECAN_PG_BINDIR/pg_ctl" -D "$ECAN_PG_DIR/data" -m immediate -w \
            stop >/dev/null 2>&1 || true
        rm -rf "$ECAN_PG_DIR"
    fi
    ECAN_PG_DIR=""
}

ecan_pg_start() {
    ecan_pg_install
    ECAN_PG_BINDIR=$(ecan_pg_bindir)
    ECAN_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ecanfhir-pg.XXXXXX")
    trap ecan_pg_stop EXIT
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$ECAN_PG_DIR"
    fi
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    ecan_pg_as_owner "$ECAN_PG_BINDIR/initdb" -D "$ECAN_PG_DIR/data" -U postgres -A trust \
        -E UTF8 --locale=C --no-sync >"$ECAN_PG_DIR/initdb.log"
    ecan_pg_as_owner "$ECAN_PG_BINDIR/pg_ctl" -D "$ECAN_PG_DIR/data" -l "$ECAN_PG_DIR/server.log" \
        -w -t 60 -o "-h 127.0.0.1 -p $port -k $ECAN_PG_DIR -c fsync=off -c max_connections=300" \
        start >/dev/null
    export ECANFHIR_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "postgres.sh: PostgreSQL $("$ECAN_PG_BINDIR/postgres" --version | awk '{print $3}')" \
        "on $ECANFHIR_TEST_POSTGRES_URL" >&2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    ecan_pg_start
    "$ECAN_PG_BINDIR/psql" "$ECANFHIR_TEST_POSTGRES_URL" -Atc 'SELECT version()'
else
    ecan_pg_start
fi
