#!/bin/bash
# TEST ONLY: the stand-in image's entrypoint (see Dockerfile beside it), written for this project
# after the official postgres image's documented behaviour, not copied from it:
#   postgres [args]  as root: owns PGDATA to postgres and runs again as postgres. With an empty
#                    PGDATA: initdb (superuser POSTGRES_USER, default postgres, password
#                    POSTGRES_PASSWORD, required), password authentication for TCP clients,
#                    CREATE DATABASE POSTGRES_DB (default POSTGRES_USER), then, with a temporary
#                    server on the Unix socket only, each /docker-entrypoint-initdb.d file in name
#                    order (*.sh executed if executable, else sourced; *.sql through psql), then
#                    the server for real.
#   anything else    runs as given.
set -euo pipefail

if [ "${1:-}" != postgres ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    install -d -o postgres -g postgres -m 0700 "$PGDATA"
    chown -R postgres:postgres "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?the database is uninitialised: set POSTGRES_PASSWORD}"
    export POSTGRES_USER=${POSTGRES_USER:-postgres}
    export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
    initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    sql=(psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password)
    if [ "$POSTGRES_DB" != postgres ]; then
        "${sql[@]}" --dbname postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
    fi
    for file in /docker-entrypoint-initdb.d/*; do
        [ -e "$file" ] || continue
        echo "docker-entrypoint.sh: running $file"
        case $file in
            *.sh)
                if [ -x "$file" ]; then
                    "$file"
                else
                    # shellcheck disable=SC1090 # the init files are the image user's
                    . "$file"
                fi
                ;;
            *.sql) "${sql[@]}" --dbname "$POSTGRES_DB" -f "$file" ;;
            *) echo "docker-entrypoint.sh: ignoring $file" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo 'docker-entrypoint.sh: initialised; starting PostgreSQL'
fi

exec "$@"
