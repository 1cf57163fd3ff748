#!/usr/bin/env bash
# A one-replica OpenStack Swift (Debian's packages) on 127.0.0.1, with tempauth and the
# s3api middleware: the object store the tests and a swift:// demo run against.
#
#   swift_aio.sh start STATE_DIR   builds rings, starts memcached + 4 servers, waits for
#                                  /healthcheck, prints `export` lines for drc stage
#   swift_aio.sh stop STATE_DIR    stops what `start` started, by pid, and waits
#
# Ports: SWIFT_AIO_PORT (proxy, default 8090), SWIFT_AIO_BASE (account/container/object
# = BASE+2/+1/+0, default 6200), SWIFT_AIO_MEMCACHED (default 11211).
set -euo pipefail

cmd=${1:?usage: swift_aio.sh start|stop STATE_DIR}
state=$(realpath -m "${2:?usage: swift_aio.sh start|stop STATE_DIR}")
proxy_port=${SWIFT_AIO_PORT:-8090}
base=${SWIFT_AIO_BASE:-6200}
memcached_port=${SWIFT_AIO_MEMCACHED:-11211}
etc=$state/etc
pids=$state/pids

stop() {
    [[ -f $pids ]] || return 0
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$pids"
    for _ in $(seq 100); do  # up to 10 s for every process to exit
        alive=0
        while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$pids"
        ((alive)) || break
        sleep 0.1
    done
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$pids"
    rm -f "$pids"
}

server_conf() {  # name port app
    cat >"$etc/$1-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
devices = $state/devices
mount_check = false
workers = 1
user = root
swift_dir = $etc
log_name = $1-server

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
CONF
}

write_config() {
    mkdir -p "$etc" "$state/devices/d1" "$state/logs"
    cat >"$etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = drc-aio
swift_hash_path_suffix = drc-aio

[storage-policy:0]
name = Policy-0
default = yes
CONF
    server_conf object $((base)) && server_conf container $((base + 1)) &&
        server_conf account $((base + 2))
    cat >"$etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy_port
workers = 1
user = root
swift_dir = $etc
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:s3api]
use = egg:swift#s3api

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached_port

CONF
    # The plain middlewares: the egg entry point is the filter's name (- becomes _).
    for filter in catch_errors gatekeeper healthcheck proxy-logging listing_formats bulk copy \
        slo dlo; do
        printf '[filter:%s]\nuse = egg:swift#%s\n' "$filter" "${filter//-/_}"
    done >>"$etc/proxy-server.conf"
    for ring in object:$base container:$((base + 1)) account:$((base + 2)); do
        name=${ring%%:*} port=${ring##*:}
        [[ -f $etc/$name.ring.gz ]] && continue
        swift-ring-builder "$etc/$name.builder" create 10 1 1 >/dev/null
        swift-ring-builder "$etc/$name.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
        swift-ring-builder "$etc/$name.builder" rebalance >/dev/null
    done
}

start() {
    [[ -f $pids ]] && stop
    write_config
    memcached -u root -l 127.0.0.1 -p "$memcached_port" -U 0 >"$state/logs/memcached.log" 2>&1 &
    echo $! >>"$pids"
    for server in account container object proxy; do
        "swift-$server-server" "$etc/$server-server.conf" >"$state/logs/$server.log" 2>&1 &
        echo $! >>"$pids"
    done
    url=http://127.0.0.1:$proxy_port
    for _ in $(seq 150); do  # up to 30 s
        if python3 -c "import urllib.request as u; u.urlopen('$url/healthcheck', timeout=1)" \
            2>/dev/null; then
            echo "export ST_AUTH=$url/auth/v1.0 ST_USER=test:tester ST_KEY=testing"
            echo "export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=test:tester" \
                "AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1"
            return 0
        fi
        sleep 0.2
    done
    echo "swift_aio: proxy did not answer on $url within 30 s; logs in $state/logs" >&2
    tail -n 5 "$state"/logs/*.log >&2 || true
    stop
    return 1
}

case $cmd in
start) start ;;
stop) stop ;;
*) echo "usage: swift_aio.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
