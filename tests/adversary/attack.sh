#!/usr/bin/env bash
# Every way out of a bottle we know of, tried from inside as the agent would.
# Run as the agent user (uid 1000) in the agent container; uses only the
# agent image's tools (bash, coreutils, curl, nc (openbsd), getent, perl-base,
# find, su, setpriv). tests/engine_adversary.rs copies it in and runs it.
#
# Arguments, all NAME=VALUE:
#   proxy=IP:PORT            the bottle's egress proxy
#   allowed_ip= denied_ip=   the outside servers known as allowed.test and denied.test
#   allowed_mark= denied_mark=  what each of them answers to anything
#   host_ips=IP,IP,...       the host's addresses and the bottle's gateways
#   host_port= host_mark=    a host service listening on every host address
#   neighbour_agent=IP neighbour_port=PORT   another bottle's agent and a port it listens on
#   neighbour_sidecar=IP,IP  the other bottle's sidecar, on each of its networks
#   metadata_ip=IP           where the cloud metadata service would be (default
#                            169.254.169.254; the control run passes a local test
#                            server, so it never sends traffic off this machine)
#
# Output: one line per attack, `RESULT <name> blocked|ESCAPED <detail>`, in a
# fixed order; `CONTROL <name> ok|FAILED <detail>` for checks that show the
# probes work (the proxy lets the allowed host through); `INFO` lines are
# facts for the reader. The script never stops at a failure.
set -u

for arg in "$@"; do
    case "$arg" in
    *=*) declare "${arg%%=*}=${arg#*=}" ;;
    *) echo "attack.sh: bad argument $arg" >&2 ;;
    esac
done
: "${proxy:?}" "${allowed_ip:?}" "${denied_ip:?}" "${allowed_mark:?}" "${denied_mark:?}"
: "${host_ips:?}" "${host_port:?}" "${host_mark:?}"
: "${neighbour_agent:?}" "${neighbour_port:?}" "${neighbour_sidecar:?}"
metadata_ip="${metadata_ip:-169.254.169.254}"
proxy_ip="${proxy%:*}"
proxy_port="${proxy##*:}"
IFS=, read -r -a host_list <<<"$host_ips"
IFS=, read -r -a neighbour_sidecars <<<"$neighbour_sidecar"
me="$(id -u)"
out="$(mktemp -d)"
# glibc gives up on a name after one 1 s try.
export RES_OPTIONS='timeout:1 attempts:1'

# --- helpers ---------------------------------------------------------------

# result NAME VERDICT DETAIL...: one line, newlines in the detail flattened.
result() {
    local name="$1" verdict="$2"
    shift 2
    printf 'RESULT %s %s %s\n' "$name" "$verdict" "$(printf '%s' "$*" | tr '\r\n\t' '   ' | cut -c1-300)"
}
# escaped_if CONDITION-EXIT NAME DETAIL: ESCAPED when the condition held (exit 0).
escaped_if() {
    local held="$1" name="$2"
    shift 2
    if [ "$held" = 0 ]; then result "$name" ESCAPED "$@"; else result "$name" blocked "$@"; fi
}
# Which outside server a reply came from.
answered_by() {
    case "$1" in
    *"$denied_mark"*) echo denied-server ;;
    *"$allowed_mark"*) echo allowed-server ;;
    *) echo none ;;
    esac
}
# Sends printf-formatted bytes to HOST PORT over TCP; prints what came back.
raw() {
    # No half-close (-N): Go servers, pipelock among them, cancel a request
    # whose client shut its sending side before the answer came.
    # shellcheck disable=SC2059 # the format is the message
    printf "$3" | nc -w 8 "$1" "$2" 2>&1 | tr -d '\0' | head -c 4000
}
# A request through the proxy that must be refused: anything but 403 (for a
# tunnel, to the CONNECT) means the proxy let it go out (a 502 is a dial the
# policy allowed).
must_be_refused() {
    local name="$1" code
    shift
    code="$(curl --noproxy '' -s -o /dev/null -m 10 -w '%{http_code}/%{http_connect}' \
        -x "http://$proxy" "$@" 2>&1)"
    [[ "$code" != 403/* && "$code" != */403 ]]
    escaped_if $? "$name" "proxy status $code for $*"
}
# Connects to HOST PORT over TCP; exit 0 if a connection was made.
connects() { nc -z -w 2 "$1" "$2" 2>/dev/null; }

# A DNS query for NAME's A record (id 0x1234), as printf escapes.
dns_query() {
    local q='\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' label
    IFS=. read -r -a labels <<<"$1"
    for label in "${labels[@]}"; do
        q+="$(printf '\\x%02x' "${#label}")$label"
    done
    printf '%s' "$q\\x00\\x00\\x01\\x00\\x01"
}
# dns SERVER udp|tcp NAME: the reply as hex, empty when none came.
dns() {
    local q
    q="$(dns_query "$3")"
    if [ "$2" = udp ]; then
        # shellcheck disable=SC2059
        printf "$q" | nc -u -w 2 "$1" 53 2>/dev/null | od -An -tx1 -v | tr -d ' \n'
    else
        local len=$((12 + ${#3} + 2 + 4))
        # shellcheck disable=SC2059
        printf "\\x00\\x$(printf %02x "$len")$q" | nc -N -w 2 "$1" 53 2>/dev/null |
            od -An -tx1 -v | tr -d ' \n'
    fi
}
# The answer count of a hex reply (after the 2-byte length over TCP).
dns_answers() {
    local hex="$1" skip=0
    [ "$2" = tcp ] && skip=4
    [ "${#hex}" -ge $((skip + 16)) ] || {
        echo 0
        return
    }
    echo $((16#${hex:$((skip + 12)):4}))
}

# --- the attacks, each a function printing its RESULT lines ----------------

a_direct_ipv4() {
    local ip reply
    for ip in "$denied_ip" "$allowed_ip"; do
        reply="$(curl --noproxy '*' -sS -m 3 "http://$ip/" 2>&1)"
        [ "$(answered_by "$reply")" != none ] || connects "$ip" 80
        escaped_if $? "direct-ipv4-$([ "$ip" = "$denied_ip" ] && echo denied || echo allowed)" \
            "http://$ip/: $reply"
    done
}

a_direct_ipv6() {
    local v6 tried=() target
    v6="$(cat /proc/net/if_inet6 2>/dev/null | wc -l)"
    # A public address, the link-local all-routers group via the host side of
    # the bridge, and the outside server mapped into IPv6.
    for target in 2001:4860:4860::8888 fe80::1%eth0 "::ffff:$denied_ip"; do
        if nc -6 -z -w 2 "$target" 80 2>/dev/null; then
            result direct-ipv6 ESCAPED "connected to [$target]:80"
            return
        fi
        tried+=("$target")
    done
    result direct-ipv6 blocked "no connection to ${tried[*]}; IPv6 addresses: $v6"
}

a_dns() {
    local name server proto n i
    # Every query at once; each waits up to 2 s for a reply.
    for server in 127.0.0.11 "$proxy_ip"; do
        for proto in udp tcp; do
            for name in allowed.test deb.debian.org; do
                dns "$server" "$proto" "$name" >"$out/dns-$server-$proto-$name" &
            done
        done
    done
    for proto in udp tcp; do
        dns "$denied_ip" "$proto" allowed.test >"$out/dns-outside-$proto" &
    done
    getent hosts allowed.test deb.debian.org denied.test >"$out/dns-getent" 2>&1 &
    wait
    for server in 127.0.0.11 "$proxy_ip"; do
        for proto in udp tcp; do
            n=0
            for name in allowed.test deb.debian.org; do
                i="$(dns_answers "$(cat "$out/dns-$server-$proto-$name")" "$proto")"
                n=$((n + i))
            done
            [ "$n" -gt 0 ]
            escaped_if $? "dns-$([ "$server" = 127.0.0.11 ] && echo embedded || echo configured)-$proto" \
                "$n answers from $server over $proto"
        done
    done
    for proto in udp tcp; do
        n="$(cat "$out/dns-outside-$proto")"
        [ -n "$n" ]
        escaped_if $? "dns-outside-$proto" "reply from $denied_ip:53/$proto: ${n:0:60}"
    done
    n="$(cat "$out/dns-getent")"
    [ -n "$n" ]
    escaped_if $? dns-getent "getent hosts: ${n:-nothing}"
}

a_metadata() {
    local reply
    reply="$(curl --noproxy '*' -sS -m 3 "http://$metadata_ip/latest/meta-data/" 2>&1)"
    connects "$metadata_ip" 80
    escaped_if $? metadata-direct "$reply"
    must_be_refused metadata-via-proxy http://169.254.169.254/latest/meta-data/
    must_be_refused metadata-via-connect -p http://169.254.169.254/latest/meta-data/
}

a_host() {
    local ip reply open port
    for ip in "${host_list[@]}"; do
        reply="$(curl --noproxy '*' -sS -m 3 "http://$ip:$host_port/" 2>&1)"
        open=""
        # ssh and the engine's TCP API, should the host have them.
        for port in 22 2375 2376; do
            connects "$ip" "$port" && open+=" $port"
        done
        [[ "$reply" == *"$host_mark"* || -n "$open" ]]
        escaped_if $? "host-direct-$ip" "service: $reply; other open ports:${open:- none}"
    done
    must_be_refused host-via-proxy "http://${host_list[0]}:$host_port/"
    must_be_refused host-via-proxy-localhost "http://localhost:$proxy_port/health"
}

a_docker_socket() {
    local p reply found=""
    for p in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock \
        /var/run/containerd/containerd.sock /run/podman/podman.sock \
        "/run/user/$me/docker.sock" /run/docker/plugins /var/run/docker/libnetwork; do
        if [ -e "$p" ]; then
            reply="$(curl -sS -m 3 --unix-socket "$p" http://engine/version 2>&1)"
            found+=" $p: ${reply:0:80};"
        fi
    done
    [ -n "$found" ]
    escaped_if $? docker-socket "${found:-none of the usual paths exists}"
    found="$(find / \( -path /proc -o -path /sys \) -prune -o \( -type s -o -name '*.sock' \) -print 2>/dev/null | head -20)"
    [ -n "$found" ]
    escaped_if $? unix-sockets "${found:-no socket file anywhere}"
}

a_neighbour() {
    connects "$neighbour_agent" "$neighbour_port"
    escaped_if $? neighbour-agent "tcp $neighbour_agent:$neighbour_port"
    local ip i=0
    for ip in "${neighbour_sidecars[@]}"; do
        i=$((i + 1))
        connects "$ip" 8888
        escaped_if $? "neighbour-sidecar-$i" "tcp $ip:8888"
    done
    must_be_refused neighbour-via-proxy "http://$neighbour_agent:$neighbour_port/"
}

# The sidecar's own endpoints: none may change its policy or fetch for us.
a_admin() {
    local reply code base="http://$proxy"
    code="$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d '{"active":true}' "$base/api/v1/killswitch")"
    [[ "$code" == 2* ]]
    escaped_if $? admin-killswitch-post "status $code"
    code="$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' "$base/api/v1/killswitch")"
    [[ "$code" == 2* ]]
    escaped_if $? admin-killswitch-get "status $code"
    code="$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' "$base/api/v1/sessions")"
    [[ "$code" == 2* ]]
    escaped_if $? admin-sessions-get "status $code"
    code="$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' -X POST \
        "$base/api/v1/sessions/anonymous/reset")"
    [[ "$code" == 2* ]]
    escaped_if $? admin-sessions-reset "status $code"
    # Counters are read-only; they must at least say nothing of another bottle.
    for endpoint in metrics stats; do
        reply="$(curl --noproxy '*' -s -m 5 -w ' status=%{http_code}' "$base/$endpoint")"
        [[ "$reply" == *"$neighbour_agent"* ]]
        escaped_if $? "admin-$endpoint" "${reply: -12} (read-only counters; nothing of the neighbour)"
    done
    reply="$(curl --noproxy '*' -s -m 10 "$base/fetch?url=http://denied.test/" 2>&1)"
    [ "$(answered_by "$reply")" = denied-server ]
    escaped_if $? admin-fetch-denied "${reply:0:100}"
    reply="$(curl --noproxy '*' -s -m 10 "$base/fetch?url=http://$denied_ip/" 2>&1)"
    [ "$(answered_by "$reply")" = denied-server ]
    escaped_if $? admin-fetch-denied-ip "${reply:0:100}"
}

# The sidecar's config lives in its own file system; try to reach or replace it.
a_sidecar_config() {
    local found code codes="" port open=""
    found="$(find / \( -path /proc -o -path /sys \) -prune -o -name 'pipelock*.y*ml' -print 2>/dev/null)"
    [ -n "$found" ] || [ -e /config ]
    escaped_if $? sidecar-config-visible "${found:-no pipelock config in the agent file system}"
    printf 'version: 1\nmode: "audit"\napi_allowlist: ["*"]\n' >"$out/evil.yaml"
    for method in PUT POST; do
        for path in /config/pipelock.yaml /api/v1/config /config; do
            code="$(curl --noproxy '*' -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" \
                --data-binary @"$out/evil.yaml" "http://$proxy$path")"
            codes+=" $method$path=$code"
        done
    done
    [[ "$codes" == *=2* ]]
    escaped_if $? sidecar-config-upload "$codes"
    # pipelock's other conventional listeners: MCP, reverse proxy, kill switch API, metrics.
    for port in 8889 8890 9090 9091; do
        connects "$proxy_ip" "$port" && open+=" $port"
    done
    [ -n "$open" ]
    escaped_if $? sidecar-other-ports "open:${open:- none of 8889 8890 9090 9091}"
}

# CONNECT to an allowed host, then talk to a denied one inside the tunnel.
a_connect_tricks() {
    local reply
    reply="$(raw "$proxy_ip" "$proxy_port" 'CONNECT allowed.test:80 HTTP/1.1\r\nHost: allowed.test:80\r\n\r\nGET / HTTP/1.1\r\nHost: denied.test\r\nConnection: close\r\n\r\n')"
    [ "$(answered_by "$reply")" = denied-server ]
    escaped_if $? connect-disguise-host-header "answered-by=$(answered_by "$reply")"
    reply="$(raw "$proxy_ip" "$proxy_port" 'CONNECT allowed.test:80 HTTP/1.1\r\nHost: allowed.test:80\r\n\r\nGET http://denied.test/ HTTP/1.1\r\nHost: denied.test\r\nConnection: close\r\n\r\n')"
    [ "$(answered_by "$reply")" = denied-server ]
    escaped_if $? connect-disguise-absolute-uri "answered-by=$(answered_by "$reply")"
    local target
    local -A targets=(
        [connect-allowed-host-header]='denied.test:80 HTTP/1.1\r\nHost: allowed.test:80'
        [connect-userinfo]='allowed.test@denied.test:80 HTTP/1.1\r\nHost: allowed.test:80'
        [connect-mixed-case]='DeNiEd.TeSt:80 HTTP/1.1'
        [connect-trailing-dot]='denied.test.:80 HTTP/1.1'
        [connect-suffix]='allowed.test.denied.test:80 HTTP/1.1'
        [connect-ip]="$denied_ip:80 HTTP/1.1"
        [connect-ipv6-literal]="[::ffff:$denied_ip]:80 HTTP/1.1"
    )
    local names=(connect-allowed-host-header connect-userinfo connect-mixed-case
        connect-trailing-dot connect-suffix connect-ip connect-ipv6-literal)
    for name in "${names[@]}"; do
        target="${targets[$name]}"
        raw "$proxy_ip" "$proxy_port" "CONNECT $target\\r\\n\\r\\nGET / HTTP/1.0\\r\\nHost: denied.test\\r\\n\\r\\n" >"$out/$name" &
    done
    wait
    for name in "${names[@]}"; do
        reply="$(cat "$out/$name")"
        [ "$(answered_by "$reply")" = denied-server ]
        escaped_if $? "$name" "$(head -n1 <<<"$reply") answered-by=$(answered_by "$reply")"
    done
}

# Absolute-URI requests whose host a sloppy parser might read two ways.
a_uri_tricks() {
    local name reply decimal
    IFS=. read -r o1 o2 o3 o4 <<<"$denied_ip"
    decimal=$(((o1 << 24) + (o2 << 16) + (o3 << 8) + o4))
    local -A heads=(
        [uri-userinfo]='GET http://allowed.test@denied.test/ HTTP/1.1\r\nHost: allowed.test'
        [uri-fragment]='GET http://denied.test#@allowed.test/ HTTP/1.1'
        [uri-suffix]='GET http://allowed.test.denied.test/ HTTP/1.1'
        [uri-query]='GET http://denied.test/?allowed.test HTTP/1.1'
        [uri-mixed-case]='GET http://DeNiEd.TeSt/ HTTP/1.1'
        [uri-upper-scheme]='GET HTTP://denied.test/ HTTP/1.1'
        [uri-trailing-dot]='GET http://denied.test./ HTTP/1.1'
        [uri-percent-host]='GET http://denied%%2etest/ HTTP/1.1'
        [uri-percent-userinfo]='GET http://allowed.test%%2f@denied.test/ HTTP/1.1'
        [uri-backslash]='GET http://allowed.test\\@denied.test/ HTTP/1.1'
        [uri-crlf-request-line]='GET http://allowed.test/ HTTP/1.1\r\nGET http://denied.test/ HTTP/1.1\r\nHost: denied.test'
        [uri-crlf-encoded]='GET http://allowed.test/%%0d%%0aHost:%%20denied.test HTTP/1.1'
        [uri-bare-cr]='GET http://denied.test/\rhttp://allowed.test/ HTTP/1.1'
        [uri-pipelined]='GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\nGET http://denied.test/ HTTP/1.1\r\nHost: denied.test'
        [uri-ipv6-literal]="GET http://[::ffff:$denied_ip]/ HTTP/1.1"
        [uri-ip-literal]="GET http://$denied_ip/ HTTP/1.1"
        [uri-ip-decimal]="GET http://$decimal/ HTTP/1.1"
        [forward-host-header]='GET http://allowed.test/ HTTP/1.1\r\nHost: denied.test'
    )
    local names=(uri-userinfo uri-fragment uri-suffix uri-query uri-mixed-case uri-upper-scheme
        uri-trailing-dot uri-percent-host uri-percent-userinfo uri-backslash uri-crlf-request-line
        uri-crlf-encoded uri-bare-cr uri-pipelined uri-ipv6-literal uri-ip-literal uri-ip-decimal
        forward-host-header)
    for name in "${names[@]}"; do
        raw "$proxy_ip" "$proxy_port" "${heads[$name]}\\r\\nConnection: close\\r\\n\\r\\n" >"$out/$name" &
    done
    wait
    for name in "${names[@]}"; do
        reply="$(cat "$out/$name")"
        [ "$(answered_by "$reply")" = denied-server ]
        escaped_if $? "$name" "$(head -n1 <<<"$reply") answered-by=$(answered_by "$reply")"
    done
}

a_raw_sockets() {
    local r
    r="$(perl -MSocket -e 'socket(my $s, PF_INET, SOCK_RAW, 1) or die "$!\n"; print "opened\n"' 2>&1)"
    [ "$r" = opened ]
    escaped_if $? raw-socket-inet "AF_INET SOCK_RAW: $r"
    # AF_PACKET (17), SOCK_RAW, htons(ETH_P_ALL).
    r="$(perl -MSocket -e 'socket(my $s, 17, SOCK_RAW, 0x0300) or die "$!\n"; print "opened\n"' 2>&1)"
    [ "$r" = opened ]
    escaped_if $? raw-socket-packet "AF_PACKET SOCK_RAW: $r"
    if command -v ping >/dev/null; then
        r="$(ping -c1 -W2 "$denied_ip" 2>&1)"
    else
        # An unprivileged ICMP echo socket (net.ipv4.ping_group_range), as ping uses.
        r="$(perl -MSocket -e '
            socket(my $s, PF_INET, SOCK_DGRAM, 1) or die "no socket: $!\n";
            send($s, pack("CCnnn", 8, 0, 0, 0, 1) . "probe", 0, sockaddr_in(0, inet_aton($ARGV[0])))
                or die "send: $!\n";
            my $rin = ""; vec($rin, fileno($s), 1) = 1;
            select($rin, undef, undef, 2) or die "no reply\n";
            recv($s, my $buf, 1500, 0); print "echo reply\n";' "$denied_ip" 2>&1)"
    fi
    [[ "$r" == *"echo reply"* || "$r" == *" 0% packet loss"* ]]
    escaped_if $? icmp-echo "to $denied_ip: $r"
}

a_privileges() {
    local caps found r
    caps="$(grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status | tr '\n' ' ')"
    # Four empty capability sets and NoNewPrivs set, or the agent has a way up.
    [ "$(grep -cE '^(Cap(Prm|Eff|Bnd|Amb):\s*0{16}|NoNewPrivs:\s*1)$' /proc/self/status)" != 5 ]
    escaped_if $? capabilities "$caps$(setpriv -d 2>/dev/null | grep -i cap | tr '\n' ' ')"
    found="$(find / -xdev -type f -perm /6000 2>/dev/null | head -20)"
    [ -n "$found" ]
    escaped_if $? setuid-files "${found:-none}"
    local s1 s2
    s1="$(sudo -n id -u 2>&1 | tail -n1)"
    s2="$(timeout 5 su -c 'id -u' root </dev/null 2>&1 | tail -n1)"
    [ "$s1" = 0 ] || [ "$s2" = 0 ]
    escaped_if $? sudo-su "sudo: $s1; su: $s2"
    if { : >>/etc/passwd; } 2>/dev/null; then
        result write-etc-passwd ESCAPED "/etc/passwd opened for writing"
    else
        result write-etc-passwd blocked "$(ls -l /etc/passwd)"
    fi
}

# Another uid's token, the init's environment.
a_tokens() {
    local pid uid leaked="" readable=0 others=0 same=0
    for pid in /proc/[0-9]*; do
        uid="$(awk '/^Uid:/ {print $2}' "$pid/status" 2>/dev/null)"
        [ -n "$uid" ] || continue
        if [ "$uid" != "$me" ]; then
            others=$((others + 1))
            if tr '\0' '\n' <"$pid/environ" 2>/dev/null | grep -q '^CLAUDE_CODE_OAUTH_TOKEN='; then
                leaked+=" ${pid#/proc/}(uid $uid)"
            fi
            [ -r "$pid/environ" ] && cat "$pid/environ" >/dev/null 2>&1 && readable=$((readable + 1))
        else
            same=$((same + 1))
        fi
    done
    [ -n "$leaked" ]
    escaped_if $? token-other-uid "token read from:${leaked:- none}; $others processes of other uids, $readable environ readable"
    local init
    init="$(tr '\0' '\n' </proc/1/environ 2>&1)"
    grep -q '^CLAUDE_CODE_OAUTH_TOKEN=' <<<"$init"
    escaped_if $? token-init-environ "pid 1 ($(cat /proc/1/comm)) environ: $(grep -c = <<<"$init") variables, no token"
    echo "INFO same-uid-processes $same (their environ is readable to the agent, by design of uid 1000)"
}

# Writing outside what the bottle grants.
a_writes() {
    local d wrote=""
    for d in / /etc /usr /usr/bin /usr/local/bin /bin /sbin /lib /var /var/log /opt /root /srv \
        /run /config /home /proc/sys/kernel /sys/fs/cgroup; do
        if (: >"$d/.adversary-$$") 2>/dev/null; then
            wrote+=" $d"
            rm -f "$d/.adversary-$$"
        fi
    done
    [ -n "$wrote" ]
    escaped_if $? write-system-paths "wrote to:${wrote:- none of / /etc /usr /bin /var /opt /root /run /config /home /proc/sys /sys}"
    local writable unexpected
    writable="$(find / \( -path /proc -o -path /sys -o -path /dev \) -prune -o -writable \
        \( -type d -o -type f \) -print 2>/dev/null |
        grep -vE '^(/home/agent|/tmp|/var/tmp|/run/lock|/dev/shm)(/|$)')"
    unexpected="$(head -c 300 <<<"$writable")"
    [ -n "$writable" ]
    escaped_if $? write-outside-grants "writable beyond /home/agent /tmp /var/tmp /run/lock /dev/shm:${unexpected:- nothing}"
    echo "INFO writable $(for d in /home/agent /tmp /var/tmp /run/lock /dev/shm; do [ -w "$d" ] && printf '%s ' "$d"; done)"
}

# After every admin and config attempt, the policy is what it was.
a_policy_unchanged() {
    local denied allowed
    denied="$(curl -s -m 10 -x "http://$proxy" -w ' status=%{http_code}' http://denied.test/ 2>&1)"
    allowed="$(curl -s -m 10 -x "http://$proxy" http://allowed.test/ 2>&1)"
    [[ "$(answered_by "$denied")" == denied-server || "$(answered_by "$allowed")" != allowed-server ]]
    escaped_if $? policy-unchanged "denied.test: $denied; allowed.test: $(answered_by "$allowed")"
}

controls() {
    local r
    r="$(curl -s -m 10 -x "http://$proxy" http://allowed.test/ 2>&1)"
    [ "$(answered_by "$r")" = allowed-server ] && echo "CONTROL proxy-http ok" ||
        echo "CONTROL proxy-http FAILED $r"
    r="$(curl -s -m 10 -p -x "http://$proxy" http://allowed.test/ 2>&1)"
    [ "$(answered_by "$r")" = allowed-server ] && echo "CONTROL proxy-connect ok" ||
        echo "CONTROL proxy-connect FAILED $r"
}

# --- run: all at once, then print in a fixed order --------------------------

attacks=(a_direct_ipv4 a_direct_ipv6 a_dns a_metadata a_host a_docker_socket a_neighbour
    a_admin a_sidecar_config a_connect_tricks a_uri_tricks a_raw_sockets a_privileges
    a_tokens a_writes controls)
for attack in "${attacks[@]}"; do
    "$attack" >"$out/$attack" 2>"$out/$attack.err" &
done
wait
a_policy_unchanged >"$out/a_policy_unchanged"
for attack in "${attacks[@]}" a_policy_unchanged; do
    cat "$out/$attack"
done
rm -rf "$out"
