#!/bin/sh
# Run once by the image's entrypoint, on the first start with an empty data directory, while a
# temporary server listens on its Unix socket only: the extension and migrations in POSTGRES_DB.
set -eu
PGUSER=${POSTGRES_USER:-postgres} PGDATABASE=${POSTGRES_DB:-${POSTGRES_USER:-postgres}} \
    liveupdate-migrate
