#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for `make run` and `make test`, with Berth's three roles:
#   berth_owner   LOGIN, BYPASSRLS, owns the database; `berth migrate` and backups run as it
#   berth_app     LOGIN, the service's role: not superuser, not owner, no BYPASSRLS
#   berth_tenant  NOLOGIN, no BYPASSRLS; tenant transactions SET LOCAL ROLE to it
# Usage: scripts/postgres.sh install|start|stop|status|env|destroy
# Settings: BERTH_PG_DIR (default /var/tmp/berth-postgres-<checkout id>), BERTH_PG_PORT (default 55432).
#
# The cluster runs as the postgres user (PostgreSQL refuses root), who must reach its folder: a
# checkout under a private home (root's is mode 0700) is out of its reach, so by default the cluster
# lives outside the checkout, under /var/tmp, one per checkout (named after a digest of its path).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${BERTH_PG_DIR:-/var/tmp/berth-postgres-$(printf '%s' "$repo" | sha256sum | cut -c1-12)}
port=${BERTH_PG_PORT:-55432}
data=$dir/data
run=$dir/run
creds=$dir/credentials.env

die() { echo "postgres.sh: $*" >&2; exit 1; }

as_pg() {
    # PostgreSQL refuses to run as root: drop to the postgres user when we are root.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$d" ] && [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found (run: scripts/postgres.sh install)"
    echo "$d"
}

install() {
    local missing=()
    for pkg in postgresql libpq-dev postgresql-client; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]} and not root to install them"
        echo "postgres.sh: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # The Debian package may start its own cluster on 5432; ours does not need it.
    id postgres >/dev/null 2>&1 || die "the postgres system user is missing after install"
}

random_password() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# Where older versions of this script kept the cluster: inside the checkout. One still running there
# holds the port, so it is stopped (its data is a throwaway cluster's, and is left where it is).
retire_old_cluster() {
    local old=$repo/.local/postgres/data
    [ "$old" != "$data" ] && [ -f "$old/postmaster.pid" ] || return 0
    as_pg "$(bindir)/pg_ctl" -D "$old" status >/dev/null 2>&1 || return 0
    echo "postgres.sh: stopping the cluster an older version kept in $repo/.local/postgres" >&2
    as_pg "$(bindir)/pg_ctl" -D "$old" -m fast -w -t 60 stop >/dev/null || true
}

init_cluster() {
    [ -f "$data/PG_VERSION" ] && return 0
    mkdir -p "$dir" "$run"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir"; then
        die "the postgres user cannot reach $dir (a parent folder is private); set BERTH_PG_DIR to a folder it can reach"
    fi
    if [ ! -f "$creds" ]; then
        umask 077
        cat > "$creds" <<CREDS
PG_SUPERUSER_PASSWORD=$(random_password)
PG_OWNER_PASSWORD=$(random_password)
PG_APP_PASSWORD=$(random_password)
CREDS
        umask 022
    fi
    # shellcheck disable=SC1090
    . "$creds"
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "$PG_SUPERUSER_PASSWORD" > "$pwfile"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; chown postgres "$pwfile"; fi
    as_pg "$(bindir)/initdb" -D "$data" -U postgres --pwfile="$pwfile" -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
}

is_running() {
    [ -f "$data/postmaster.pid" ] && as_pg "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1
}

psql_super() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$port" -U postgres "$@"; }

start() {
    install
    retire_old_cluster
    init_cluster
    if ! is_running; then
        [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
        # fsync and friends are off: this cluster is thrown away, and tests should be fast.
        as_pg "$(bindir)/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 -o \
            "-c listen_addresses=127.0.0.1 -p $port -k $run -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
    fi
    # shellcheck disable=SC1090
    . "$creds"
    psql_super -d postgres <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'berth_owner') THEN
        CREATE ROLE berth_owner LOGIN CREATEDB;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'berth_app') THEN
        CREATE ROLE berth_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'berth_tenant') THEN
        CREATE ROLE berth_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
\$\$;
-- Migrations and backups read and write every tenant's rows: the owner bypasses row-level security
-- (the service's own role, berth_app, never does).
ALTER ROLE berth_owner BYPASSRLS PASSWORD '$PG_OWNER_PASSWORD';
ALTER ROLE berth_app PASSWORD '$PG_APP_PASSWORD';
GRANT berth_tenant TO berth_app;
SQL
    if ! psql_super -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'berth'" | grep -q 1; then
        psql_super -d postgres -c "CREATE DATABASE berth OWNER berth_owner"
    fi
}

stop() {
    [ -f "$data/PG_VERSION" ] || return 0
    if is_running; then as_pg "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null; fi
}

# Stops the cluster and removes its folder (make clean).
destroy() {
    stop
    case $dir in /|"") die "refusing to remove '$dir'" ;; esac
    rm -rf -- "$dir"
}

env_lines() {
    [ -f "$creds" ] || die "no cluster at $dir (run: scripts/postgres.sh start)"
    # shellcheck disable=SC1090
    . "$creds"
    cat <<ENV
export BERTH_PG_DIR=$dir
export BERTH_PG_PORT=$port
export BERTH_PG_BIN=$(bindir)
export BERTH_DATABASE_URL=postgresql://berth_app:$PG_APP_PASSWORD@127.0.0.1:$port/berth
export BERTH_MIGRATE_DATABASE_URL=postgresql://berth_owner:$PG_OWNER_PASSWORD@127.0.0.1:$port/berth
export BERTH_TEST_PG_SUPERUSER_URL=postgresql://postgres:$PG_SUPERUSER_PASSWORD@127.0.0.1:$port/postgres
export BERTH_TEST_PG_OWNER_PASSWORD=$PG_OWNER_PASSWORD
export BERTH_TEST_PG_APP_PASSWORD=$PG_APP_PASSWORD
ENV
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) if is_running; then echo running; else echo stopped; exit 3; fi ;;
    env) env_lines ;;
    destroy) destroy ;;
    *) die "usage: scripts/postgres.sh install|start|stop|status|env|destroy" ;;
esac
