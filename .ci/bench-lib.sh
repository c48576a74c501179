# shellcheck shell=bash
# Sourced by the benchmark scripts (after lib.sh): dataset loading and measurement helpers. They
# talk to the cluster PGHOST/PGPORT/PGUSER name. SECONDS_PER_RUN: the length of each pgbench run.

# dataset NAME APPS DEVICES_PER_APP: database bench_NAME with the migrations of the current
# directory's tree and tests/bench/dataset.sql.
dataset() {
    local name=$1 apps=$2 per_app=$3
    step "[pg$PG_MAJOR] dataset $name: $apps apps, $((apps * per_app)) devices"
    psql -X -q -d postgres -c "CREATE DATABASE bench_$name"
    for migration in migrations/*.sql; do psql -X -q -d "bench_$name" -f "$migration"; done
    local started=$SECONDS
    psql -X -q -d "bench_$name" -v apps="$apps" -v devices_per_app="$per_app" -v override_every=10 -f tests/bench/dataset.sql
    echo "generated in $((SECONDS - started)) s"
}
# Before each measurement: write out dirty pages and let autovacuum finish, so a run does not pay
# for the data loading that preceded it.
settle() {
    psql -X -q -d postgres -c CHECKPOINT
    for _ in $(seq 60); do
        busy=$(psql -X -tA -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")
        [ "$busy" = 0 ] && return
        sleep 1
    done
}
pgbench_tps() {   # pgbench_tps DB ARGS... → prints transactions/s
    pgbench -n -M prepared -c 8 -j 2 -T "$SECONDS_PER_RUN" "$@" 2>/dev/null \
        | awk '/^tps = / { printf "%d\n", $3 }'
}

# start_gateway BINARY DATABASE: a gateway on a free port, serving DATABASE of the cluster as
# liveupdate_gateway; sets GATEWAY_PORT, GATEWAY (its URL) and GATEWAY_PID. Log: $TMP/gateway.log.
start_gateway() {
    GATEWAY_PORT=$(free_port)
    GATEWAY="http://127.0.0.1:$GATEWAY_PORT"
    LIVEUPDATE_LISTEN="127.0.0.1:$GATEWAY_PORT" RUST_LOG=warn \
    LIVEUPDATE_DATABASE_URL="host=127.0.0.1 port=$PGPORT user=liveupdate_gateway dbname=$2" \
    LIVEUPDATE_DB_POOL_SIZE=${BENCH_POOL_SIZE:-6} \
    LIVEUPDATE_CHANNEL_SELF_ADDRESS_LIMIT=1000000000 \
    LIVEUPDATE_STORAGE_ROOT="$TMP/objects" LIVEUPDATE_UPLOAD_DIR="$TMP/uploads" \
        "$1" 2>>"$TMP/gateway.log" &
    GATEWAY_PID=$!
    for _ in $(seq 100); do curl -sf "$GATEWAY/ready" >/dev/null && return; sleep 0.1; done
    echo "the gateway did not get ready:" >&2
    tail -5 "$TMP/gateway.log" >&2
    return 1
}

stop_gateway() {
    if [ -n "${GATEWAY_PID:-}" ]; then
        kill "$GATEWAY_PID" 2>/dev/null || true
        wait "$GATEWAY_PID" 2>/dev/null || true
    fi
    GATEWAY_PID=
}

# updates_rps: wrk (64 connections, after 3 s of warm-up) against POST /updates of GATEWAY with the
# dataset's request mix; prints requests/s and leaves wrk's report in $TMP/wrk.txt.
updates_rps() {
    local script="$CI_DIR/../tests/bench/updates.lua"
    APPS=1000 DEVICES_PER_APP=1000 wrk -t2 -c64 -d3s -s "$script" "$GATEWAY" >/dev/null
    APPS=1000 DEVICES_PER_APP=1000 wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency -s "$script" \
        "$GATEWAY" >"$TMP/wrk.txt"
    awk '/^Requests\/sec:/ { printf "%d\n", $2 }' "$TMP/wrk.txt"
}
