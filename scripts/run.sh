#!/usr/bin/env bash
# `make run`: PostgreSQL, the local workspace servers, migrations, then `berth serve` in the foreground.
# Every BERTH_* variable already set is kept; the others get local defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.local
mkdir -p "$state"

scripts/deps.sh
scripts/postgres.sh start

# Defaults from the local cluster, without overriding what the caller set.
default() { local name=$1 value=$2; [ -n "${!name:-}" ] || export "$name=$value"; }
pg_env=$(scripts/postgres.sh env)
pg_value() { printf '%s\n' "$pg_env" | sed -n "s/^export $1=//p"; }
default BERTH_DATABASE_URL "$(pg_value BERTH_DATABASE_URL)"
default BERTH_MIGRATE_DATABASE_URL "$(pg_value BERTH_MIGRATE_DATABASE_URL)"
default BERTH_HTTP_ADDRESS 127.0.0.1:8080
# The local fleet's git daemon serves git:// and its test server plain http://: allowed here only.
default BERTH_GIT_ALLOW_INSECURE true

# Secrets are generated once into .local/ (mode 600) and passed by file, never on a command line.
umask 077
[ -s "$state/admin-token" ] || od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$state/admin-token"
[ -s "$state/secret-key" ] || head -c 32 /dev/urandom | base64 > "$state/secret-key"
umask 022
[ -n "${BERTH_ADMIN_TOKEN:-}" ] || default BERTH_ADMIN_TOKEN_FILE "$PWD/$state/admin-token"
[ -n "${BERTH_SECRET_KEY:-}" ] || default BERTH_SECRET_KEY_FILE "$PWD/$state/secret-key"

if [ -x scripts/fleet.sh ]; then
    scripts/fleet.sh up
    fleet_env=$(scripts/fleet.sh env)
    default BERTH_WORKSPACE_SERVERS "$(printf '%s\n' "$fleet_env" | sed -n "s/^export BERTH_WORKSPACE_SERVERS=//p" | sed "s/^'//; s/'$//")"
fi

swift build --product berth
bin=$(swift build --show-bin-path)/berth
"$bin" migrate

echo
echo "Berth is starting on http://$BERTH_HTTP_ADDRESS"
if [ -n "${BERTH_ADMIN_TOKEN_FILE:-}" ]; then
    echo "Admin token: in $BERTH_ADMIN_TOKEN_FILE"
else
    echo "Admin token: the BERTH_ADMIN_TOKEN you set"
fi
echo "Create a tenant and key:  $bin tenant create --name demo && $bin apikey create --tenant demo"
if [ -n "${fleet_env:-}" ]; then
    echo "A sample repository to clone: $(printf '%s\n' "$fleet_env" | sed -n 's/^export BERTH_TEST_GIT_URL=//p')"
fi
echo
exec "$bin" serve
