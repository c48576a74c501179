#!/bin/bash
# TEST ONLY: what supabase/postgres's initdb script does for docker/supabase (written for this
# project): Supabase's API roles, then each migrations/*.sql in name order, by the superuser, in
# POSTGRES_DB.
set -euo pipefail
psql=(psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname "$POSTGRES_DB")
"${psql[@]}" -c 'CREATE ROLE anon NOLOGIN' -c 'CREATE ROLE authenticated NOLOGIN' \
    -c 'CREATE ROLE service_role NOLOGIN BYPASSRLS'
for sql in /docker-entrypoint-initdb.d/migrations/*.sql; do
    echo "migrate.sh: running $sql"
    "${psql[@]}" -f "$sql"
done
