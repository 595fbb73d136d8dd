#!/usr/bin/env bash
# Installs the system packages Berth builds against, when missing: libpq, libcurl, OpenSSL, pkg-config,
# and any packages named as arguments (the browser test asks for chromium and its driver).
set -euo pipefail
need=()
for pkg in libpq-dev libcurl4-openssl-dev libssl-dev pkg-config "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing ${need[*]}; install them with apt-get as root" >&2
    exit 1
fi
echo "deps.sh: installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
