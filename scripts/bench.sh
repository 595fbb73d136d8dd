#!/usr/bin/env bash
# `make bench`: every benchmark of Berth beside a baseline measured in the same run, on this
# machine, printed as one table (and written to test-artifacts/bench/results.md). Needs the local
# world `make test` sets up (it starts what is missing) and builds Berth in release mode.
#
# `scripts/bench.sh smoke` runs every benchmark at its smallest size on the debug build, as part of
# `make test`, so that the script cannot rot; its figures mean nothing.
set -euo pipefail
mode=${1:-full}
case $mode in full|smoke) ;; *) echo "usage: scripts/bench.sh [full|smoke]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
root=$PWD
out=$root/test-artifacts/bench
mkdir -p "$out"

scripts/deps.sh wrk
scripts/postgres.sh start
scripts/fleet.sh up >/dev/null
eval "$(scripts/fleet.sh env)"
eval "$(scripts/postgres.sh env)"

if [ "$mode" = full ]; then
    # Sizes of the issue's table: servers for decisions, decisions, servers and placers for
    # committed placements, seconds per load run, creates, workspaces × intervals for the export.
    decision_servers="1000 10000"; decisions=2000; placement_servers=1000; placers=64; seconds=10; creates=50; export_rows="1000 1000"
    build=(-c release --scratch-path .build-release)
else
    decision_servers="100"; decisions=50; placement_servers=50; placers=4; seconds=1; creates=3; export_rows="20 50"
    build=()
fi
out=$out/$mode
mkdir -p "$out"
echo "bench.sh: building ($mode: ${build[*]:-debug})" >&2
swift build "${build[@]}" --product berth >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
swift build "${build[@]}" --product berth-bench >>"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
bin=$(swift build "${build[@]}" --show-bin-path)
berth=$bin/berth
bench=$bin/berth-bench

admin=$BERTH_TEST_PG_SUPERUSER_URL
base=${admin%/*}
db=berth_bench_$$
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
    psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

fresh_db() {
    psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db OWNER berth_owner" >/dev/null
    BERTH_SQL_DIR=$root/sql "$berth" migrate --database-url "postgresql://berth_owner:$BERTH_TEST_PG_OWNER_PASSWORD@127.0.0.1:$BERTH_PG_PORT/$db" >/dev/null 2>&1
}
app_url() { echo "postgresql://berth_app:$BERTH_TEST_PG_APP_PASSWORD@127.0.0.1:$BERTH_PG_PORT/$db"; }
owner_url() { echo "postgresql://berth_owner:$BERTH_TEST_PG_OWNER_PASSWORD@127.0.0.1:$BERTH_PG_PORT/$db"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
num() { python3 -c "print(f'{$1:.$2f}')"; }

# A figure a tool printed must be a number: an empty one means the tool failed, and the table must
# not be printed with a hole in it.
need() { # name value
    python3 -c "import sys; float(sys.argv[1])" "$2" 2>/dev/null || { echo "bench.sh: no figure for $1 (got '$2'); see $out" >&2; exit 1; }
}

declare -a rows
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); echo "bench.sh: $1 $2: $3 (baseline $4, ratio $5; target $6)" >&2; }

start_serve() { # extra env…
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    env BERTH_DATABASE_URL="$(app_url)" BERTH_HTTP_ADDRESS=127.0.0.1:$port BERTH_ADMIN_TOKEN=bench-admin-token-0123456789 \
        BERTH_SQL_DIR="$root/sql" BERTH_LOG_LEVEL=error BERTH_TENANT_MAX_CONCURRENT=10000 BERTH_TENANT_RATE=1000000 BERTH_TENANT_BURST=1000000 \
        "$@" "$berth" serve --pool-size 16 >"$out/serve.log" 2>&1 &
    serve_pid=$!
    url=http://127.0.0.1:$port
    started=$(date +%s.%N)
    for _ in $(seq 1 3000); do
        curl -sf -o /dev/null "$url/ready" && break
        sleep 0.01
    done
    ready=$(date +%s.%N)
    curl -sf -o /dev/null "$url/ready" || { tail -n 20 "$out/serve.log" >&2; echo "bench.sh: berth serve did not become ready" >&2; exit 1; }
}
stop_serve() { kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# 1. In-memory placement decisions with constraints.
for servers in $decision_servers; do
    result=$("$bench" placement-decision "$servers" "$decisions")
    p50=$(echo "$result" | json '["p50_us"]'); p99=$(echo "$result" | json '["p99_us"]')
    row "1" "placement decision, $servers servers, p50 / p99" "$(num "$p50/1000" 3) / $(num "$p99/1000" 3) ms" "—" "—" "p99 ≤ 1 ms at 10,000"
done

# 2. Committed placements per second, 64 placers on 1,000 servers, against pgbench's single-row UPDATE.
fresh_db
result=$("$bench" placements "$(app_url)" "$placement_servers" "$placers" "$seconds")
rate=$(echo "$result" | json '["per_second"]'); over=$(echo "$result" | json '["overcommitted_servers"]')
cat >"$out/update.sql" <<SQL
\set n random(1, $placement_servers)
UPDATE workspace_servers SET current_workspaces = current_workspaces WHERE name = 'bench-' || :n;
SQL
pg_tps=$(pgbench -n -c "$placers" -j 2 -T "$seconds" -f "$out/update.sql" "$(owner_url)" 2>/dev/null | awk '/^tps/ {print $3; exit}')
need "pgbench UPDATE tps" "$pg_tps"; need "placements/s" "$rate"
row "2" "committed placements/s ($placers placers, $placement_servers servers; overcommitted servers: $over)" "$(num "$rate" 0)/s" "$(num "$pg_tps" 0) tps" "$(num "$rate/$pg_tps" 2)" "≥ 1,000/s and ≥ 0.5"
[ "$over" = 0 ] || { echo "bench.sh: placements overcommitted $over servers" >&2; exit 1; }

# 6. Cold start to /ready and idle RSS (a fresh database, two servers registered).
fresh_db
start_serve BERTH_WORKSPACE_SERVERS="[{\"name\":\"bench-1\",\"host\":\"127.0.0.1\",\"docker_port\":${BERTH_TEST_DOCKER_PLAIN_1##*:},\"total_cpu\":64,\"total_memory_mb\":262144,\"total_disk_gb\":1000,\"max_workspaces\":1000}]"
cold=$(python3 -c "print(f'{($ready - $started) * 1000:.0f}')")
sleep 3
idle_kib=$(rss_kib "$serve_pid")
row "6" "berth serve idle RSS / cold start to /ready" "$(num "$idle_kib/1024" 1) MiB / $cold ms" "—" "—" "≤ 50 MiB; ≤ 1 s"

# 3. Create overhead against a raw create+start of the same image on the same engine.
tenant_json=$(BERTH_DATABASE_URL=$(app_url) "$berth" tenant create --name bench --max-workspaces 1000 --max-cpu 1000 --max-memory-mb 1000000 2>/dev/null)
tenant=$(echo "$tenant_json" | json '["id"]')
key=$(BERTH_DATABASE_URL=$(app_url) "$berth" apikey create --tenant bench 2>/dev/null | json '["key"]')
for _ in $(seq 1 100); do
    [ "$(psql -X -tA "$(owner_url)" -c "SELECT count(*) FROM workspace_servers WHERE status = 'healthy'")" = 1 ] && break
    sleep 0.1
done
result=$("$bench" create-overhead "$url" "$key" "$BERTH_TEST_DOCKER_PLAIN_1" "$creates")
echo "$result" >"$out/create.json"
row "3" "create overhead, POST ?wait=running, added p50 / p99 (Berth p50 $(echo "$result" | json '["berth_p50_ms"]' | xargs printf '%.0f') ms)" \
    "$(echo "$result" | json '["added_p50_ms"]' | xargs printf '%.1f') / $(echo "$result" | json '["added_p99_ms"]' | xargs printf '%.1f') ms" \
    "raw create+start p50 $(echo "$result" | json '["raw_p50_ms"]' | xargs printf '%.0f') ms" "—" "added p50 ≤ 25 ms, p99 ≤ 50 ms"

# 4. GET /v1/workspaces/{id} under wrk, against pgbench running the same read as the tenant.
created=$(curl -s -X POST "$url/v1/workspaces?wait=running" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"name":"read-me","image":"berth-busybox:latest","resources":{"cpu":0.1,"memory_mb":32,"disk_gb":0}}')
workspace=$(echo "$created" | json '["id"]')
wrk -t 2 -c 32 -d "${seconds}s" --latency -H "Authorization: Bearer $key" "$url/v1/workspaces/$workspace" >"$out/wrk.txt"
rps=$(awk '/^Requests\/sec/ {print $2}' "$out/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$out/wrk.txt")
# Berth's shape of a tenant transaction: BEGIN, the role and the tenant in one round trip (\; makes
# one statement of them), the query, COMMIT.
cat >"$out/tenant-read.sql" <<SQL
BEGIN \; SET LOCAL ROLE berth_tenant \; SELECT set_config('berth.tenant_id', '$tenant', true);
SELECT w.id, w.name, w.status, s.name FROM workspaces w LEFT JOIN workspace_servers s ON s.id = w.server_id JOIN tenants t ON t.id = w.tenant_id WHERE w.id = '$workspace';
COMMIT;
SQL
read_tps=$(pgbench -n -c 32 -j 2 -T "$seconds" -f "$out/tenant-read.sql" "$(app_url)" 2>/dev/null | awk '/^tps/ {print $3; exit}')
need "wrk req/s" "$rps"; need "pgbench tenant read tps" "$read_tps"
row "4" "tenant GET /v1/workspaces/{id}, wrk 32 connections: req/s, p99" "$(num "$rps" 0) req/s, p99 $p99" "$(num "$read_tps" 0) tps" "$(num "$rps/$read_tps" 2)" "≥ 10,000 req/s, p99 ≤ 5 ms"

# 5. Export of 1,000,000 usage rows as CSV, against psql \copy of the same query; peak RSS while it streams.
read -r export_workspaces export_intervals <<<"$export_rows"
psql -X -q "${base}/$db" -v tenant="$tenant" -v workspaces="$export_workspaces" -v intervals="$export_intervals" <<'SQL' >/dev/null

INSERT INTO workspaces (id, tenant_id, name, status, image, cpu, memory_mb, disk_gb, desired_status, observed_generation)
    SELECT gen_random_uuid(), :'tenant', 'x-' || n, 'deleted', 'berth-busybox:latest', 0.25 * (1 + n % 4), 64 * (1 + n % 8), n % 3, 'deleted', 1
    FROM generate_series(1, :workspaces) n;
INSERT INTO usage_intervals (tenant_id, workspace_id, cpu, memory_mb, disk_gb, started_at, ended_at)
    SELECT w.tenant_id, w.id, w.cpu, w.memory_mb, w.disk_gb, '2026-11-01'::timestamptz + m * interval '40 seconds', '2026-11-01'::timestamptz + m * interval '40 seconds' + interval '30 seconds'
    FROM workspaces w, generate_series(1, :intervals) m WHERE w.name LIKE 'x-%';
ANALYZE usage_intervals;
SQL
period='from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z'
before_kib=$(rss_kib "$serve_pid")
peak=$before_kib
( while kill -0 "$serve_pid" 2>/dev/null; do rss_kib "$serve_pid"; sleep 0.05; done ) >"$out/rss.txt" &
sampler=$!
export_start=$(date +%s.%N)
curl -s -o "$out/export.csv" -H "Authorization: Bearer $key" "$url/v1/usage/export?$period&format=csv"
export_end=$(date +%s.%N)
kill "$sampler"; wait "$sampler" 2>/dev/null || true
peak=$(sort -n "$out/rss.txt" | tail -n 1)
lines=$(($(wc -l <"$out/export.csv") - 1))
sql=$("$bench" export-sql "$tenant" 2026-11-01T00:00:00Z 2026-12-01T00:00:00Z)
copy_start=$(date +%s.%N)
# What psql's \copy does: COPY … TO STDOUT, the rows streamed to the client.
psql -X -q "$(owner_url)" -c "COPY ($sql) TO STDOUT (FORMAT csv, HEADER)" >/dev/null
copy_end=$(date +%s.%N)
[ "$lines" -eq $((export_workspaces * export_intervals)) ] || { echo "bench.sh: the export had $lines rows, not $((export_workspaces * export_intervals))" >&2; exit 1; }
rate=$(python3 -c "print($lines / ($export_end - $export_start))")
copy_rate=$(python3 -c "print($lines / ($copy_end - $copy_start))")
row "5" "export of $lines rows as CSV: rows/s; peak RSS over the start" "$(num "$rate" 0) rows/s; +$(num "($peak-$before_kib)/1024" 1) MiB" "$(num "$copy_rate" 0) rows/s (psql COPY TO STDOUT)" "$(num "$rate/$copy_rate" 2)" "≥ 0.7 of the baseline, memory flat"
stop_serve

# 7. The cost of row-level security: the tenant's list query under RLS against the same query with
# an explicit tenant_id as the owner (who bypasses RLS).
# Both in the same number of round trips (BEGIN, the query, COMMIT), so the difference is what RLS
# costs the query, not a statement more.
cat >"$out/rls.sql" <<SQL
BEGIN \; SET LOCAL ROLE berth_tenant \; SELECT set_config('berth.tenant_id', '$tenant', true);
SELECT id, name, status, created_at FROM workspaces WHERE status <> 'deleted' ORDER BY created_at DESC, id DESC LIMIT 50;
COMMIT;
SQL
cat >"$out/norls.sql" <<SQL
BEGIN;
SELECT id, name, status, created_at FROM workspaces WHERE tenant_id = '$tenant' AND status <> 'deleted' ORDER BY created_at DESC, id DESC LIMIT 50;
COMMIT;
SQL
rls_tps=$(pgbench -n -c 8 -j 2 -T "$seconds" -f "$out/rls.sql" "$(app_url)" 2>/dev/null | awk '/^tps/ {print $3; exit}')
plain_tps=$(pgbench -n -c 8 -j 2 -T "$seconds" -f "$out/norls.sql" "$(owner_url)" 2>/dev/null | awk '/^tps/ {print $3; exit}')
need "pgbench RLS tps" "$rls_tps"; need "pgbench explicit tenant_id tps" "$plain_tps"
row "7" "tenant list query under RLS (tps)" "$(num "$rls_tps" 0) tps" "$(num "$plain_tps" 0) tps, explicit tenant_id" "$(num "$plain_tps/$rls_tps" 2)× slower" "≤ 10% slower"

{
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "| # | what | Berth | baseline (same run) | ratio | target |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$out/results.md"
