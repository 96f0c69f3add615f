# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared helpers for tests/netns/*.sh: sourced, never run.
#
# Every test runs in its own subshell (run_test) with its own namespaces, pin
# dir and processes, all named after this shell's PID and a per-file counter,
# so two suites can run side by side and a failed test leaves nothing behind.
# Nothing here touches the root namespace's interfaces, addresses or routes.
#
# Inside a test (after ig_make_pair):
#   $SRV $CLI   namespace names          $VS $VC   server / client veth
#   $S4 $C4     server / client IPv4     $S6 $C6   server / client IPv6
#   $PIN        the instance's pin dir   $IG_TMP   scratch dir
#   ig ARGS...  the CLI, run in the server namespace with --pin-dir $PIN
#
# Helpers hand results back in globals (CURL_*, UDP_*) and the per-test state
# is set inside run_test's subshell on purpose:
# shellcheck disable=SC2030,SC2031,SC2034

IG_BIN=${IG_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/infergate}
IG_BUILD=${IG_BUILD:-$(dirname "$IG_BIN")}
IG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# pyenv shims re-exec through a shell script (~100 ms each): resolve once.
IG_PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)

ig_seq=0

# The runner's own scratch (test logs), gone when the file's shell exits.
IG_RUN_DIR=$(mktemp -d)
trap 'rm -rf "$IG_RUN_DIR"' EXIT
trap 'exit 143' INT TERM

# ---------------------------------------------------------------- results

ig_fail() {
	echo "$*" >&2
	exit 1
}

# Ends the test as skipped; run_test prints the reason.
ig_skip() {
	printf '%s\n' "$*" >"$IG_SKIP_FILE"
	exit 77
}

ig_assert_eq() { # ACTUAL EXPECTED WHAT
	[ "$1" = "$2" ] || ig_fail "$3: got '$1', expected '$2'"
}

ig_assert_range() { # VALUE LO HI WHAT   (integers, inclusive)
	if ! [[ "$1" =~ ^-?[0-9]+$ ]] || [ "$1" -lt "$2" ] || [ "$1" -gt "$3" ]; then
		ig_fail "$4: got '$1', expected $2..$3"
	fi
}

ig_assert_ge() { # VALUE MIN WHAT
	if ! [[ "$1" =~ ^-?[0-9]+$ ]] || [ "$1" -lt "$2" ]; then
		ig_fail "$3: got '$1', expected >= $2"
	fi
}

# Float comparison, for measured times: ig_fcmp 'a < b' (true/false exit).
ig_fcmp() {
	awk "BEGIN { exit !($1) }"
}

ig_calc() { # awk expression -> printed with 6 decimals (never 1.8e+09)
	awk "BEGIN { printf \"%.6f\\n\", $1 }"
}

ig_now() {
	echo "$EPOCHREALTIME"
}

ig_now_us() {
	local t=$EPOCHREALTIME
	echo $((10#${t/./}))
}

# Poll CMD until it succeeds, at most TIMEOUT seconds. Sleeping between polls
# only paces the loop; the condition is what synchronises.
ig_wait_for() { # TIMEOUT WHAT CMD...
	local timeout=$1 what=$2 end
	shift 2
	end=$(($(ig_now_us) + timeout * 1000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(ig_now_us)" -lt "$end" ] || ig_fail "timed out after ${timeout}s waiting for $what"
		sleep 0.02
	done
}

# ---------------------------------------------------------------- cleanup

ig_cleanup() {
	local pid ns dir
	# Runs from the EXIT trap of a `set -e` subshell: clean up everything
	# even when one step fails.
	set +eE
	trap - ERR
	for pid in "${IG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${IG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# Deleting a namespace destroys its veth end (and with it the peer and any
	# program attached to either); pinned links are released below.
	for ns in "${IG_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for dir in "${IG_PINS[@]}"; do
		case "$dir" in
		/sys/fs/bpf/ig-test-*) rm -rf "$dir" 2>/dev/null ;;
		esac
	done
	[ -n "${IG_TMP:-}" ] && rm -rf "$IG_TMP"
}

# To fd 9, the test's log: a command failing inside a function called with
# its stderr sent to a file (`ig attach ... 2>"$IG_TMP/err"`) runs this trap
# under that redirection, and the test then ended without a word.
ig_on_err() { # RC LINE CMD
	echo "command failed (exit $1) at line $2: $3" >&9
}

# ---------------------------------------------------------------- runner

# run_test NAME FUNC: runs FUNC in a subshell with set -e and a cleanup trap,
# prints "ok   NAME", "FAIL NAME" + indented output, or "skip NAME: reason".
run_test() {
	local name=$1 func=$2 log rc
	# IG_TEST=GLOB: only the tests whose name matches (e.g. 'xdp/attack-first*')
	# shellcheck disable=SC2053
	[ -z "${IG_TEST:-}" ] || [[ "$name" == $IG_TEST ]] || return 0
	ig_seq=$((ig_seq + 1))
	log=$IG_RUN_DIR/log.$ig_seq
	IG_SKIP_FILE=$IG_RUN_DIR/skip.$ig_seq
	: >"$IG_SKIP_FILE"
	(
		set -eE -o pipefail
		exec 9>&2
		IG_PIDS=() IG_NETNS=() IG_PINS=()
		IG_TMP=$(mktemp -d)
		IG_N=$ig_seq
		trap ig_cleanup EXIT
		trap 'exit 130' INT TERM
		trap 'ig_on_err $? $LINENO "$BASH_COMMAND"' ERR
		ig_preflight
		"$func"
	) >"$log" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok   $name"
		# what a test measured is worth seeing even when it passes
		grep '^measured:' "$log" | sed 's/^/     /' || true
	elif [ "$rc" -eq 77 ]; then
		echo "skip $name: $(head -n1 "$IG_SKIP_FILE")"
	else
		echo "FAIL $name"
		tail -n "${IG_DIAG_LINES:-40}" "$log" | sed 's/^/    /'
		# a test that fails without a word at least says how it ended
		[ -s "$log" ] || echo "    (no output: exit status $rc$([ "$rc" -le 128 ] ||
			echo ", signal $((rc - 128))"))"
	fi
	rm -f "$log" "$IG_SKIP_FILE"
	return 0
}

ig_preflight() {
	[ "$(id -u)" -eq 0 ] || ig_skip "needs root"
	[ -x "$IG_BIN" ] || ig_skip "no CLI at $IG_BIN"
	grep -q '^bpf /sys/fs/bpf ' /proc/mounts || ig_skip "bpffs not mounted at /sys/fs/bpf"
	local t
	for t in ip nsenter curl ss ethtool bpftool; do
		command -v "$t" >/dev/null || ig_skip "$t not installed"
	done
	[ -n "$IG_PY" ] || ig_skip "python3 not installed"
}

# ---------------------------------------------------------------- hosts

# Two namespaces joined by a veth pair. The server end ($VS) is where the
# limiter goes; the client end ($VC) gets GRO and an XDP_PASS program so that
# what the server's XDP program sends back with XDP_TX is received (see
# ig_peer_xdp_pass). Created directly in the namespaces: nothing appears in
# the root namespace, not even for a moment.
ig_make_pair() {
	local id="$$x$IG_N"
	SRV="igs-$id" CLI="igc-$id"
	VS="ig${id}s" VC="ig${id}c"
	# IFNAMSIZ: a 7-digit PID and a 3-digit test number still fit.
	[ ${#VS} -le 15 ] || ig_fail "interface name $VS too long"
	S4=198.18.$((IG_N % 250 + 1)).1 C4=198.18.$((IG_N % 250 + 1)).2
	S6=fd00::1 C6=fd00::2
	PIN=/sys/fs/bpf/ig-test-$$-$IG_N
	IG_PINS+=("$PIN")

	ip netns add "$SRV"
	IG_NETNS+=("$SRV")
	ip netns add "$CLI"
	IG_NETNS+=("$CLI")
	ip link add "$VS" netns "$SRV" type veth peer name "$VC" netns "$CLI"
	ig_srv ip link set lo up
	ig_cli ip link set lo up
	ig_srv ip addr add "$S4/24" dev "$VS"
	ig_cli ip addr add "$C4/24" dev "$VC"
	ig_srv ip -6 addr add "$S6/64" dev "$VS" nodad
	ig_cli ip -6 addr add "$C6/64" dev "$VC" nodad
	ig_cli ethtool -K "$VC" gro on >/dev/null
	ig_peer_xdp_pass
	ig_srv ip link set "$VS" up
	ig_cli ip link set "$VC" up
	ig_wait_for 5 "$VS up" ig_link_usable "$SRV" "$VS" "$S6"
	ig_wait_for 5 "$VC up" ig_link_usable "$CLI" "$VC" "$C6"
}

# A two-instruction XDP_PASS program on the client end. Measured on 6.18: GRO
# on the peer is not enough for XDP_TX. veth_xdp_xmit() queues the frame in
# the peer's ring (xdp:xdp_bulk_tx says sent=1 err=0), but veth_xdp_flush()
# only schedules the peer's NAPI when the peer has an XDP program, so the
# reply sits in the ring and the client never sees it. (Redirects are kicked
# with XDP_XMIT_FLUSH and do not have this problem.)
# The program is tests/lib/xdp_pass.bpf.c, pinned in the test's own dir and
# attached with bpftool (iproute2 would create its /sys/fs/bpf/{tc,xdp,ip}
# dirs, outside what the test owns); deleting the namespace detaches it.
# DEV (default $VC) and a pin dir suffix for a test with more client links.
ig_peer_xdp_pass() { # [DEV [SUFFIX]]
	local pin=/sys/fs/bpf/ig-test-$$-$IG_N-peer${2:-}
	IG_PINS+=("$pin")
	mkdir "$pin"
	bpftool prog load "$IG_BUILD/tests/xdp_pass.bpf.o" "$pin/prog" type xdp
	ig_cli bpftool net attach xdpdrv pinned "$pin/prog" dev "${1:-$VC}"
}

# Carrier on, and the IPv6 address present and not tentative.
ig_link_usable() { # NS DEV ADDR6
	local out
	out=$(nsenter --net="/run/netns/$1" ip -6 addr show dev "$2") || return 1
	nsenter --net="/run/netns/$1" ip link show dev "$2" | grep 'LOWER_UP' >/dev/null || return 1
	grep -q "inet6 $3/" <<<"$out" || return 1
	! grep -q tentative <<<"$out"
}

ig_srv() { nsenter --net="/run/netns/$SRV" "$@"; }
ig_cli() { nsenter --net="/run/netns/$CLI" "$@"; }

# The CLI for the server namespace. nsenter, not `ip netns exec`, which
# remounts /sys and would hide /sys/fs/bpf.
ig() { nsenter --net="/run/netns/$SRV" "$IG_BIN" --pin-dir "$PIN" "$@"; }

ig_attach() { # [extra attach args]
	if [ "$HOOK" = xdp ]; then
		ig attach "$VS" --hook xdp --xdp-mode native "$@"
	else
		ig attach "$VS" --hook tc "$@"
	fi
}

# ---------------------------------------------------------------- status

# ig_json EXPR: evaluates a python expression over `j` = `ig status --json`.
# port(P, PROTO) finds a port entry, reason(P, PROTO, R) one of its reasons.
ig_json() {
	local js
	js=$(ig status --json) || ig_fail "status --json failed"
	"$IG_PY" -c '
import json, sys
j = json.loads(sys.argv[2])
def port(p, proto="tcp"):
    for e in j["ports"]:
        if int(e["port"]) == int(p) and str(e["proto"]).lower() == proto:
            return e
    raise SystemExit("port %s/%s not in status --json" % (p, proto))
def reason(p, proto, r):
    return port(p, proto)["reasons"][r]
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1" "$js"
}

# ---------------------------------------------------------------- servers

# A TCP server (HTTP enough for curl) or UDP echo server listening on [::]
# (dual stack), counting accepted connections / datagrams into a file.
ig_write_server() {
	cat >"$IG_TMP/server.py" <<'EOF'
import os, socket, sys

mode, port, countfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def record(n):
    # rename: a reader never sees a half-written count
    with open(countfile + ".tmp", "w") as f:
        f.write("%d\n" % n)
    os.replace(countfile + ".tmp", countfile)

kind = socket.SOCK_STREAM if mode == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET6, kind)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))
n = 0
record(n)
if mode == "udp":
    while True:
        data, peer = s.recvfrom(2048)
        n += 1
        record(n)
        s.sendto(data, peer)
s.listen(1024)
body = b"infergate test server\n"
while True:
    c, _ = s.accept()
    n += 1
    record(n)
    c.settimeout(2)
    try:
        req = b""
        while b"\r\n\r\n" not in req:
            chunk = c.recv(4096)
            if not chunk:
                break
            req += chunk
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                  % len(body) + body)
    except OSError:
        pass
    c.close()
EOF
}

# ig_start_server tcp|udp PORT: starts it in $SRV and waits until it listens.
ig_start_server() {
	local mode=$1 port=$2 flag
	[ -f "$IG_TMP/server.py" ] || ig_write_server
	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_TMP/server.py" "$mode" "$port" \
		"$IG_TMP/count.$mode.$port" >"$IG_TMP/server.$mode.$port.log" 2>&1 &
	IG_PIDS+=($!)
	[ "$mode" = tcp ] && flag=-Hltn || flag=-Hlun
	ig_wait_for 5 "$mode server on port $port" ig_listening "$flag" "$port"
}

ig_listening() { # SS_FLAGS PORT
	[ -n "$(ig_srv ss "$1" "sport = :$2")" ]
}

ig_server_count() { # tcp|udp PORT
	cat "$IG_TMP/count.$1.$2"
}

# The toy HTTP backend (tests/lib/backend.py) on PORT in $SRV, answering as
# $IG_TMP/mode.PORT says (ok, 503, hang); its PID in IG_BACKEND_PID_<PORT>.
ig_start_backend() { # NAME PORT
	echo ok >"$IG_TMP/mode.$2"
	# nsenter itself, not a shell function: $! must be the server's PID
	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_LIB/backend.py" "$1" "$2" "$IG_TMP/mode.$2" \
		>"$IG_TMP/backend.$2.log" 2>&1 &
	IG_PIDS+=($!)
	eval "IG_BACKEND_PID_$2=$!"
	ig_wait_for 5 "backend on port $2" ig_listening -Hltn "$2"
}

ig_set_mode() { # PORT MODE
	echo "$2" >"$IG_TMP/mode.$1.tmp"
	mv "$IG_TMP/mode.$1.tmp" "$IG_TMP/mode.$1"
}

# The agent (infergate run) in $SRV with $IG_TMP/agent.conf, logging to
# $IG_TMP/agent.log (appended: a restart adds to it); returns once this run
# says it is running. Its PID in IG_AGENT_PID.
ig_start_agent() {
	local runs
	: >>"$IG_TMP/agent.log"
	runs=$(grep -c "running on $VS" "$IG_TMP/agent.log" || true)
	nsenter --net="/run/netns/$SRV" "$IG_BIN" --pin-dir "$PIN" run --config "$IG_TMP/agent.conf" \
		--pid-file "$IG_TMP/agent.pid" >>"$IG_TMP/agent.log" 2>&1 &
	IG_AGENT_PID=$!
	IG_PIDS+=($IG_AGENT_PID)
	ig_wait_for 10 "the agent to start" ig_agent_runs_more_than "$runs"
}

ig_agent_runs_more_than() { [ "$(grep -c "running on $VS" "$IG_TMP/agent.log")" -gt "$1" ]; }

# ---------------------------------------------------------------- clients

# ig_curl_run N URL CONNECT_TIMEOUT: N sequential curl connections from $CLI.
# Sets CURL_OK (HTTP 200), CURL_REFUSED (exit 7), CURL_TIMEOUT (exit 28),
# CURL_OTHER, CURL_T0/CURL_T1 (epoch s around the run), CURL_MAX_REFUSED and
# CURL_MAX_OK (slowest such attempt, s), CURL_MIN_TIMEOUT (s).
ig_curl_run() {
	local n=$1 url=$2 cto=$3 i rc out code t
	CURL_OK=0 CURL_REFUSED=0 CURL_TIMEOUT=0 CURL_OTHER=0
	CURL_MAX_REFUSED=0 CURL_MAX_OK=0 CURL_MIN_TIMEOUT=999 CURL_OTHER_INFO=
	CURL_T0=$(ig_now)
	for ((i = 0; i < n; i++)); do
		rc=0
		out=$(ig_cli curl -q -s -o /dev/null --noproxy '*' --connect-timeout "$cto" \
			-m $((${cto%.*} + 5)) -w '%{http_code} %{time_total}' "$url") || rc=$?
		code=${out%% *} t=${out##* }
		if [ "$rc" -eq 0 ] && [ "$code" = 200 ]; then
			CURL_OK=$((CURL_OK + 1))
			ig_fcmp "$t > $CURL_MAX_OK" && CURL_MAX_OK=$t
		elif [ "$rc" -eq 7 ]; then
			CURL_REFUSED=$((CURL_REFUSED + 1))
			ig_fcmp "$t > $CURL_MAX_REFUSED" && CURL_MAX_REFUSED=$t
		elif [ "$rc" -eq 28 ]; then
			CURL_TIMEOUT=$((CURL_TIMEOUT + 1))
			ig_fcmp "$t < $CURL_MIN_TIMEOUT" && CURL_MIN_TIMEOUT=$t
		else
			CURL_OTHER=$((CURL_OTHER + 1))
			CURL_OTHER_INFO+=" [#$i rc=$rc out=$out]"
		fi
	done
	CURL_T1=$(ig_now)
	CURL_DUR=$(ig_calc "$CURL_T1 - $CURL_T0")
}

ig_curl_summary() {
	echo "ok=$CURL_OK refused=$CURL_REFUSED timeout=$CURL_TIMEOUT other=$CURL_OTHER" \
		"dur=${CURL_DUR}s max_ok=${CURL_MAX_OK}s max_refused=${CURL_MAX_REFUSED}s$CURL_OTHER_INFO"
}

# Admitted by a bucket (burst B, rate R/s) over a measured D seconds of
# back-to-back attempts: B + R*D, give or take one unit for where the window's
# edges fall relative to the refills, with 20 ms of slack for what the clock
# around the run measures beyond the first and last packet (process start-up,
# the data path's 4 ms tick). CARRY (default 0) widens the top for a bucket
# that held up to CARRY units already, e.g. the fraction of a unit left when a
# previous run ended. Prints "LO HI".
ig_expect_window() { # BURST RATE DUR [CARRY]
	awk -v b="$1" -v r="$2" -v d="$3" -v c="${4:-0}" 'BEGIN {
		lo = int(b + r * (d - 0.02)) - 1; hi = int(b + c + r * (d + 0.02)) + 1
		if (lo < 0) lo = 0
		print lo, hi }'
}

# ig_udp_run ADDR PORT N TIMEOUT: N datagrams from $CLI, each on a fresh
# connected socket waiting for the echo. Sets UDP_OK, UDP_REFUSED (ICMP port
# unreachable surfaced as ECONNREFUSED), UDP_TIMEOUT, UDP_DUR.
ig_udp_run() {
	local out
	out=$(ig_cli "$IG_PY" -c '
import socket, sys, time
addr, port, n, to = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
ok = refused = timeout = 0
t0 = time.time()
for i in range(n):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(to)
    s.connect((addr, port))
    s.send(b"probe %d" % i)
    try:
        if s.recv(2048) == b"probe %d" % i:
            ok += 1
    except ConnectionRefusedError:
        refused += 1
    except socket.timeout:
        timeout += 1
    s.close()
print(ok, refused, timeout, time.time() - t0)
' "$1" "$2" "$3" "$4")
	read -r UDP_OK UDP_REFUSED UDP_TIMEOUT UDP_DUR <<<"$out"
}

# ig_attempts FROM N [TIMEOUT_S [PORT]]: N TCP connection attempts from the
# client address FROM to the server's port (8000), each given TIMEOUT_S
# (0.3): prints "ok failed".
ig_attempts() {
	ig_cli "$IG_PY" -c '
import socket, sys
src, dst, port, n, t = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ok = failed = 0
for i in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(t)
    try:
        s.connect((dst, port))
        ok += 1
    except OSError:
        failed += 1
    s.close()
print(ok, failed)
' "$1" "$S4" "${4:-8000}" "$2" "${3:-0.3}"
}

# ---------------------------------------------------------------- attachments

# Little-endian hex bytes for bpftool.
ig_hex_le() { # VALUE BYTES
	local v=$1 n=$2 i out=
	for ((i = 0; i < n; i++)); do
		out+=$(printf '%02x ' $(((v >> (8 * i)) & 0xff)))
	done
	echo "${out% }"
}

# XDP program on DEV in namespace NS, as `ip -d link` shows it.
ig_has_xdp() { # NS DEV
	nsenter --net="/run/netns/$1" ip -d link show dev "$2" | grep 'xdp' >/dev/null
}

# Number of programs on DEV's tcx ingress + egress, asked of the kernel with
# BPF_PROG_QUERY: bpftool 7.1 and iproute2 6.1 predate tcx and cannot show it.
ig_tcx_count() { # NS DEV
	nsenter --net="/run/netns/$1" "$IG_PY" -c '
import ctypes, os, platform, socket, sys
nr_bpf = {"x86_64": 321, "aarch64": 280}[platform.machine()]
BPF_PROG_QUERY, BPF_TCX_INGRESS, BPF_TCX_EGRESS = 16, 46, 47
class Query(ctypes.Structure):
    _fields_ = [("target_ifindex", ctypes.c_uint32), ("attach_type", ctypes.c_uint32),
                ("query_flags", ctypes.c_uint32), ("attach_flags", ctypes.c_uint32),
                ("prog_ids", ctypes.c_uint64), ("prog_cnt", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("prog_attach_flags", ctypes.c_uint64),
                ("link_ids", ctypes.c_uint64), ("link_attach_flags", ctypes.c_uint64),
                ("revision", ctypes.c_uint64)]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ifindex = socket.if_nametoindex(sys.argv[1])
total = 0
for at in (BPF_TCX_INGRESS, BPF_TCX_EGRESS):
    q = Query(target_ifindex=ifindex, attach_type=at)
    if libc.syscall(ctypes.c_long(nr_bpf), ctypes.c_int(BPF_PROG_QUERY), ctypes.byref(q),
                    ctypes.c_uint(ctypes.sizeof(q))) != 0:
        e = ctypes.get_errno()
        sys.exit("BPF_PROG_QUERY(%d): %s" % (at, os.strerror(e)))
    total += q.prog_cnt
print(total)
' "$2"
}

# bpftool's view inside the namespace: number of xdp and (classic) tc entries.
ig_bpftool_net_count() { # NS DEV
	nsenter --net="/run/netns/$1" bpftool -j net show dev "$2" | "$IG_PY" -c '
import json, sys
print(sum(len(e.get("xdp", [])) + len(e.get("tc", [])) for e in json.load(sys.stdin)))
'
}

# Nothing of ours on DEV: no XDP, no tcx program, no tc filter. Fails with why.
ig_assert_clean() { # NS DEV
	if ig_has_xdp "$1" "$2"; then
		ig_fail "XDP still attached to $2: $(nsenter --net="/run/netns/$1" ip -d link show dev "$2" | grep xdp)"
	fi
	ig_assert_eq "$(ig_tcx_count "$1" "$2")" 0 "tcx programs on $2"
	ig_assert_eq "$(ig_bpftool_net_count "$1" "$2")" 0 \
		"xdp/tc entries in bpftool net show dev $2 ($(nsenter --net="/run/netns/$1" bpftool net show dev "$2" | tr '\n' ' '))"
}

# Programs of ours on DEV: the ingress one (XDP or tcx) plus the tcx egress one.
ig_attached_count() { # NS DEV
	local x=0
	if ig_has_xdp "$1" "$2"; then x=1; fi
	echo $((x + $(ig_tcx_count "$1" "$2")))
}
