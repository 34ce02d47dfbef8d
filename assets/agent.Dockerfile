# The agent image: Claude Code and the tools it drives, run as the non-root user
# `agent` (uid 1000). claude-bottle builds it through the engine's API
# (src/docker/image.rs); the engine's classic builder is enough, BuildKit is not needed.
#
# Build context: this file as `Dockerfile` and a directory `bin/` whose files are
# copied to /usr/local/bin. `bin/` is empty unless CLAUDE_SOURCE=context, where it
# holds `claude`. By hand: `mkdir -p bin && docker build -f agent.Dockerfile .`
#
# Build arguments:
#   BASE_IMAGE        a Debian-like image (apt, dpkg, useradd). Default debian:bookworm-slim.
#   INSTALL_PACKAGES  1: apt-get install the tools below; 0: the base already has them
#                     (offline test bases).
#   CLAUDE_SOURCE     npm: fetch Claude Code's native binary from npm;
#                     context: use bin/claude from the build context.
#   CLAUDE_VERSION    npm version or tag for CLAUDE_SOURCE=npm. Default latest.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

ARG INSTALL_PACKAGES=1
ARG CLAUDE_SOURCE=npm
ARG CLAUDE_VERSION=latest

LABEL claude-bottle.managed=true

SHELL ["/bin/sh", "-eu", "-c"]

# Kept in step with AGENT_PACKAGES in scripts/build-agent-test-base.sh.
RUN if [ "$INSTALL_PACKAGES" = 1 ]; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            bash ca-certificates curl git less netcat-openbsd openssh-client procps ripgrep; \
        rm -rf /var/lib/apt/lists/*; \
    fi

COPY bin/ /usr/local/bin/

# CLAUDE_SOURCE=npm packs the platform package (@anthropic-ai/claude-code-linux-x64 or
# -linux-arm64) rather than `npm install -g @anthropic-ai/claude-code`: that wrapper only
# picks the same native binary in a postinstall script, and would leave Node in the image.
# `npm pack` runs no package scripts, and Node/npm are purged again in this same layer,
# so the image carries one self-contained executable and no JavaScript runtime.
RUN case "$CLAUDE_SOURCE" in \
    context) \
        if [ ! -f /usr/local/bin/claude ]; then \
            echo "CLAUDE_SOURCE=context but the build context has no bin/claude" >&2; exit 1; \
        fi ;; \
    npm) \
        case "$(dpkg --print-architecture)" in \
            amd64) platform=linux-x64 ;; \
            arm64) platform=linux-arm64 ;; \
            *) echo "Claude Code has no native build for $(dpkg --print-architecture)" >&2; exit 1 ;; \
        esac; \
        added_npm=""; \
        if ! command -v npm >/dev/null; then \
            apt-get update; \
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; \
            added_npm=1; \
        fi; \
        scratch="$(mktemp -d)"; \
        cd "$scratch"; \
        npm pack --loglevel=warn "@anthropic-ai/claude-code-$platform@$CLAUDE_VERSION"; \
        tar -xzf ./*.tgz package/claude; \
        install -m 0755 package/claude /usr/local/bin/claude; \
        cd /; \
        rm -rf "$scratch" /root/.npm; \
        if [ -n "$added_npm" ]; then \
            DEBIAN_FRONTEND=noninteractive apt-get purge -y --auto-remove nodejs npm; \
            rm -rf /var/lib/apt/lists/*; \
        fi ;; \
    *) echo "CLAUDE_SOURCE must be npm or context, not '$CLAUDE_SOURCE'" >&2; exit 1 ;; \
    esac

# uid 1000 is taken by a stock user in some bases (ubuntu:24.04 ships `ubuntu`);
# the agent must own it so that files it writes in mounted folders map to the host user.
# The agent never needs to gain privileges: with no setuid/setgid files left, a
# container that forgot no-new-privileges still has nothing to escalate through.
RUN existing="$(getent passwd 1000 | cut -d: -f1)"; \
    if [ -n "$existing" ] && [ "$existing" != agent ]; then userdel --remove "$existing"; fi; \
    useradd --uid 1000 --user-group --create-home --home-dir /home/agent --shell /bin/bash agent; \
    install -d -m 0700 -o agent -g agent /home/agent/.claude /home/agent/.ssh; \
    install -d -m 0755 -o agent -g agent /home/agent/work; \
    find / -xdev -perm /6000 -type f -exec chmod a-s {} +; \
    printf '[core]\n\tquotePath = false\n' >>/etc/gitconfig

# Text is UTF-8: git, bash, less and claude's tools show and take non-ASCII as
# text (C.UTF-8 is built into Debian's libc; git also needs quotePath off above,
# or it prints a file named é.txt as "\303\251.txt" whatever the locale).
ENV LANG=C.UTF-8

# The image is rebuilt to update Claude Code; the agent cannot write /usr/local/bin anyway.
ENV DISABLE_AUTOUPDATER=1 \
    HOME=/home/agent

USER agent
WORKDIR /home/agent/work

# The bottle starts claude with `exec`; the container itself only has to stay up.
# The engine adds an init (--init) to reap what the agent's tools leave behind.
CMD ["sleep", "infinity"]
