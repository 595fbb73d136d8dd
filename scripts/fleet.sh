#!/usr/bin/env bash
# The local fleet of workspace servers: several dockerd daemons side by side on loopback (plain HTTP,
# mutual TLS, and one whose server certificate does not match 127.0.0.1), the workspace images built
# locally, and a git daemon for clone tests. No systemd, no registry, no internet beyond the apt mirror.
#
# Usage: scripts/fleet.sh COMMAND
#   up                 install + certs + start + images + git-start (what `make test` and `make run` call)
#   install            apt-get install what is missing (docker.io, debootstrap, busybox-static, ...)
#   certs              the CA, server, client and negative-test certificates under $STATE/certs
#   start              every daemon; a no-op for those already answering
#   images             berth-workspace:latest and berth-busybox:latest into every running daemon
#   stop               every daemon and the git daemon; no process or mount is left behind
#   kill NAME          stop one daemon          start-one NAME   start one daemon
#   git-start          the git daemon           git-stop         stop it
#   status             which daemons answer     env              `export` lines for tests and `make run`
#
# Settings: BERTH_FLEET_DIR (default <repo>/.local/fleet), BERTH_FLEET_BASE_PORT (default 23750: plain
# daemons on base+1.., TLS on base+11, bad certificate on base+12), BERTH_FLEET_GIT_PORT (default 29418;
# the authenticated smart-HTTP git server listens on the next port), BERTH_FLEET_SERVICE_ADDRESS (default
# 10.199.0.1: an address on the host's loopback interface where the git servers also listen, which
# workspaces on an `isolated` network reach while 127.0.0.1 stays out of their reach),
# BERTH_FLEET_STORAGE_DRIVER (default: overlay2 when it mounts here, else vfs).
set -euo pipefail
shopt -s extglob

repo=$(cd "$(dirname "$0")/.." && pwd)
state=${BERTH_FLEET_DIR:-$repo/.local/fleet}
case $state in /*) ;; *) state=$PWD/$state ;; esac
certs=$state/certs
cache=$state/cache
base_port=${BERTH_FLEET_BASE_PORT:-23750}
git_port=${BERTH_FLEET_GIT_PORT:-29418}
http_port=$((git_port + 1))
service_address=${BERTH_FLEET_SERVICE_ADDRESS:-10.199.0.1}
start_timeout=60
stop_timeout=30

# name port mode: plain (HTTP), tls (mutual TLS), badcert (a server certificate not valid for 127.0.0.1).
# ws-spare-1 belongs to the health-monitor test, which kills and restarts it; ws-panel-1 to the
# browser test, which adds it through the panel; ws-chaos-1 to the fault suite (scripts/chaos.sh),
# which kills and restarts it under load: each has its own, so none can see another's.
daemons=(
    "ws-local-1 $((base_port + 1)) plain"
    "ws-local-2 $((base_port + 2)) plain"
    "ws-spare-1 $((base_port + 3)) plain"
    "ws-panel-1 $((base_port + 4)) plain"
    "ws-chaos-1 $((base_port + 5)) plain"
    "ws-tls-1 $((base_port + 11)) tls"
    "ws-badcert-1 $((base_port + 12)) badcert"
)
packages=(docker.io debootstrap busybox-static openssl git curl iproute2 ca-certificates)

die() { echo "fleet.sh: $*" >&2; exit 1; }
log() { echo "fleet.sh: $*" >&2; }
names() { local d; for d in "${daemons[@]}"; do echo "${d%% *}"; done; }

lookup() { # NAME -> "port mode"
    local want=$1 d n p m
    for d in "${daemons[@]}"; do
        read -r n p m <<<"$d"
        if [ "$n" = "$want" ]; then echo "$p $m"; return 0; fi
    done
    die "no daemon named '$want' (known: $(names | tr '\n' ' '))"
}
port_of() { local p; read -r p _ <<<"$(lookup "$1")"; echo "$p"; }

need_cmd() { # command package
    command -v "$1" >/dev/null 2>&1 || die "$1 is missing (package $2; run: scripts/fleet.sh install)"
}

# One fleet.sh at a time changes the fleet. Children never inherit the lock's descriptor (9>&-).
lock() {
    mkdir -p "$state"
    exec 9>"$state/.lock"
    flock -w 600 9 || die "another scripts/fleet.sh has held $state/.lock for 10 minutes"
}

# --- install ----------------------------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install() {
    local need=() pkg
    for pkg in "${packages[@]}"; do installed "$pkg" || need+=("$pkg"); done
    if [ ${#need[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing packages ${need[*]}, and installing them needs root"
        command -v apt-get >/dev/null || die "missing packages ${need[*]}, and there is no apt-get to install them"
        log "installing ${need[*]}"
        # No systemd here, and the daemons are our own: policy-rc.d (exit 101) keeps docker.io's and
        # containerd's maintainer scripts from starting a system dockerd through invoke-rc.d.
        local policy=/usr/sbin/policy-rc.d created=''
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created=1
            trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        export DEBIAN_FRONTEND=noninteractive
        local apt=(apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
        # apt-get update once, and only when the lists are missing or do not know a package.
        local updated=
        if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 \
            || apt-cache policy "${need[@]}" 2>/dev/null | grep -q 'Candidate: (none)' \
            || [ "$(apt-cache policy "${need[@]}" 2>/dev/null | grep -c 'Candidate:')" -lt ${#need[@]} ]; then
            apt-get update -q >"$state/apt.log" 2>&1 || { tail -n 20 "$state/apt.log" >&2; die "apt-get update failed"; }
            updated=1
        fi
        if ! "${apt[@]}" install --no-install-recommends "${need[@]}" >>"$state/apt.log" 2>&1; then
            # Stale lists point at versions the mirror no longer has: refresh once and retry.
            local ok=
            if [ -z "$updated" ] && apt-get update -q >>"$state/apt.log" 2>&1; then
                "${apt[@]}" install --no-install-recommends "${need[@]}" >>"$state/apt.log" 2>&1 && ok=1
            fi
            [ -n "$ok" ] || { tail -n 30 "$state/apt.log" >&2; die "apt-get install ${need[*]} failed (log: $state/apt.log)"; }
        fi
        if [ -n "$created" ]; then rm -f "$policy"; trap - EXIT; fi
    fi
    local c
    for c in dockerd:docker.io docker:docker.io containerd:containerd runc:runc debootstrap:debootstrap \
             openssl:openssl git:git curl:curl ss:iproute2 flock:util-linux; do
        need_cmd "${c%%:*}" "${c#*:}"
    done
    static_busybox
}

static_busybox() {
    [ -x /bin/busybox ] || die "/bin/busybox is missing (package busybox-static; run: scripts/fleet.sh install)"
    if ldd /bin/busybox >/dev/null 2>&1; then
        die "/bin/busybox is dynamically linked (package busybox, not busybox-static): it cannot run in an empty image; apt-get install busybox-static"
    fi
}

# --- certificates -----------------------------------------------------------------------------

cert_files=(
    ca/ca.pem ca/ca-key.pem other-ca/ca.pem other-ca/ca-key.pem
    server/ca.pem server/cert.pem server/key.pem
    client/ca.pem client/cert.pem client/key.pem
    foreign-client/ca.pem foreign-client/cert.pem foreign-client/key.pem
    wrong-host-server/ca.pem wrong-host-server/cert.pem wrong-host-server/key.pem
)

certs_ok() {
    local f
    for f in "${cert_files[@]}"; do [ -s "$certs/$f" ] || return 1; done
    # Regenerate a month before anything expires.
    for f in ca/ca.pem server/cert.pem client/cert.pem; do
        openssl x509 -checkend 2592000 -noout -in "$certs/$f" >/dev/null 2>&1 || return 1
    done
}

make_ca() { # dir cn
    mkdir -p "$1"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
        -keyout "$1/ca-key.pem" -out "$1/ca.pem" -days 825 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" 2>"$1/openssl.log" || { cat "$1/openssl.log" >&2; die "could not create the CA in $1"; }
    rm -f "$1/openssl.log"
    chmod 600 "$1/ca-key.pem"
}

issue() { # dir cn san eku ca-dir
    local dir=$1 cn=$2 san=$3 eku=$4 ca=$5
    mkdir -p "$dir"
    {
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$dir/key.pem" -out "$dir/req.csr" -subj "/CN=$cn"
        printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n%s\n' \
            "$eku" "${san:+subjectAltName=$san}" >"$dir/ext.cnf"
        openssl x509 -req -in "$dir/req.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
            -days 825 -sha256 -extfile "$dir/ext.cnf" -out "$dir/cert.pem"
    } 2>"$dir/openssl.log" || { cat "$dir/openssl.log" >&2; die "could not issue the certificate in $dir"; }
    rm -f "$dir/req.csr" "$dir/ext.cnf" "$dir/openssl.log"
    chmod 600 "$dir/key.pem"
}

make_certs() {
    certs_ok && return 0
    need_cmd openssl openssl
    log "generating certificates in $certs"
    rm -rf "$certs.new"
    local out=$certs.new
    make_ca "$out/ca" "Berth local fleet CA"
    make_ca "$out/other-ca" "Some other CA"
    issue "$out/server" "localhost" "IP:127.0.0.1,DNS:localhost" serverAuth "$out/ca"
    issue "$out/client" "berth" "" clientAuth "$out/ca"
    # Negative tests: a client certificate from a CA the daemon does not trust (ca.pem is the real CA,
    # so the client trusts the server), and a server certificate from the real CA for another host.
    issue "$out/foreign-client" "intruder" "" clientAuth "$out/other-ca"
    issue "$out/wrong-host-server" "not-this-host.example" "DNS:not-this-host.example" serverAuth "$out/ca"
    # Every folder a client or server reads is a cert_path: ca.pem beside cert.pem and key.pem.
    local d
    for d in server client foreign-client wrong-host-server; do cp "$out/ca/ca.pem" "$out/$d/ca.pem"; done
    openssl verify -CAfile "$out/ca/ca.pem" "$out/server/cert.pem" "$out/client/cert.pem" >/dev/null \
        || die "the generated certificates do not verify against their CA"
    rm -rf "$certs"
    mv "$out" "$certs"
}

# --- processes --------------------------------------------------------------------------------

alive() { # pid: running and not a zombie
    local s
    [ -r "/proc/$1/stat" ] || return 1
    s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

wait_gone() { # pid seconds
    local deadline=$((SECONDS + $2))
    while alive "$1"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }

# dockerd, containerd and shim processes whose command line names a path under DIR/ (this daemon's).
fleet_pids() { # dir [program-pattern]
    local dir=$1/ pattern=${2:-'@(dockerd|containerd|containerd-shim*|docker-proxy)'} p cmd exe
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = $$ ] && continue
        cmd=$(cmdline "$p")
        case $cmd in *"$dir"*) ;; *) continue ;; esac
        exe=${cmd%% *}; exe=${exe##*/}
        # shellcheck disable=SC2254
        case $exe in $pattern) echo "$p" ;; esac
    done
    return 0
}

# The init process of each container runc still knows under this daemon (checked against pid reuse).
container_pids() { # dir
    local f pid start
    for f in "$1"/exec/runtime-runc/moby/*/state.json; do
        [ -f "$f" ] || continue
        pid=$(grep -o '"init_process_pid":[0-9]*' "$f" | head -n 1 | cut -d: -f2)
        start=$(grep -o '"init_process_start":[0-9]*' "$f" | head -n 1 | cut -d: -f2)
        [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || continue
        [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$start" ] && echo "$pid"
    done
    return 0
}

# Unmounts everything mounted under DIR/, deepest first.
umount_under() { # dir
    local m mounts
    mapfile -t mounts < <(awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r)
    for m in "${mounts[@]}"; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done
}

# --- daemons ----------------------------------------------------------------------------------

sock() { echo "$state/$1/docker.sock"; }
dock() { local n=$1; shift; docker -H "unix://$(sock "$n")" "$@"; }
pinged() { [ "$(curl -s --max-time 3 --unix-socket "$(sock "$1")" http://localhost/_ping 2>/dev/null)" = OK ]; }

dockerd_pid() { # NAME -> the pid of this daemon's dockerd, if it runs
    local dir=$state/$1 pid
    if [ -f "$dir/dockerd.pid" ]; then
        pid=$(cat "$dir/dockerd.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && alive "$pid" && [[ $(cmdline "$pid") == *dockerd*"$dir/"* ]]; then echo "$pid"; return 0; fi
    fi
    pid=$(fleet_pids "$dir" dockerd | head -n 1)
    [ -n "$pid" ] && { echo "$pid"; return 0; }
    return 1
}

storage_driver() {
    if [ -n "${BERTH_FLEET_STORAGE_DRIVER:-}" ]; then echo "$BERTH_FLEET_STORAGE_DRIVER"; return; fi
    if [ -s "$state/storage-driver" ]; then cat "$state/storage-driver"; return; fi
    # overlay2 when the kernel lets us mount overlayfs on this file system, else vfs (slow, disk-hungry,
    # works anywhere). dockerd itself would make the same test, on the same file system.
    local t driver=vfs
    t=$(mktemp -d "$state/.overlay-probe.XXXX")
    mkdir -p "$t/l1" "$t/l2" "$t/upper" "$t/work" "$t/merged"
    if mount -t overlay overlay -o "lowerdir=$t/l1:$t/l2,upperdir=$t/upper,workdir=$t/work" "$t/merged" 2>/dev/null; then
        umount "$t/merged"
        driver=overlay2
    fi
    rm -rf "$t"
    echo "$driver" >"$state/storage-driver"
    log "storage driver: $driver (recorded in $state/storage-driver)"
    echo "$driver"
}

launch() { # NAME: starts dockerd in the background, does not wait
    local name=$1 port mode dir=$state/$1 driver
    read -r port mode <<<"$(lookup "$name")"
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
        die "port 127.0.0.1:$port for $name is taken by another process: $(ss -Hltnp "sport = :$port" | head -n 1)"
    fi
    driver=$(storage_driver)
    mkdir -p "$dir/data" "$dir/exec"
    # Each daemon gets networks from a range of its own: two daemons on one host must never make
    # bridges with the same subnet (workspaces on `isolated` servers each get a /24 from it).
    local index=0 d
    for d in "${daemons[@]}"; do index=$((index + 1)); [ "${d%% *}" = "$name" ] && break; done
    local args=(
        --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid"
        -H "unix://$dir/docker.sock" -H "tcp://127.0.0.1:$port"
        --iptables=false --ip6tables=false --ip-masq=false --bridge=none
        --storage-driver "$driver" --shutdown-timeout 5 --log-level warn
        --default-address-pool "base=10.$((200 + index)).0.0/16,size=24"
    )
    case $mode in
        plain) ;;
        tls) args+=(--tlsverify --tlscacert "$certs/ca/ca.pem" --tlscert "$certs/server/cert.pem" --tlskey "$certs/server/key.pem") ;;
        badcert) args+=(--tlsverify --tlscacert "$certs/ca/ca.pem" --tlscert "$certs/wrong-host-server/cert.pem" --tlskey "$certs/wrong-host-server/key.pem") ;;
    esac
    rm -f "$dir/docker.sock" "$dir/dockerd.pid"
    # Its own session, so a Ctrl-C on `make test` does not take the fleet down with it.
    setsid dockerd "${args[@]}" </dev/null >"$dir/dockerd.log" 2>&1 9>&- &
}

await() { # NAME deadline
    local name=$1 deadline=$2 dir=$state/$1
    until pinged "$name"; do
        if [ $SECONDS -ge "$deadline" ] || ! dockerd_pid "$name" >/dev/null; then
            echo "---- last lines of $dir/dockerd.log ----" >&2
            tail -n 30 "$dir/dockerd.log" >&2 2>/dev/null || true
            if dockerd_pid "$name" >/dev/null; then
                die "$name runs but did not answer GET /_ping on $(sock "$name") within $start_timeout s (log: $dir/dockerd.log; scripts/fleet.sh kill $name)"
            fi
            die "$name exited while starting (log: $dir/dockerd.log)"
        fi
        sleep 0.2
    done
}

start_daemons() { # NAME...: starts those not running, side by side, then waits for each
    local name launched=()
    need_cmd dockerd docker.io
    need_cmd containerd containerd
    need_cmd curl curl
    need_cmd docker docker.io
    # Unix sockets have a 108-byte limit; the longest one is containerd's ttrpc socket.
    local longest="$state/ws-badcert-1/exec/containerd/containerd.sock.ttrpc"
    [ ${#longest} -lt 108 ] || die "BERTH_FLEET_DIR=$state is too long for unix socket paths (${#longest} bytes with $longest; keep it under ~60 characters)"
    make_certs
    for name in "$@"; do
        lookup "$name" >/dev/null
        if dockerd_pid "$name" >/dev/null; then continue; fi   # running (or still starting): just wait
        launch "$name"
        launched+=("$name")
    done
    local deadline=$((SECONDS + start_timeout))
    for name in "$@"; do await "$name" "$deadline"; done
    [ ${#launched[@]} -eq 0 ] || log "started ${launched[*]}"
    # An image that went missing (a wiped data-root) comes back from the cache.
    for name in "$@"; do import_cached "$name"; done
}

start() { local all; mapfile -t all < <(names); start_daemons "${all[@]}"; }

# Stops the named daemons side by side: SIGTERM to each (dockerd stops its containers, waiting
# max(--shutdown-timeout, stop timeout + 5 s) = 15 s for a container that ignores SIGTERM, then
# stops its own containerd), SIGKILL after $stop_timeout s, then whatever outlived them.
stop_daemons() { # NAME...
    local name pid pids=() deadline=$((SECONDS + stop_timeout))
    for name in "$@"; do
        lookup "$name" >/dev/null
        if pid=$(dockerd_pid "$name"); then kill -TERM "$pid" 2>/dev/null || true; pids+=("$name:$pid"); fi
    done
    for pid in ${pids[@]+"${pids[@]}"}; do
        if ! wait_gone "${pid#*:}" $((deadline - SECONDS)); then
            log "${pid%%:*} did not stop within $stop_timeout s; killing it"
            kill -KILL "${pid#*:}" 2>/dev/null || true
            wait_gone "${pid#*:}" 5 || true
        fi
    done
    for name in "$@"; do clean_up "$name"; done
}

clean_up() { # NAME: containers, shims, containerd or a dockerd without pidfile that outlived it
    local dir=$state/$1 p left
    for p in $(container_pids "$dir"); do kill -KILL "$p" 2>/dev/null || true; done
    left=$(fleet_pids "$dir")
    if [ -n "$left" ]; then
        log "$1: ending leftover processes $(echo "$left" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        kill -TERM $left 2>/dev/null || true
        for p in $left; do wait_gone "$p" 5 || kill -KILL "$p" 2>/dev/null || true; done
        for p in $left; do wait_gone "$p" 5 || log "process $p ($(cmdline "$p")) survived SIGKILL"; done
    fi
    # Mounts dockerd leaves when it dies: its data-root bind mount, overlay and shm mounts, netns.
    umount_under "$dir"
    rm -f "$dir/dockerd.pid" "$dir/docker.sock"
}

stop() {
    git_stop
    local all
    mapfile -t all < <(names)
    stop_daemons "${all[@]}"
    # Mounts from an interrupted debootstrap, or anything else under the state folder.
    umount_under "$state"
}

# --- images -----------------------------------------------------------------------------------

debian_mirror() {
    local uri='' f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
            { t = u = s = ""; on = 1
              for (i = 1; i <= NF; i++) { l = $i
                  if (l ~ /^#/) continue
                  if (l ~ /^Types:/) t = l; else if (l ~ /^URIs:/) u = l; else if (l ~ /^Suites:/) s = l
                  else if (l ~ /^Enabled:[ \t]*(no|false)/) on = 0 }
              if (on && t ~ /[ \t]deb([ \t]|$)/ && s ~ /[ \t]bookworm([ \t]|$)/) { split(u, a, /[ \t]+/); print a[2]; exit } }' "$f")
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
            $1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                          if ($(i + 1) == "bookworm") { print $i; exit } }')
    fi
    case $uri in http://*|https://*|file:/*) echo "${uri%/}" ;; *) echo http://deb.debian.org/debian ;; esac
}

workspace_rootfs() {
    local tarball=$cache/workspace-rootfs.tar
    [ -s "$tarball" ] && { echo "$tarball"; return; }
    need_cmd debootstrap debootstrap
    mkdir -p "$cache"
    local root mirror
    mirror=$(debian_mirror)
    root=$(mktemp -d "$cache/rootfs.XXXX")
    log "debootstrap of berth-workspace from $mirror (once; cached as $tarball)"
    if ! debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1; then
        tail -n 20 "$cache/debootstrap.log" >&2
        umount_under "$root"
        rm -rf --one-file-system "$root"
        die "debootstrap failed (log: $cache/debootstrap.log)"
    fi
    umount_under "$root"
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/debootstrap"
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf --one-file-system "$root"
    echo "$tarball"
}

busybox_rootfs() {
    local tarball=$cache/busybox-rootfs.tar
    [ -s "$tarball" ] && { echo "$tarball"; return; }
    static_busybox
    mkdir -p "$cache"
    local root applet
    root=$(mktemp -d "$cache/busybox.XXXX")
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,root,proc,sys,dev,var/tmp}
    cp /bin/busybox "$root/bin/busybox"
    # What `busybox --install -s` does, but with links to /bin/busybox inside the image rather than
    # to the host's own path of the binary.
    for applet in $(/bin/busybox --list-full); do
        case $applet in bin/busybox|linuxrc) ;; *) ln -sf /bin/busybox "$root/$applet" ;; esac
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    chmod 1777 "$root/tmp" "$root/var/tmp"
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    echo "$tarball"
}

import_image() { # NAME image tarball
    dock "$1" image inspect "$2" >/dev/null 2>&1 && return 0
    dock "$1" import - "$2" <"$3" >/dev/null || die "could not import $2 into $1"
    log "imported $2 into $1"
}

import_cached() { # NAME: re-imports the images whose tarball is cached (no build)
    [ -s "$cache/busybox-rootfs.tar" ] && import_image "$1" berth-busybox:latest "$cache/busybox-rootfs.tar"
    [ -s "$cache/workspace-rootfs.tar" ] && import_image "$1" berth-workspace:latest "$cache/workspace-rootfs.tar"
    return 0
}

images() {
    need_cmd docker docker.io
    local busybox workspace n up=()
    busybox=$(busybox_rootfs)
    workspace=$(workspace_rootfs)
    for n in $(names); do
        if pinged "$n"; then up+=("$n"); else log "$n is not running; skipping its images (scripts/fleet.sh start-one $n)"; fi
    done
    [ ${#up[@]} -gt 0 ] || die "no daemon is running (run: scripts/fleet.sh start)"
    for n in "${up[@]}"; do
        import_image "$n" berth-busybox:latest "$busybox"
        import_image "$n" berth-workspace:latest "$workspace"
    done
}

# --- git daemon -------------------------------------------------------------------------------

git_pid() {
    local pidfile=$state/git/daemon.pid pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && alive "$pid" && [[ $(cmdline "$pid") == *git*daemon*"$state/git"* ]] && echo "$pid"
}

# The address on the host's loopback interface that workspaces on an `isolated` network reach the
# git servers at: packets to it arrive over their bridge and are delivered locally, while whatever
# listens on 127.0.0.1 only (the engines, PostgreSQL, Berth) stays out of their reach.
service_address_up() {
    need_cmd ip iproute2
    ip -4 addr show dev lo | grep -q "inet $service_address/" && return 0
    [ "$(id -u)" = 0 ] || die "adding $service_address to the loopback interface needs root"
    ip addr add "$service_address/32" dev lo || die "could not add $service_address to the loopback interface"
}

make_repo() { # bare-path: a bare repository with a main branch (one file) and a second branch
    local bare=$1 work
    # Made by an older fleet.sh (no feature branch): made again.
    [ -f "$bare/HEAD" ] && git --git-dir="$bare" rev-parse --verify -q feature >/dev/null && return 0
    work=$(mktemp -d)
    git -C "$work" init -q -b main
    printf '# %s\n\nA repository served by the local fleet.\n' "$(basename "$bare" .git)" >"$work/README.md"
    mkdir -p "$work/src/nested"
    printf 'hello from %s\n' "$(basename "$bare" .git)" >"$work/src/nested/hello.txt"
    git -C "$work" add -A
    git -C "$work" -c user.name=berth -c user.email=berth@localhost commit -qm "First commit"
    git -C "$work" checkout -q -b feature
    printf 'on the feature branch\n' >"$work/FEATURE.md"
    git -C "$work" add -A
    git -C "$work" -c user.name=berth -c user.email=berth@localhost commit -qm "A feature"
    git -C "$work" checkout -q main
    rm -rf "$bare"
    git clone -q --bare "$work" "$bare"
    rm -rf "$work"
}

make_super_repo() { # bare-path submodule-url: a repository with the sample repository as a submodule at lib/sample
    local bare=$1 url=$2 work
    [ -f "$bare/HEAD" ] && return 0
    work=$(mktemp -d)
    git -C "$work" init -q -b main
    printf '# with-submodule\n\nCarries sample.git at lib/sample.\n' >"$work/README.md"
    # Added from the local bare copy (no daemon needed yet), then pointed at the git daemon's URL.
    git -C "$work" -c protocol.file.allow=always submodule add -q "$state/git/sample.git" lib/sample >/dev/null
    git -C "$work" config -f .gitmodules submodule.lib/sample.url "$url"
    git -C "$work" add -A
    git -C "$work" -c user.name=berth -c user.email=berth@localhost commit -qm "With a submodule"
    rm -rf "$bare"
    git clone -q --bare "$work" "$bare"
    rm -rf "$work"
}

git_start() {
    need_cmd git git
    need_cmd python3 python3
    service_address_up
    local base=$state/git pidfile=$state/git/daemon.pid
    mkdir -p "$base" "$state/git-http"
    make_repo "$base/sample.git"
    make_repo "$state/git-http/private.git"
    make_super_repo "$base/with-submodule.git" "git://$service_address:$git_port/sample.git"
    [ -s "$state/git-http/token" ] || (umask 077; od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$state/git-http/token")
    if ! git_pid >/dev/null; then
        if ss -Hltn "sport = :$git_port" 2>/dev/null | grep -q .; then
            die "port $git_port for the git daemon is taken by another process: $(ss -Hltnp "sport = :$git_port" | head -n 1)"
        fi
        rm -f "$pidfile"
        git daemon --base-path="$base" --export-all --reuseaddr --listen=127.0.0.1 --listen="$service_address" --port="$git_port" \
            --detach --pid-file="$pidfile" "$base" 9>&-
    fi
    if ! http_pid >/dev/null; then
        if ss -Hltn "sport = :$http_port" 2>/dev/null | grep -q .; then
            die "port $http_port for the git HTTP server is taken by another process: $(ss -Hltnp "sport = :$http_port" | head -n 1)"
        fi
        setsid python3 "$repo/scripts/git-http-server.py" "$service_address" "$http_port" "$state/git-http" berth "$state/git-http/token" \
            </dev/null >"$state/git-http/server.log" 2>&1 9>&- &
        echo $! >"$state/git-http/server.pid"
    fi
    local deadline=$((SECONDS + 10)) token
    token=$(cat "$state/git-http/token")
    until git ls-remote "git://$service_address:$git_port/sample.git" >/dev/null 2>&1 \
        && git -c "http.extraHeader=Authorization: Basic $(printf 'berth:%s' "$token" | base64 -w0)" ls-remote "http://$service_address:$http_port/private.git" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "the git servers did not answer on $service_address:$git_port and :$http_port within 10 s (log: $state/git-http/server.log)"
        sleep 0.2
    done
}

http_pid() {
    local pidfile=$state/git-http/server.pid pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && alive "$pid" && [[ $(cmdline "$pid") == *git-http-server.py* ]] && echo "$pid"
}

git_stop() {
    local pid
    for pid in "$(git_pid || true)" "$(http_pid || true)"; do
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$state/git/daemon.pid" "$state/git-http/server.pid"
}

# --- reporting --------------------------------------------------------------------------------

status() {
    local d n p m code=0
    for d in "${daemons[@]}"; do
        read -r n p m <<<"$d"
        if pinged "$n"; then echo "$n 127.0.0.1:$p $m up"; else echo "$n 127.0.0.1:$p $m down"; code=3; fi
    done
    if git_pid >/dev/null; then echo "git git://$service_address:$git_port/ up"; else echo "git git://$service_address:$git_port/ down"; code=3; fi
    if http_pid >/dev/null; then echo "git-http http://$service_address:$http_port/ up"; else echo "git-http http://$service_address:$http_port/ down"; code=3; fi
    [ -s "$state/storage-driver" ] && echo "storage-driver $(cat "$state/storage-driver")"
    return $code
}

server_json() { # NAME
    printf '{"name":"%s","host":"127.0.0.1","docker_port":%s,"tls_enabled":false,"network_mode":"isolated","total_cpu":2,"total_memory_mb":4096,"total_disk_gb":20,"max_workspaces":20}' \
        "$1" "$(port_of "$1")"
}

env_lines() {
    cat <<ENV
export BERTH_FLEET_DIR=$state
export BERTH_TEST_DOCKER_PLAIN_1=127.0.0.1:$(port_of ws-local-1)
export BERTH_TEST_DOCKER_PLAIN_2=127.0.0.1:$(port_of ws-local-2)
export BERTH_TEST_DOCKER_SPARE=ws-spare-1=127.0.0.1:$(port_of ws-spare-1)
export BERTH_TEST_DOCKER_PANEL=ws-panel-1=127.0.0.1:$(port_of ws-panel-1)
export BERTH_TEST_DOCKER_CHAOS=ws-chaos-1=127.0.0.1:$(port_of ws-chaos-1)
export BERTH_TEST_DOCKER_TLS=127.0.0.1:$(port_of ws-tls-1)
export BERTH_TEST_DOCKER_BADCERT=127.0.0.1:$(port_of ws-badcert-1)
export BERTH_TEST_DOCKER_CERTS=$certs
export BERTH_TEST_DOCKER_SOCKET=$(sock ws-local-1)
export BERTH_TEST_GIT_URL=git://$service_address:$git_port/sample.git
export BERTH_TEST_GIT_SUBMODULE_URL=git://$service_address:$git_port/with-submodule.git
export BERTH_TEST_GIT_HTTP_URL=http://$service_address:$http_port/private.git
export BERTH_TEST_GIT_HTTP_USER=berth
export BERTH_TEST_GIT_HTTP_TOKEN=$(cat "$state/git-http/token" 2>/dev/null)
export BERTH_WORKSPACE_SERVERS='[$(server_json ws-local-1),$(server_json ws-local-2)]'
ENV
}

usage() { sed -n '5,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

case "${1:-}" in
    install) lock; install ;;
    certs) lock; make_certs ;;
    start) lock; start ;;
    start-one) [ -n "${2:-}" ] || die "usage: scripts/fleet.sh start-one NAME"; lookup "$2" >/dev/null; lock; start_daemons "$2" ;;
    kill) [ -n "${2:-}" ] || die "usage: scripts/fleet.sh kill NAME"; lookup "$2" >/dev/null; lock; stop_daemons "$2" ;;
    images) lock; images ;;
    git-start) lock; git_start ;;
    git-stop) lock; git_stop ;;
    stop) lock; stop ;;
    status) status ;;
    env) env_lines ;;
    up) lock; install; make_certs; start; images; git_start ;;
    -h|--help|help) usage ;;
    *) echo "fleet.sh: unknown command '${1:-}'" >&2; usage ;;
esac
