#!/usr/bin/env bash
# The local fleet of workspace servers: several dockerd daemons side by side on loopback, one with
# mutual TLS, the workspace images built locally, and a git daemon for clone tests.
#
# Usage: scripts/fleet.sh up|install|certs|start|images|stop|status|env|kill NAME|start-one NAME|git-start|git-stop
# Settings: BERTH_FLEET_DIR (default <repo>/.local/fleet).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state=${BERTH_FLEET_DIR:-$repo/.local/fleet}
certs=$state/certs
cache=$state/cache
git_port=${BERTH_FLEET_GIT_PORT:-29418}

# name port mode: plain (HTTP), tls (mutual TLS), badcert (a server certificate not valid for 127.0.0.1).
# ws-spare-1 belongs to the health-monitor test, which kills and restarts it.
daemons=(
    "ws-local-1 23751 plain"
    "ws-local-2 23752 plain"
    "ws-spare-1 23753 plain"
    "ws-tls-1 23761 tls"
    "ws-badcert-1 23762 badcert"
)

die() { echo "fleet.sh: $*" >&2; exit 1; }
log() { echo "fleet.sh: $*" >&2; }

lookup() {
    local want=$1 d
    for d in "${daemons[@]}"; do
        read -r n p m <<<"$d"
        if [ "$n" = "$want" ]; then echo "$p $m"; return 0; fi
    done
    die "no daemon named $want"
}

install() {
    local need=()
    for pkg in docker.io debootstrap busybox-static openssl git curl iproute2; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing ${need[*]} and not root to install them"
    log "installing ${need[*]}"
    apt-get update -qq
    # policy-rc.d keeps the package from trying to start a system dockerd: each daemon here is our own.
    local policy=/usr/sbin/policy-rc.d created=
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    [ -n "$created" ] && rm -f "$policy"
    command -v dockerd >/dev/null || die "dockerd is missing after installing docker.io"
}

# --- certificates -----------------------------------------------------------------------------

issue() { # dir cn san eku ca-dir
    local dir=$1 cn=$2 san=$3 eku=$4 ca=$5
    mkdir -p "$dir"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/key.pem" -out "$dir/req.csr" -subj "/CN=$cn" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s' \
        "$eku" "${san:+subjectAltName=$san}" > "$dir/ext.cnf"
    openssl x509 -req -in "$dir/req.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" -CAcreateserial \
        -days 825 -sha256 -extfile "$dir/ext.cnf" -out "$dir/cert.pem" 2>/dev/null
    rm -f "$dir/req.csr" "$dir/ext.cnf"
    chmod 600 "$dir/key.pem"
}

make_ca() { # dir cn
    mkdir -p "$1"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/ca-key.pem" -out "$1/ca.pem" -days 825 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 600 "$1/ca-key.pem"
}

make_certs() {
    [ -f "$certs/.complete" ] && return 0
    command -v openssl >/dev/null || die "openssl is missing (run: scripts/fleet.sh install)"
    rm -rf "$certs"
    make_ca "$certs/ca" "Berth local fleet CA"
    make_ca "$certs/other-ca" "Some other CA"
    issue "$certs/server" "localhost" "IP:127.0.0.1,DNS:localhost" serverAuth "$certs/ca"
    issue "$certs/client" "berth" "" clientAuth "$certs/ca"
    issue "$certs/foreign-client" "intruder" "" clientAuth "$certs/other-ca"
    issue "$certs/wrong-host-server" "not-this-host.example" "DNS:not-this-host.example" serverAuth "$certs/ca"
    # Each folder a client or server reads holds ca.pem beside its cert.pem and key.pem.
    for d in server client foreign-client wrong-host-server; do cp "$certs/ca/ca.pem" "$certs/$d/ca.pem"; done
    touch "$certs/.complete"
}

# --- daemons ----------------------------------------------------------------------------------

sock() { echo "$state/$1/docker.sock"; }
dock() { local n=$1; shift; docker -H "unix://$(sock "$n")" "$@"; }
running() { local pidfile=$state/$1/dockerd.pid; [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
pinged() { curl -sf --max-time 2 --unix-socket "$(sock "$1")" http://localhost/_ping >/dev/null 2>&1; }

storage_driver() {
    if [ -f "$state/storage-driver" ]; then cat "$state/storage-driver"; return; fi
    # overlay2 when the kernel lets us mount it here, else vfs (slow and disk-hungry, but works anywhere).
    local t driver=vfs
    t=$(mktemp -d "$state/.overlay-probe.XXXX")
    mkdir -p "$t/lower" "$t/upper" "$t/work" "$t/merged"
    if mount -t overlay overlay -o "lowerdir=$t/lower,upperdir=$t/upper,workdir=$t/work" "$t/merged" 2>/dev/null; then
        umount "$t/merged"
        driver=overlay2
    fi
    rm -rf "$t"
    echo "$driver" > "$state/storage-driver"
    echo "$driver"
}

start_one() {
    local name=$1 port mode
    read -r port mode <<<"$(lookup "$name")"
    running "$name" && pinged "$name" && return 0
    command -v dockerd >/dev/null || die "dockerd is missing (run: scripts/fleet.sh install)"
    local dir=$state/$name driver
    mkdir -p "$dir/data" "$dir/exec"
    driver=$(storage_driver)
    local args=(
        --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid"
        -H "unix://$dir/docker.sock" -H "tcp://127.0.0.1:$port"
        --iptables=false --ip6tables=false --ip-masq=false --bridge=none
        --storage-driver "$driver" --log-level warn
    )
    case $mode in
        plain) ;;
        tls) args+=(--tlsverify --tlscacert "$certs/ca/ca.pem" --tlscert "$certs/server/cert.pem" --tlskey "$certs/server/key.pem") ;;
        badcert) args+=(--tlsverify --tlscacert "$certs/ca/ca.pem" --tlscert "$certs/wrong-host-server/cert.pem" --tlskey "$certs/wrong-host-server/key.pem") ;;
    esac
    rm -f "$dir/docker.sock" "$dir/dockerd.pid"
    nohup dockerd "${args[@]}" </dev/null >"$dir/dockerd.log" 2>&1 &
    local pid=$! deadline=$((SECONDS + 60))
    until pinged "$name"; do
        if [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$dir/dockerd.log" >&2
            die "$name did not come up (log: $dir/dockerd.log)"
        fi
        sleep 0.2
    done
}

start() {
    mkdir -p "$state"
    make_certs
    local d
    for d in "${daemons[@]}"; do read -r n _ _ <<<"$d"; start_one "$n"; done
}

stop_one() {
    local name=$1 dir=$state/$1 pid
    if [ -f "$dir/dockerd.pid" ]; then
        pid=$(cat "$dir/dockerd.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            local deadline=$((SECONDS + 30))
            while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/dockerd.pid"
    fi
    # Anything left that belongs to this daemon: its containerd, shims, or a dockerd without a pidfile.
    pkill -KILL -f -- "$dir/" 2>/dev/null || true
    local m
    for m in $(awk -v p="$dir/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
}

stop() {
    git_stop
    local d
    for d in "${daemons[@]}"; do read -r n _ _ <<<"$d"; stop_one "$n"; done
}

# --- images -----------------------------------------------------------------------------------

debian_mirror() {
    local uri
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
    [ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

workspace_rootfs() {
    local tarball=$cache/workspace-rootfs.tar
    [ -s "$tarball" ] && { echo "$tarball"; return; }
    mkdir -p "$cache"
    local root
    root=$(mktemp -d "$cache/rootfs.XXXX")
    log "debootstrap of the workspace image (once; cached in $cache)"
    debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" "$(debian_mirror)" >"$cache/debootstrap.log" 2>&1 \
        || { tail -n 20 "$cache/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed"; }
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    tar -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    echo "$tarball"
}

busybox_rootfs() {
    local tarball=$cache/busybox-rootfs.tar
    [ -s "$tarball" ] && { echo "$tarball"; return; }
    mkdir -p "$cache"
    local root
    root=$(mktemp -d "$cache/busybox.XXXX")
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root" "$root/proc" "$root/sys" "$root/dev"
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
    printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
    printf 'root:x:0:\n' > "$root/etc/group"
    chmod 1777 "$root/tmp"
    tar -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    echo "$tarball"
}

images() {
    command -v debootstrap >/dev/null || die "debootstrap is missing (run: scripts/fleet.sh install)"
    [ -x /bin/busybox ] || die "busybox-static is missing (run: scripts/fleet.sh install)"
    local busybox workspace d
    busybox=$(busybox_rootfs)
    workspace=$(workspace_rootfs)
    for d in "${daemons[@]}"; do
        read -r n _ _ <<<"$d"
        pinged "$n" || die "$n is not running (run: scripts/fleet.sh start)"
        dock "$n" image inspect berth-busybox:latest >/dev/null 2>&1 || dock "$n" import - berth-busybox:latest <"$busybox" >/dev/null
        dock "$n" image inspect berth-workspace:latest >/dev/null 2>&1 || dock "$n" import - berth-workspace:latest <"$workspace" >/dev/null
    done
}

# --- git daemon -------------------------------------------------------------------------------

git_start() {
    local base=$state/git pidfile=$state/git/daemon.pid
    mkdir -p "$base"
    if [ ! -d "$base/sample.git" ]; then
        local work
        work=$(mktemp -d)
        git -C "$work" init -q -b main
        printf '# sample\nA repository served by the local git daemon.\n' > "$work/README.md"
        git -C "$work" add README.md
        git -C "$work" -c user.name=berth -c user.email=berth@localhost commit -qm "first commit"
        git clone -q --bare "$work" "$base/sample.git"
        rm -rf "$work"
    fi
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
    git daemon --base-path="$base" --export-all --reuseaddr --listen=127.0.0.1 --port="$git_port" \
        --detach --pid-file="$pidfile" "$base"
    local deadline=$((SECONDS + 10))
    until git ls-remote "git://127.0.0.1:$git_port/sample.git" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "git daemon did not answer on port $git_port"
        sleep 0.2
    done
}

git_stop() {
    local pidfile=$state/git/daemon.pid
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
}

# --- reporting --------------------------------------------------------------------------------

status() {
    local d code=0
    for d in "${daemons[@]}"; do
        read -r n p m <<<"$d"
        if pinged "$n"; then echo "$n 127.0.0.1:$p $m up"; else echo "$n 127.0.0.1:$p $m down"; code=3; fi
    done
    return $code
}

env_lines() {
    cat <<ENV
export BERTH_FLEET_DIR=$state
export BERTH_TEST_DOCKER_PLAIN_1=127.0.0.1:23751
export BERTH_TEST_DOCKER_PLAIN_2=127.0.0.1:23752
export BERTH_TEST_DOCKER_SPARE=ws-spare-1=127.0.0.1:23753
export BERTH_TEST_DOCKER_TLS=127.0.0.1:23761
export BERTH_TEST_DOCKER_BADCERT=127.0.0.1:23762
export BERTH_TEST_DOCKER_CERTS=$certs
export BERTH_TEST_DOCKER_SOCKET=$state/ws-local-1/docker.sock
export BERTH_TEST_GIT_URL=git://127.0.0.1:$git_port/sample.git
export BERTH_WORKSPACE_SERVERS='[{"name":"ws-local-1","host":"127.0.0.1","docker_port":23751,"tls_enabled":false,"network_mode":"host","total_cpu":2,"total_memory_mb":4096,"total_disk_gb":20,"max_workspaces":20},{"name":"ws-local-2","host":"127.0.0.1","docker_port":23752,"tls_enabled":false,"network_mode":"host","total_cpu":2,"total_memory_mb":4096,"total_disk_gb":20,"max_workspaces":20}]'
ENV
}

case "${1:-}" in
    install) install ;;
    certs) mkdir -p "$state"; make_certs ;;
    start) start ;;
    start-one) [ -n "${2:-}" ] || die "usage: start-one NAME"; make_certs; start_one "$2" ;;
    kill) [ -n "${2:-}" ] || die "usage: kill NAME"; stop_one "$2" ;;
    images) images ;;
    git-start) git_start ;;
    git-stop) git_stop ;;
    stop) stop ;;
    status) status ;;
    env) env_lines ;;
    up) install; start; images; git_start ;;
    *) die "usage: scripts/fleet.sh up|install|certs|start|images|stop|status|env|kill NAME|start-one NAME|git-start|git-stop" ;;
esac
