#!/usr/bin/env bash
# Validates docker-compose.yml for both profiles with Debian's docker-compose (no image registry is
# reachable here, so the deployment is checked, not run): the file parses, each profile has the
# services the reference deployment promises, every BERTH_WORKSPACE_SERVERS is a JSON list, and the
# Dockerfile it builds has its two stages, a non-root user and a health check on /ready.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker-compose >/dev/null || { echo "compose-check.sh: docker-compose is missing (apt-get install docker-compose)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "compose-check.sh: python3 is missing" >&2; exit 1; }

check() { # PROFILE-ARGS... -- EXPECTED SERVICES...
    local args=() expected=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    expected=("$@")
    docker-compose -f docker-compose.yml "${args[@]}" config -q
    local services
    services=$(docker-compose -f docker-compose.yml "${args[@]}" config --services | sort | tr '\n' ' ')
    for service in "${expected[@]}"; do
        case " $services" in *" $service "*) ;; *) echo "compose-check.sh: ${args[*]:-default}: no service $service (has: $services)" >&2; exit 1 ;; esac
    done
    docker-compose -f docker-compose.yml "${args[@]}" config | python3 -c '
import json, sys, yaml
config = yaml.safe_load(sys.stdin)
for name, service in config["services"].items():
    servers = (service.get("environment") or {}).get("BERTH_WORKSPACE_SERVERS")
    if servers is not None:
        parsed = json.loads(servers)
        assert isinstance(parsed, list) and parsed and all("name" in s and "host" in s for s in parsed), name
        if any(s.get("tls_enabled") for s in parsed):
            assert all(s.get("cert_path") for s in parsed if s.get("tls_enabled")), name + ": a TLS server without cert_path"
    if "healthcheck" not in service and name not in ("certs",):
        sys.exit("compose-check.sh: " + name + " has no healthcheck")
'
    echo "compose-check.sh: ${args[*]:-default profile}: ${expected[*]} valid"
}
check -- postgres ws-local-1 ws-local-2 berth
check --profile tls -- postgres ws-local-1 ws-local-2 berth certs ws-tls-1 ws-tls-2 berth-tls
grep -q '^FROM .* AS build$' Dockerfile && grep -q '^FROM debian:bookworm-slim$' Dockerfile \
    && grep -q '^USER berth$' Dockerfile && grep -q 'HEALTHCHECK .*' Dockerfile && grep -q '/ready' Dockerfile \
    || { echo "compose-check.sh: the Dockerfile lost a stage, its non-root user or its /ready health check" >&2; exit 1; }
echo "compose-check.sh: Dockerfile: two stages, non-root, health check on /ready"
