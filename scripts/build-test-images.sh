#!/usr/bin/env bash
# Builds the local images the engine tests run (no registry is reachable from
# the test machines, so nothing can be pulled).
#
# One function per image. Each image is tagged with a hash of its inputs (and of
# its own build function), so a run with nothing changed does no work; `:latest`
# is moved to the image just built or found. Image names go to stdout, one per
# line; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
staging_root="$root/target/test-images"

log() { echo "build-test-images: $*" >&2; }

# Test binaries may run this concurrently: one build at a time per worktree.
mkdir -p "$staging_root"
exec 9>"$staging_root/.lock"
flock 9

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# A short hash of the named function's text plus whatever is on stdin.
inputs_hash() {
    local recipe=$1
    { declare -f "$recipe"; cat; } | sha256sum | cut -c1-16
}

# import_tree DIR IMAGE [--change ...]: a root file system from a folder, owned by root.
import_tree() {
    local dir=$1 image=$2
    shift 2
    tar --numeric-owner --owner=0 --group=0 -C "$dir" -c . | docker import "$@" - "$image" >/dev/null
}

# Tags IMAGE:HASH as IMAGE:latest and reports it.
finish() {
    docker tag "$1:$2" "$1:latest"
    echo "$1:$2"
}

# A test-only root CA and one certificate for the outside servers' names
# (`*.test`), made once per worktree with openssl. The sidecar images trust the
# root beside Debian's roots, so a test's HTTPS server is verified as a real
# one would be; nothing else trusts it.
outside_tls=$staging_root/outside-tls
build_outside_tls() {
    [ -f "$outside_tls/leaf.pem" ] && return
    log "making the outside servers' test CA in $outside_tls"
    rm -rf "$outside_tls"
    mkdir -p "$outside_tls"
    (
        cd "$outside_tls"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout root.key -out root.pem -days 3650 \
            -subj "/O=claude-bottle tests/CN=outside world test root" 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout leaf.key -out leaf.csr -subj "/CN=allowed.test" 2>/dev/null
        printf 'subjectAltName=DNS:allowed.test,DNS:denied.test,DNS:*.test\n' >leaf.ext
        openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial \
            -out leaf.pem -days 3650 -extfile leaf.ext 2>/dev/null
        chmod 644 leaf.key
    )
}

# Debian's roots plus the outside servers' test root, for a sidecar image.
sidecar_trust_bundle() {
    cat /etc/ssl/certs/ca-certificates.crt "$outside_tls/root.pem"
}

# The pipelock stand-in (tests/pipelock-standin): one static binary at /pipelock,
# with real pipelock's entrypoint, default command and port.
build_pipelock_standin() {
    local name=claude-bottle-test/pipelock-standin
    local src=tests/pipelock-standin
    local hash
    hash=$({
        (cd "$src" && find . -path ./target -prune -o -type f -print | LC_ALL=C sort |
            xargs sha256sum)
        sidecar_trust_bundle
    } | inputs_hash build_pipelock_standin)
    if image_exists "$name:$hash"; then
        log "$name:$hash is up to date"
    else
        log "building $name:$hash"
        local target_dir="$root/target/standin"
        # Its unit tests gate the image.
        CARGO_TARGET_DIR="$target_dir" cargo test --locked --quiet \
            --manifest-path "$src/Cargo.toml" >&2
        RUSTFLAGS='-C target-feature=+crt-static' CARGO_TARGET_DIR="$target_dir" \
            cargo build --release --locked --quiet --target x86_64-unknown-linux-gnu \
            --manifest-path "$src/Cargo.toml" >&2
        local dir="$staging_root/pipelock-standin"
        rm -rf "$dir"
        mkdir -p "$dir/config" "$dir/etc/ssl/certs"
        cp "$target_dir/x86_64-unknown-linux-gnu/release/pipelock" "$dir/pipelock"
        sidecar_trust_bundle >"$dir/etc/ssl/certs/ca-certificates.crt"
        import_tree "$dir" "$name:$hash" \
            --change 'ENTRYPOINT ["/pipelock"]' \
            --change 'CMD ["run", "--listen", "0.0.0.0:8888"]' \
            --change 'EXPOSE 8888' \
            --change 'LABEL claude-bottle.test=1' \
            --change 'LABEL claude-bottle.test.sidecar=standin'
    fi
    finish "$name" "$hash"
}

# The sidecar every test bottle runs, `claude-bottle-test/pipelock`: real
# pipelock when CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY names a pipelock 2.3.0
# binary (static, built from upstream's source as its Dockerfile does), laid
# out as the released image; otherwise the stand-in under this name. The label
# `claude-bottle.test.sidecar` says which (`pipelock` or `standin`).
#
# It is not built here from the Go module proxy: `go install
# github.com/luckyPipewrench/pipelock/cmd/pipelock@v2.3.0` cannot work anywhere
# (the module path has no /v2 suffix, so Go refuses v2 tags), and the proxy
# these machines reach refuses the module outright (403 "This module version
# is not available.", at every version, the tag commit's pseudo-version too).
# ARCHITECTURE.md ("The sidecar in tests") has more.
build_pipelock() {
    local name=claude-bottle-test/pipelock
    local binary=${CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY:-}
    if [ -z "$binary" ]; then
        local standin
        standin=$(docker image inspect --format '{{.Id}}' claude-bottle-test/pipelock-standin:latest)
        local hash=standin-${standin#sha256:}
        hash=${hash:0:24}
        docker tag claude-bottle-test/pipelock-standin:latest "$name:$hash"
        log "$name is the stand-in (set CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY for real pipelock)"
        finish "$name" "$hash"
        return
    fi
    if [ ! -x "$binary" ]; then
        log "CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY=$binary is not an executable file"
        exit 1
    fi
    local version
    version=$("$binary" version 2>&1 | sed -n 1p)
    local hash
    hash=$({ sha256sum "$binary"; sidecar_trust_bundle; } | inputs_hash build_pipelock)
    if image_exists "$name:$hash"; then
        log "$name:$hash is up to date ($version)"
    else
        log "building $name:$hash from $binary ($version)"
        local dir="$staging_root/pipelock"
        rm -rf "$dir"
        mkdir -p "$dir/etc/ssl/certs"
        cp "$binary" "$dir/pipelock"
        sidecar_trust_bundle >"$dir/etc/ssl/certs/ca-certificates.crt"
        import_tree "$dir" "$name:$hash" \
            --change 'ENTRYPOINT ["/pipelock"]' \
            --change 'CMD ["run", "--listen", "0.0.0.0:8888"]' \
            --change 'EXPOSE 8888' \
            --change 'LABEL claude-bottle.test=1' \
            --change 'LABEL claude-bottle.test.sidecar=pipelock'
    fi
    finish "$name" "$hash"
}

# A 2 MB userland from Debian's busybox-static: /bin/busybox and a symlink per
# applet (sh, wget, nc, httpd, sleep, ...).
build_busybox() {
    local name=claude-bottle-test/busybox
    local busybox=/bin/busybox
    if ! dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
        log "installing Debian's busybox-static"
        apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >&2
    fi
    local hash
    hash=$(sha256sum "$busybox" | inputs_hash build_busybox)
    if image_exists "$name:$hash"; then
        log "$name:$hash is up to date"
    else
        log "building $name:$hash"
        local dir="$staging_root/busybox"
        rm -rf "$dir"
        mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/www"
        chmod 1777 "$dir/tmp"
        cp "$busybox" "$dir/bin/busybox"
        local applet
        for applet in $("$busybox" --list); do
            [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
        done
        echo 'root:x:0:0:root:/:/bin/sh' >"$dir/etc/passwd"
        echo 'root:x:0:' >"$dir/etc/group"
        import_tree "$dir" "$name:$hash" \
            --change 'ENV PATH=/bin' \
            --change 'CMD ["sh"]' \
            --change 'LABEL claude-bottle.test=1'
    fi
    finish "$name" "$hash"
}

build_outside_tls
build_pipelock_standin
build_pipelock
build_busybox
# The agent image's offline base and the claude binary. Sourced, not run: it
# would wait for the lock this script already holds.
# shellcheck source=scripts/build-agent-test-base.sh
source "$root/scripts/build-agent-test-base.sh"
build_debian_base
fetch_claude_binary
