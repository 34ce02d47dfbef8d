#!/usr/bin/env bash
# Builds, offline, what the agent-image tests need; each step is skipped when its
# result already exists, so running this again is cheap:
#   - claude-bottle-test/debian-base:bookworm, a Debian userland with the agent's
#     packages (no registry is reachable, so it comes from debootstrap + docker import);
#   - target/test-images/claude, the real Claude Code binary from npm.
# Kept as functions so a wider scripts/build-test-images.sh can source and call them.
set -euo pipefail

TEST_IMAGES_DIR="${TEST_IMAGES_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/test-images}"
DEBIAN_BASE_TAG="claude-bottle-test/debian-base:bookworm"
# Keep in step with the apt list in assets/agent.Dockerfile (minus nodejs/npm).
AGENT_PACKAGES="ca-certificates,curl,git,openssh-client,netcat-openbsd,ripgrep,bash,procps,less"

log() { echo "build-agent-test-base: $*" >&2; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return
    log "installing debootstrap"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
}

# The rootfs tarball is cached so that re-importing (after `docker rmi`) takes seconds.
build_debian_base() {
    if image_exists "$DEBIAN_BASE_TAG"; then
        log "$DEBIAN_BASE_TAG exists, skipping"
        return
    fi
    local tarball="$TEST_IMAGES_DIR/debian-base-bookworm.tar"
    mkdir -p "$TEST_IMAGES_DIR"
    if [ ! -s "$tarball" ]; then
        ensure_debootstrap
        local rootfs
        rootfs="$(mktemp -d "$TEST_IMAGES_DIR/rootfs.XXXXXX")"
        log "debootstrap bookworm into $rootfs"
        debootstrap --variant=minbase --include="$AGENT_PACKAGES" \
            bookworm "$rootfs" http://deb.debian.org/debian >&2
        # apt lists and the .deb cache are not needed in an image.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -cf "$tarball.partial" .
        mv "$tarball.partial" "$tarball"
        rm -rf "$rootfs"
    fi
    log "importing $tarball as $DEBIAN_BASE_TAG"
    docker import "$tarball" "$DEBIAN_BASE_TAG" >/dev/null
}

# The npm package holds `package/claude`, a self-contained x86-64 executable.
fetch_claude_binary() {
    local binary="$TEST_IMAGES_DIR/claude"
    if [ -x "$binary" ]; then
        log "$binary exists, skipping"
        return
    fi
    mkdir -p "$TEST_IMAGES_DIR"
    log "npm pack @anthropic-ai/claude-code-linux-x64"
    local tgz
    tgz="$(cd "$TEST_IMAGES_DIR" && npm pack --silent @anthropic-ai/claude-code-linux-x64 | tail -n 1)"
    tar -xzf "$TEST_IMAGES_DIR/$tgz" -C "$TEST_IMAGES_DIR" package/claude
    chmod 0755 "$TEST_IMAGES_DIR/package/claude"
    mv "$TEST_IMAGES_DIR/package/claude" "$binary.partial"
    mv "$binary.partial" "$binary"
    rm -rf "$TEST_IMAGES_DIR/package" "$TEST_IMAGES_DIR/$tgz"
}

# Serialised with flock: tests running in parallel may all call this at once.
build_agent_test_base() {
    mkdir -p "$TEST_IMAGES_DIR"
    (
        flock 9
        build_debian_base
        fetch_claude_binary
    ) 9>"$TEST_IMAGES_DIR/.lock"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    build_agent_test_base
fi
