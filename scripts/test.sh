#!/usr/bin/env bash
# Runs everything CI runs, cheapest checks first: rustfmt, clippy, then every test,
# including the ones that talk to a real Docker engine.
#
#   scripts/test.sh            every tier (what CI runs)
#   scripts/test.sh offline    the library, the binaries and tests/ files that need no engine
#   scripts/test.sh engine     tests/engine_*.rs: bottles on a real engine
#   scripts/test.sh dashboard  tests/dashboard_*.rs: the real dashboard in tmux, on the engine
#
# Where no engine answers and this runs as root, it installs Debian's engine
# (docker.io) if needed, starts dockerd, and stops it again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-all}
case "$tier" in
all | offline | engine | dashboard) ;;
*)
    echo "test.sh: unknown tier '$tier'; use all, offline, engine or dashboard" >&2
    exit 2
    ;;
esac

# `--test NAME` for each tests/ file of the tier.
tier_targets() {
    local file name
    for file in tests/*.rs; do
        name=$(basename "$file" .rs)
        case "$1:$name" in
        engine:engine_* | dashboard:dashboard_*) printf -- '--test %s\n' "$name" ;;
        offline:engine_* | offline:dashboard_*) ;;
        offline:*) printf -- '--test %s\n' "$name" ;;
        esac
    done
}

started_dockerd=""
second_dir=""
cleanup() {
    stop_second_engine
    if [ -n "$started_dockerd" ]; then
        echo "test.sh: stopping the dockerd it started (pid $started_dockerd)"
        kill "$started_dockerd" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.2; done
    fi
}
trap cleanup EXIT

engine_answers() { docker info >/dev/null 2>&1; }

ensure_engine() {
    if engine_answers; then
        echo "test.sh: using the running Docker engine"
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "test.sh: no Docker engine answers and this is not root: start one (or set DOCKER_HOST)" >&2
        exit 1
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "test.sh: installing Debian's Docker engine"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io iptables
    fi
    echo "test.sh: starting dockerd (log: target/dockerd.log)"
    mkdir -p target
    dockerd >target/dockerd.log 2>&1 &
    started_dockerd=$!
    for _ in $(seq 1 120); do
        if engine_answers; then
            docker version --format 'test.sh: engine {{.Server.Version}}, API {{.Server.APIVersion}}'
            return
        fi
        sleep 0.5
    done
    echo "test.sh: dockerd did not answer within 60 s; its log:" >&2
    tail -n 40 target/dockerd.log >&2
    exit 1
}

# Debian packages the tests use: tmux drives the dashboard as a person would;
# busybox-static and debootstrap make the offline test images; the isolation
# tests make a throwaway ssh key and signal `claude-bottle run` with kill;
# an OpenSSH server on loopback stands in for an engine reached over ssh;
# ip makes the second engine's network namespace;
# openssl makes the outside servers' test CA.
ensure_test_tools() {
    local missing=()
    command -v tmux >/dev/null 2>&1 || missing+=(tmux)
    command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    [ -x /bin/kill ] || [ -x /usr/bin/kill ] || missing+=(procps)
    [ -x /bin/busybox ] || missing+=(busybox-static)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" != 0 ]; then
        echo "test.sh: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
        exit 1
    fi
    echo "test.sh: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# A second engine, as a remote one would be: its own dockerd, data root,
# exec root and address pool, in a network namespace of its own (so its
# iptables rules and bridges are its own, as on another machine). The
# boundary suites run again against it, from inside that namespace.
SECOND_NETNS=claude-bottle-second
start_second_engine() {
    second_dir=$(mktemp -d /tmp/claude-bottle-second.XXXXXX)
    ip netns delete "$SECOND_NETNS" 2>/dev/null || true
    ip netns add "$SECOND_NETNS"
    nsenter --net="/run/netns/$SECOND_NETNS" ip link set lo up
    # nsenter, not `ip netns exec`: that one remounts /sys, hiding the cgroups.
    nsenter --net="/run/netns/$SECOND_NETNS" dockerd \
        -H "unix://$second_dir/docker.sock" --data-root "$second_dir/data" \
        --exec-root "$second_dir/exec" --pidfile "$second_dir/dockerd.pid" \
        --default-address-pool base=10.99.0.0/16,size=24 \
        >"$second_dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 120); do
        DOCKER_HOST="unix://$second_dir/docker.sock" docker info >/dev/null 2>&1 && return
        sleep 0.5
    done
    echo "test.sh: the second dockerd did not answer within 60 s; its log:" >&2
    tail -n 40 "$second_dir/dockerd.log" >&2
    exit 1
}
stop_second_engine() {
    [ -n "$second_dir" ] || return 0
    local pid
    pid=$(cat "$second_dir/dockerd.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    # dockerd leaves its data root bind-mounted on itself.
    umount "$second_dir/data" 2>/dev/null || true
    ip netns delete "$SECOND_NETNS" 2>/dev/null || true
    rm -rf "$second_dir" 2>/dev/null || true
    second_dir=""
}
second_engine_suites() {
    echo "== the boundary suites again, on a second engine in its own network namespace"
    start_second_engine
    docker save claude-bottle-test/pipelock:latest claude-bottle-test/busybox:latest \
        claude-bottle-test/debian-base:bookworm |
        DOCKER_HOST="unix://$second_dir/docker.sock" docker load -q
    nsenter --net="/run/netns/$SECOND_NETNS" env DOCKER_HOST="unix://$second_dir/docker.sock" \
        CLAUDE_BOTTLE_SUBNET_POOL=10.214.0.0/16 \
        cargo test --locked --test engine_isolation --test engine_adversary
    stop_second_engine
}

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --all-targets --locked -- -D warnings
if [ "$tier" = offline ] || [ "$tier" = all ]; then
    echo "== vendor/vt100: the patch's own tests (vendor/README.md)"
    cargo test --locked --lib --manifest-path vendor/vt100/Cargo.toml --target-dir target/vendor-vt100
fi
ensure_test_tools
if [ "$tier" = offline ]; then
    echo "== tests (offline tier)"
    # shellcheck disable=SC2046 # one word per target
    cargo test --locked --lib --bins $(tier_targets offline)
    exit 0
fi
ensure_engine
echo "== test images"
scripts/build-test-images.sh >/dev/null
# Say which sidecar the engine tests put behind every bottle.
case "$(docker image inspect --format '{{index .Config.Labels "claude-bottle.test.sidecar"}}' \
    claude-bottle-test/pipelock:latest)" in
pipelock) echo "test.sh: the sidecar under test is real pipelock (${CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY:-})" ;;
*) echo "test.sh: the sidecar under test is the stand-in (tests/pipelock-standin): real pipelock" \
    "cannot be built here (ARCHITECTURE.md, \"The sidecar in tests\"); set" \
    "CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY to run against it" ;;
esac
echo "== tests ($tier)"
# Engine tests must run, never skip: tell them an engine is guaranteed.
export CLAUDE_BOTTLE_REQUIRE_ENGINE=1
if [ "$tier" = all ]; then
    cargo test --locked --all-targets
    second_engine_suites
elif [ "$tier" = engine ]; then
    # shellcheck disable=SC2046 # one word per target
    cargo test --locked $(tier_targets "$tier")
    second_engine_suites
    exit 0
else
    # shellcheck disable=SC2046 # one word per target
    cargo test --locked $(tier_targets "$tier")
    exit 0
fi
if [ "${CLAUDE_BOTTLE_HEAVY:-0}" = 1 ]; then
    # 20 cycles of 16 bottles launched and killed by one dashboard (about
    # 8 minutes on 2 cores); the main run above did 2.
    echo "== heavy: dashboard load, 20 cycles"
    CLAUDE_BOTTLE_LOAD_CYCLES=20 cargo test --locked --test dashboard_load
fi
echo "== bench smoke (claude-bottle-bench --quick: checks the bench runs, judges no number)"
cargo build --locked --bins
target/debug/claude-bottle-bench --quick
