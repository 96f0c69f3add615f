#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Per-request limits (--unit request) against a client that shapes its own
# segments, on both hooks: pipelining, requests cut across segments, bodies
# that look like requests, duplicated and reordered segments, spoofed data
# floods and floods of real connections, and a client that keeps talking after
# its 429.
#
# The clients are tests/lib/req_attack.py (raw TCP sockets, TCP_NODELAY, one
# JSON line per scenario); the backend is tests/lib/req_sink.py, which counts
# every request whatever its body (openai_server.py refuses bodies that are not
# JSON, and these are not). Counts are exact: the rate is 1/s, each scenario
# charges its source faster than that, and the charge its bucket holds is read
# off the 429 that ends it (retry-after-ms; see req_attack.py), then compared
# with what the backend saw.
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000
SCAPY_PY=/usr/bin/python3

# Namespaces, the sink on $PORT, infergate on $HOOK with the limit given, and
# client addresses $C4 $C4B $C4C $C4D (IPv4), $C6 $C6B (IPv6): a scenario per
# address, each with a bucket of its own.
setup() { # LIMIT ARGS...
	local out a
	req_preflight
	ig_make_pair
	C4B=${C4%.*}.3 C4C=${C4%.*}.4 C4D=${C4%.*}.5 C6B=fd00::3
	for a in "$C4B" "$C4C" "$C4D"; do
		ig_cli ip addr add "$a/24" dev "$VC"
	done
	ig_cli ip -6 addr add "$C6B/64" dev "$VC" nodad preferred_lft 0
	ig_wait_for 5 "$C6B usable" ig_link_usable "$CLI" "$VC" "$C6B"
	start_backend req_sink.py sink
	ig_attach
	out=$(ig limit "$PORT/tcp" "$@" 2>&1) || ig_fail "ig limit $PORT/tcp $*: $out"
	RATE=$(ig_json "port($PORT)['rate']") BURST=$(ig_json "port($PORT)['burst']")
}

# What the backend saw: an expression over j = GET /stats, asked over the
# server namespace's loopback (no limiter there).
api() { # EXPR
	local js
	js=$(ig_srv curl -q -s --noproxy '*' -m 5 "http://127.0.0.1:$PORT/stats") ||
		ig_fail "GET /stats failed"
	jq_py "$1" "$js"
}

seen() { api "j['by_peer'].get('$1', 0)"; } # ADDR: requests the backend saw from it

# A scenario of req_attack.py from the client namespace, from SRC to the
# server's address of SRC's family. Sets AT (its JSON line).
att() { # SCENARIO SRC [ARGS...]
	local sc=$1 src=$2 host=$S4
	shift 2
	[[ "$src" == *:* ]] && host=$S6
	AT=$(ig_cli "$IG_PY" "$IG_LIB/req_attack.py" "$sc" --host "$host" --port "$PORT" \
		--src "$src" --burst "$BURST" --rate "$RATE" "$@") ||
		ig_fail "req_attack.py $sc failed: $AT"
	echo "$sc from $src: $AT"
	[ "$(at '.get("exception")')" = None ] || ig_fail "$sc from $src: $(at '["exception"]')"
}

at() { jq_py "j$1" "$AT"; } # EXPR: over the last scenario's JSON

# The bucket's charge read off the scenario's closing 429, rounded, against
# the backend's count for SRC: equal, or the data path charged what no server
# saw (or let through what it did not charge).
assert_charge() { # SRC WHAT [TYPE: the 429's error type, None for the brief one]
	local c
	[ "$(at '.get("r429") is not None')" = True ] || ig_fail "$2: no 429 ended the fill: $AT"
	c=$(jq_py 'round(j["charge"])' "$AT")
	ig_fcmp "$(at '["charge"]') - $c < 0.2 && $c - $(at '["charge"]') < 0.2" ||
		ig_fail "$2: charge $(at '["charge"]') is no whole number (timing off?)"
	ig_assert_eq "$c" "$(seen "$1")" "$2: units charged to $1 vs requests the backend saw"
	ig_assert_eq "$(at '["r429"]["type"]')" "${3:-rate_limit_exceeded}" "$2: the 429's error type"
	ig_assert_eq "$(at '["fin_after_429"]')" True "$2: FIN after the 429"
	CHARGE=$c
}

# Entries in http_conns, asked in the server's namespace.
conns_entries() {
	ig_srv bpftool -j map dump pinned "$PIN/http_conns" |
		"$IG_PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

server_sockets() { # established sockets on the server's port
	ig_srv ss -Htn state established "( sport = :$PORT )" | wc -l
}

# 1. Three requests in one send(): one segment, three requests for the
# backend and three units for the bucket (burst 3: the next one is a 429);
# then five from another address, more than the burst in one segment.
t_pipeline() {
	setup --rate 1/s --burst 3 --unit request --action reject
	mark
	att pipeline "$C4" --n 3
	ig_assert_eq "$(at '["segs"]')" 1 "data segments the three requests took"
	ig_assert_eq "$(at '["statuses"]')" "[200, 200, 200]" "pipelined responses"
	ig_assert_eq "$(seen "$C4")" 3 "requests the backend saw"
	ig_assert_eq "$(at '["fill_ok"]')" 0 "requests admitted after the three (burst 3)"
	assert_charge "$C4" "pipelined"
	ig_assert_eq "$(grown admitted)" 1 "admitted segments (one for three requests)"
	ig_assert_eq "$(grown reject_429)" 1 "reject_429"
	assert_no_leftovers
	echo "measured: pipelining: 3 requests in 1 segment, backend saw 3, charge $CHARGE," \
		"4th answered 429 (retry-after-ms $(at '["r429"]["retry_after_ms"]'))"
	# more requests in one segment than the burst: admitted from a full
	# bucket, and the source owes all of them (refused for ever before 0.6)
	mark
	att pipeline "$C4B" --n 5
	ig_assert_eq "$(at '["segs"]')" 1 "data segments the five requests took"
	ig_assert_eq "$(at '["statuses"]')" "[200, 200, 200, 200, 200]" "5 pipelined past burst 3"
	ig_assert_eq "$(at '["fill_ok"]')" 0 "requests admitted after the five"
	assert_charge "$C4B" "pipelined past the burst"
	echo "measured: 5 requests in 1 segment at burst 3: all served, charge $CHARGE," \
		"next one 429 (retry-after-ms $(at '["r429"]["retry_after_ms"]'))"
}

# 2. Requests cut inside the method ("PO" | "ST ...", "P" | "OST ..."), inside
# a header name and before the body, each piece acknowledged before the next
# goes: one unit each. The segment count is the client's and the server
# socket's (TCP_INFO at both ends).
t_split() { # FAMILY
	local src segs
	setup --rate 1/s --burst 3 --unit request --action reject
	if [ "$1" = 6 ]; then src=$C6; else src=$C4; fi
	mark
	att split "$src"
	segs=$(at '["segs"]')
	ig_assert_eq "$segs" "$(at '["pieces"]')" "data segments sent (one per piece)"
	ig_assert_eq "$(at '["ack_timeouts"]')" 0 "pieces not acknowledged within 5 s"
	ig_assert_eq "$(at '["statuses"]')" "[200, 200]" "responses to the cut requests"
	ig_assert_eq "$(at '["fill_ok"]')" 1 "requests admitted after the two (burst 3)"
	ig_assert_eq "$(seen "$src")" 3 "requests the backend saw (2 + the fill's 1)"
	assert_charge "$src" "requests cut across segments"
	# the server's own count: the pieces and the fill's one admitted request
	ig_assert_eq "$(api "j['segs_in']['$src $(at '["sport"]')']")" "$((segs + 1))" \
		"data segments the server's socket received"
	ig_assert_eq "$(grown admitted)" 3 "admitted segments (one per request start)"
	echo "measured: split ($src): 2 requests in $segs segments, charge $CHARGE;" \
		"admitted $(grown admitted), pass_free $(grown pass_free)"
}

# 3. A body full of request lines is one request: Content-Length (5 segments,
# each a whole POST + GET) and chunked (each segment a chunk holding them).
t_bodies() {
	setup --rate 1/s --burst 3 --unit request --action reject
	mark
	att body-cl "$C4" --pieces 5
	ig_assert_eq "$(at '["statuses"]')" "[200]" "the POST with the requests in its body"
	ig_assert_eq "$(at '["ack_timeouts"]')" 0 "pieces not acknowledged within 5 s"
	ig_assert_eq "$(api "j['bodies'][0]")" "[\"POST\", \"length\", $(at '["body_len"]')]" \
		"the body the backend read"
	ig_assert_eq "$(seen "$C4")" 3 "requests the backend saw (1 + the fill's 2)"
	assert_charge "$C4" "Content-Length body of requests"

	att body-chunked "$C4B" --pieces 5
	ig_assert_eq "$(at '["statuses"]')" "[200]" "the chunked POST with requests in its chunks"
	ig_assert_eq "$(at '["ack_timeouts"]')" 0 "pieces not acknowledged within 5 s"
	ig_assert_eq "$(api "[b for b in j['bodies'] if b[1] == 'chunked']")" \
		"[[\"POST\", \"chunked\", $(at '["body_len"]')]]" "the chunked body the backend read"
	ig_assert_eq "$(seen "$C4B")" 3 "requests the backend saw (1 + the fill's 2)"
	assert_charge "$C4B" "chunked body of requests"
	ig_assert_eq "$(grown drop_unframed)" 0 "drop_unframed"
	echo "measured: bodies: 5 segments of POST+GET lines in a Content-Length body, and in" \
		"chunks: 1 request each for the backend and the bucket"
}

# This kernel has no netem (CONFIG_NET_SCH_NETEM unset), so duplicates and
# reordering are made with what it has, on the client's veth, for segments to
# the port only:
# every segment twice: an nft netdev egress hook duplicating each frame (the
# copy goes out right behind it);
dup_segments() {
	ig_cli nft -f - <<EOF
table netdev igdup {
	chain eg {
		type filter hook egress device "$VC" priority 0; policy accept;
		tcp dport $PORT dup to "$VC"
	}
}
EOF
}

# reordering: an HTB with a second class at 80 kbit/s and no burst, which
# holds each frame ~10 ms per 100 bytes, for the segments whose sequence
# number has bit 6 set (u32 at the TCP header's seq: IPv4 without options,
# IPv6 without extension headers): with segments of ~50 bytes, about every
# other one is overtaken by its successors.
reorder_segments() {
	local seq6=$((40 + 4)) seq4=$((20 + 4))
	ig_cli tc qdisc add dev "$VC" root handle 1: htb default 1
	ig_cli tc class add dev "$VC" parent 1: classid 1:1 htb rate 1gbit
	ig_cli tc class add dev "$VC" parent 1: classid 1:2 htb rate 80kbit ceil 80kbit \
		burst 1 cburst 1 2>/dev/null
	ig_cli tc filter add dev "$VC" parent 1: protocol ip prio 1 u32 \
		match ip protocol 6 0xff match ip dport "$PORT" 0xffff \
		match u32 0x40 0x40 at "$seq4" flowid 1:2
	ig_cli tc filter add dev "$VC" parent 1: protocol ipv6 prio 2 u32 \
		match ip6 protocol 6 0xff match ip6 dport "$PORT" 0xffff \
		match u32 0x40 0x40 at "$seq6" flowid 1:2
}

# 4a. Duplicates: every segment twice. Pipelined, cut and one-at-a-time
# requests each count once: the backend's count is the bucket's charge.
t_duplicates() {
	setup --rate 1/s --burst 3 --unit request --action reject
	dup_segments
	mark
	att pipeline "$C4" --n 3
	ig_assert_eq "$(at '["statuses"]')" "[200, 200, 200]" "pipelined responses"
	assert_charge "$C4" "pipelined, duplicated"
	att split "$C4B"
	ig_assert_eq "$(at '["statuses"]')" "[200, 200]" "responses to the cut requests"
	assert_charge "$C4B" "cut, duplicated"
	# the warm-up and 2: within burst 3
	att stream "$C4C" --n 2 --pieces 3
	ig_assert_eq "$(at '["statuses"]')" "[200, 200]" "streamed responses"
	assert_charge "$C4C" "streamed, duplicated"
	att stream "$C6B" --n 2 --pieces 4
	ig_assert_eq "$(at '["statuses"]')" "[200, 200]" "streamed responses (IPv6)"
	assert_charge "$C6B" "streamed IPv6, duplicated"
	ig_assert_ge "$(grown pass_free)" 10 "pass_free (the duplicates)"
	assert_no_leftovers
	echo "measured: every segment duplicated: 4 sources, backend counts = charges;" \
		"pass_free $(grown pass_free), admitted $(grown admitted), drop_unframed $(grown drop_unframed)"
}

# 4b. Reordering: about half the segments held back ~5 ms, on connections
# past their first request (a first segment overtaken is 4c's case). What
# arrives ahead of the framing is dropped (drop_unframed) and sent again by
# TCP; every request is served once and charged once. Four connections from
# four addresses, each 1 + 10 requests in 4 pieces each, then the fill.
t_reorder() {
	local src retrans=0 unframed
	setup --rate 1/s --burst 12 --unit request --action reject
	reorder_segments
	mark
	for src in "$C4" "$C4B" "$C6" "$C6B"; do
		att stream "$src" --n 10 --pieces 4 --timeout 20
		ig_assert_eq "$(at '["statuses"].count(200)')" 10 "requests served"
		ig_assert_eq "$(seen "$src")" "$((1 + 10 + $(at '["fill_ok"]')))" \
			"requests the backend saw (the warm-up, 10, the fill's)"
		assert_charge "$src" "reordered"
		retrans=$((retrans + $(at '["retrans"]')))
	done
	unframed=$(grown drop_unframed)
	echo "measured: reordered (htb, seq bit 6 held back): 4 x 10 requests served once," \
		"charged once; drop_unframed $unframed, client retransmissions $retrans"
	ig_assert_ge "$unframed" 1 "drop_unframed (the reordering reached the data path)"
}

# The scapy flood: data segments with a request in them, each from a random
# source (198.18.0.0/15 off the test's own /24, or fd00::/16 off fd00::/64)
# and port, no handshake: N frames built, then sent round and round until
# STOP exists (and all N went at least once; at most 60 s). Writes STARTED
# after the first 100, prints how many went out and in how many seconds.
write_flooder() {
	cat >"$IG_TMP/flood.py" <<'EOF'
import os, random, sys, time
from scapy.all import Ether, IP, IPv6, TCP, Raw, raw, conf

iface, smac, dmac, dst, port, n, started, stop = sys.argv[1:9]
port, n = int(port), int(n)
conf.verb = 0
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: backend\r\nContent-Type: application/json\r\n"
       b"Content-Length: 2\r\n\r\n{}")
local = dst.rsplit(".", 1)[0] + "."
def src4():
    while True:
        a = "198.%d.%d.%d" % (18 + random.getrandbits(1), random.getrandbits(8),
                              random.randint(1, 254))
        if not a.startswith(local):
            return a
def src6():
    return "fd00:" + ":".join("%x" % random.randint(1, 0xffff) for _ in range(7))
six = ":" in dst
frames = []
for i in range(n):
    l3 = IPv6(src=src6(), dst=dst) if six else IP(src=src4(), dst=dst)
    tcp = TCP(sport=random.randint(1024, 65535), dport=port, flags="PA",
              seq=random.getrandbits(32), ack=random.getrandbits(32), window=502)
    frames.append(raw(Ether(src=smac, dst=dmac) / l3 / tcp / Raw(req)))
sock = conf.L2socket(iface=iface)
sent, t0 = 0, time.time()
while sent < n or not os.path.exists(stop):
    if time.time() - t0 > 60:
        break
    try:
        sock.send(frames[sent % n])
    except OSError:  # ENOBUFS: the veth's queue is full
        continue
    sent += 1
    if sent == 100:
        open(started, "w").close()
print(sent, round(time.time() - t0, 3))
EOF
}

# 5a. 5000+ spoofed data segments per family while a real keep-alive client
# sends its requests: no entry in http_conns for any of them, nothing at the
# backend, and the client's count exact.
t_spoof_flood() {
	local fam dst src flood_pid witness_pid entries during sent secs peers=() ready=$IG_TMP/ready release=$IG_TMP/release
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	setup --rate 1/s --burst 5 --unit request --action reject
	write_flooder
	for fam in 4 6; do
		if [ "$fam" = 6 ]; then dst=$S6 src=$C6; else dst=$S4 src=$C4; fi
		rm -f "$IG_TMP/flood.started" "$IG_TMP/flood.stop" "$ready" "$release"
		mark
		ig_cli "$SCAPY_PY" "$IG_TMP/flood.py" "$VC" "$(mac_of ig_cli "$VC")" \
			"$(mac_of ig_srv "$VS")" "$dst" "$PORT" 5000 "$IG_TMP/flood.started" \
			"$IG_TMP/flood.stop" >"$IG_TMP/flood.out" 2>&1 &
		flood_pid=$!
		IG_PIDS+=("$flood_pid")
		ig_wait_for 60 "the flood to start" test -e "$IG_TMP/flood.started"
		# the witness: 4 requests 0.1 s apart, while the flood goes on
		ig_cli "$IG_PY" "$IG_LIB/req_attack.py" hold --host "$dst" --port "$PORT" --src "$src" \
			--burst "$BURST" --rate "$RATE" --n 4 --gap 0.1 --ready "$ready" \
			--release "$release" >"$IG_TMP/witness.out" &
		witness_pid=$!
		IG_PIDS+=("$witness_pid")
		ig_wait_for 10 "the witness's requests" test -e "$ready"
		during=$(conns_entries)
		kill -0 "$flood_pid" 2>/dev/null || ig_fail "the flood ended before the witness did"
		touch "$IG_TMP/flood.stop"
		wait "$flood_pid" || ig_fail "the flood failed: $(cat "$IG_TMP/flood.out")"
		read -r sent secs <<<"$(tail -n1 "$IG_TMP/flood.out")"
		ig_assert_ge "$sent" 5000 "spoofed segments sent"
		ig_assert_eq "$during" 1 "http_conns entries during the flood (the witness's connection)"
		entries=$(conns_entries)
		ig_assert_eq "$entries" 1 "http_conns entries after the flood"
		touch "$release"
		wait "$witness_pid" || ig_fail "the witness failed"
		AT=$(cat "$IG_TMP/witness.out")
		echo "witness: $AT"
		ig_assert_eq "$(at '["statuses"]')" "[200, 200, 200, 200]" "the witness's requests"
		ig_assert_eq "$(at '["fill_ok"]')" 1 "the witness's requests admitted after its 4 (burst 5)"
		assert_charge "$src" "the witness during the flood"
		peers+=("'$src'")
		ig_assert_eq "$(api "sorted(j['by_peer']) == sorted([$(IFS=,; echo "${peers[*]}")])")" True \
			"backend peers are the witnesses ($(api 'sorted(j["by_peer"])'))"
		ig_assert_ge "$(grown pass_free)" "$sent" "pass_free (the spoofed segments, refused by the kernel)"
		echo "measured: spoofed IPv$fam flood: $sent data segments in ${secs}s, http_conns $during entry," \
			"backend peers $(api 'sorted(j["by_peer"])'), witness charge $CHARGE of 5 exact;" \
			"pass_free +$(grown pass_free), admitted +$(grown admitted)"
	done
	ig_assert_eq "$(api 'j["requests"]')" 10 "requests the backend saw in all (the witnesses')"
}

# 5b. 300 real keep-alive connections from one client, one request each:
# one http_conns entry per connection, and FIN (half) or RST (half) takes
# each one out again.
t_conn_flood() {
	local ready=$IG_TMP/ready release=$IG_TMP/release pid entries max sockets
	setup --rate 1/s --burst 400 --unit request --action reject
	max=$(ig_srv bpftool -j map show pinned "$PIN/http_conns" | jq_py 'j["max_entries"]' "$(cat)")
	ig_cli "$IG_PY" "$IG_LIB/req_attack.py" conns --host "$S4" --port "$PORT" --src "$C4" \
		--burst "$BURST" --rate "$RATE" --n 300 --ready "$ready" --release "$release" \
		>"$IG_TMP/conns.out" &
	pid=$!
	IG_PIDS+=("$pid")
	ig_wait_for 60 "300 connections" test -e "$ready"
	AT=$(cat "$ready")
	ig_assert_eq "$(at '["ok"]')" 300 "requests answered 200"
	sockets=$(server_sockets)
	entries=$(conns_entries)
	ig_assert_eq "$sockets" 300 "established sockets on the server"
	ig_assert_eq "$entries" 300 "http_conns entries (one per live connection)"
	touch "$release"
	wait "$pid" || ig_fail "the client failed"
	ig_wait_for 5 "http_conns to empty after FIN/RST" test "$(conns_entries)" = 0
	ig_assert_eq "$(seen "$C4")" 300 "requests the backend saw"
	echo "measured: 300 keep-alive connections: $entries http_conns entries (max $max)," \
		"0 after 150 FIN + 150 RST"
}

# The raw client (lib/req_rawtcp.py) from SRC: the first request cut at
# --cuts and its pieces sent in --order, then --pipeline requests in one
# segment, each resent until acknowledged (3 times at most). Sets AT. The
# client's kernel must not reset the connection it does not know: its RSTs
# from the raw sources are dropped (nft, client side).
rawtcp() { # SRC ARGS...
	local src=$1 dst=$S4
	shift
	[[ "$src" == *:* ]] && dst=$S6
	AT=$(ig_cli "$SCAPY_PY" "$IG_LIB/req_rawtcp.py" "$VC" "$(mac_of ig_cli "$VC")" \
		"$(mac_of ig_srv "$VS")" "$src" "$dst" "$PORT" "$@") ||
		ig_fail "req_rawtcp.py failed: $AT"
	echo "raw from $src ($*): $AT"
}

quiet_raw_sources() { # ADDR...
	local a
	ig_cli nft add table inet igraw
	ig_cli nft add chain inet igraw out '{ type filter hook output priority 0; policy accept; }'
	for a in "$@"; do
		ig_cli nft add rule inet igraw out "$([[ "$a" == *:* ]] && echo ip6 || echo ip)" \
			saddr "$a" tcp flags rst drop
	done
}

# 4c. The first data segment of a connection arriving out of order: its tail
# (from byte 45, inside "Host: backend") before its head. The data path must
# not start following the framing mid-request: with 1/s burst 3, the first
# request costs 1 and the next segment's 3 pipelined requests are refused
# with a 429, as they are when the first segment comes in order (the
# control, from another address).
t_desync() { # FAMILY
	local ctl src
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	command -v nft >/dev/null || ig_skip "nft not installed"
	setup --rate 1/s --burst 3 --unit request --action reject
	if [ "$1" = 6 ]; then ctl=$C6 src=$C6B; else ctl=$C4C src=$C4D; fi
	quiet_raw_sources "$ctl" "$src"
	mark
	rawtcp "$ctl" --pipeline 3
	ig_assert_eq "$(at '["first"]')" "[200]" "control: the first request"
	ig_assert_eq "$(at '["statuses"]')" "[429]" "control: 3 pipelined requests past burst 3 - 1"
	ig_assert_eq "$(seen "$ctl")" 1 "control: requests the backend saw"
	rawtcp "$src" --cuts 45 --order 1,0 --pipeline 3
	ig_assert_eq "$(at '["first"]')" "[200]" "the first request, its tail first"
	echo "measured: first segment out of order (IPv$1): tail acknowledged first: $(at '["acks"][0] is not None')," \
		"then 3 pipelined requests got $(at '["statuses"]'), backend saw $(seen "$src");" \
		"admitted +$(grown admitted), reject_429 +$(grown reject_429)"
	ig_assert_eq "$(at '["statuses"]')" "[429]" "3 pipelined requests past burst 3 - 1"
	ig_assert_eq "$(seen "$src")" 1 "requests the backend saw"
}

# 4c'. The first data segment carrying the handshake's last ACK: the
# server's kernel makes the socket of it, from its request sock (cookie:
# from a SYN cookie, tcp_syncookies=2 in the server's namespace, no request
# sock at all). Its request must be charged like any other: with 1/s burst 3,
# the next segment's 3 pipelined requests are refused with a 429.
t_first_ack() { # FAMILY [cookie]
	local src
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	command -v nft >/dev/null || ig_skip "nft not installed"
	setup --rate 1/s --burst 3 --unit request --action reject
	if [ "$1" = 6 ]; then src=$C6B; else src=$C4D; fi
	[ "${2:-}" = cookie ] && ig_srv sysctl -qw net.ipv4.tcp_syncookies=2
	quiet_raw_sources "$src"
	mark
	rawtcp "$src" --no-ack --pipeline 3
	echo "measured: first data segment completing the handshake (IPv$1${2:+, $2}):" \
		"first $(at '["first"]'), then 3 pipelined requests got $(at '["statuses"]')," \
		"backend saw $(seen "$src"); admitted +$(grown admitted), reject_429 +$(grown reject_429)"
	ig_assert_eq "$(at '["first"]')" "[200]" "the first request"
	ig_assert_eq "$(at '["statuses"]')" "[429]" "3 pipelined requests past burst 3 - 1"
	ig_assert_eq "$(seen "$src")" 1 "requests the backend saw"
}

# 4d. Reordering inside a body: a 600-byte body in three segments, the last
# one first. Lying inside the body, it may pass (the server's kernel queues
# it); then it is never sent again, and the framing must still get past it:
# the request is answered and so is the next one on the connection. Chunked:
# the chunk's data in four pieces, the third first.
t_body_gap() { # FAMILY [chunked]
	local src args=(--body 600 "--cuts=-400,-200" --order "0,2,1")
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	command -v nft >/dev/null || ig_skip "nft not installed"
	setup --rate 1/s --burst 3 --unit request --action reject
	if [ "$1" = 6 ]; then src=$C6B; else src=$C4D; fi
	[ "${2:-}" = chunked ] && args=(--body 600 --chunked "--cuts=-412,-212,-12" --order "0,2,1,3")
	quiet_raw_sources "$src"
	mark
	rawtcp "$src" "${args[@]}" --pipeline 1
	echo "measured: ${2:-length} body piece out of order (IPv$1): acks after each piece" \
		"$(at '["acks"]'), resent $(at '["resent"]'); first request $(at '["first"]')," \
		"next $(at '["statuses"]'); drop_unframed +$(grown drop_unframed)"
	ig_assert_eq "$(at '["first"]')" "[200]" "the request whose body came out of order"
	ig_assert_eq "$(at '["statuses"]')" "[200]" "the next request on the connection"
	ig_assert_eq "$(seen "$src")" 2 "requests the backend saw"
}

# 6. After its 429 the connection is over: the server's side is reset (no
# socket left), and a client that sends another request on it anyway gets a
# RST; the backend never sees that request. tiny: the requests are the
# shortest there are ("GET / HTTP/1.1" CRLF CRLF, an 84-byte IPv4 frame):
# the whole 429 would grow the frame by 260 bytes, past what XDP has in
# front of it on veth; the brief one (120 more) is due all the same.
t_after_429() { # FAMILY [tiny]
	local src dst ready=$IG_TMP/ready release=$IG_TMP/release pid tiny=()
	setup --rate 1/s --burst 3 --unit request --action reject
	if [ "$1" = 6 ]; then src=$C6 dst=$S6; else src=$C4 dst=$S4; fi
	[ "${2:-}" = tiny ] && tiny=(--tiny)
	mark
	ig_cli "$IG_PY" "$IG_LIB/req_attack.py" after429 --host "$dst" \
		--port "$PORT" --src "$src" --burst "$BURST" --rate "$RATE" --ready "$ready" \
		--release "$release" "${tiny[@]}" >"$IG_TMP/after.out" &
	pid=$!
	IG_PIDS+=("$pid")
	ig_wait_for 10 "the 429" test -e "$ready"
	assert_no_leftovers
	touch "$release"
	wait "$pid" || ig_fail "the client failed"
	AT=$(cat "$IG_TMP/after.out")
	echo "client: $AT"
	echo "measured: after the 429 ($src${2:+, $2 requests}): the 429 $(at '.get("r429") is not None')," \
		"the next request got '$(at '.get("after")')'; reject_429 +$(grown reject_429)," \
		"drop_reply_fail +$(grown drop_reply_fail), teardown +$(grown teardown)"
	ig_assert_eq "$(at '["fill_ok"]')" 3 "requests admitted (burst 3)"
	# XDP cannot grow a tiny request's frame by the whole 429: its head goes
	# (ig_http_429_brief(), the waits without the error object)
	if [ -n "${2:-}" ] && [ "$HOOK" = xdp ]; then
		assert_charge "$src" "before the 429" None
	else
		assert_charge "$src" "before the 429"
	fi
	ig_assert_eq "$(at '["after_reset"]')" True "the request sent after the 429 ended in a RST"
	ig_assert_eq "$(seen "$src")" 3 "requests the backend saw (none after the 429)"
	ig_assert_eq "$(grown reject_429)" 1 "reject_429"
	ig_assert_eq "$(grown teardown)" 1 "teardown (the server's side reset)"
	assert_no_leftovers
}

t_split4() { t_split 4; }
t_split6() { t_split 6; }
t_desync4() { t_desync 4; }
t_desync6() { t_desync 6; }
t_first_ack4() { t_first_ack 4; }
t_first_ack6() { t_first_ack 6; }
t_first_cookie4() { t_first_ack 4 cookie; }
t_first_cookie6() { t_first_ack 6 cookie; }
t_body_gap4() { t_body_gap 4; }
t_body_gap6() { t_body_gap 6; }
t_chunk_gap4() { t_body_gap 4 chunked; }
t_chunk_gap6() { t_body_gap 6 chunked; }
t_after4() { t_after_429 4; }
t_after6() { t_after_429 6; }
t_after_tiny4() { t_after_429 4 tiny; }
t_after_tiny6() { t_after_429 6 tiny; }

for HOOK in xdp tc; do
	run_test "$HOOK/attack-pipeline" t_pipeline
	run_test "$HOOK/attack-split4" t_split4
	run_test "$HOOK/attack-split6" t_split6
	run_test "$HOOK/attack-bodies" t_bodies
	run_test "$HOOK/attack-duplicates" t_duplicates
	run_test "$HOOK/attack-reorder" t_reorder
	run_test "$HOOK/attack-desync4" t_desync4
	run_test "$HOOK/attack-desync6" t_desync6
	run_test "$HOOK/attack-first-ack4" t_first_ack4
	run_test "$HOOK/attack-first-ack6" t_first_ack6
	run_test "$HOOK/attack-first-cookie4" t_first_cookie4
	run_test "$HOOK/attack-first-cookie6" t_first_cookie6
	run_test "$HOOK/attack-body-gap4" t_body_gap4
	run_test "$HOOK/attack-body-gap6" t_body_gap6
	run_test "$HOOK/attack-chunk-gap4" t_chunk_gap4
	run_test "$HOOK/attack-chunk-gap6" t_chunk_gap6
	run_test "$HOOK/attack-spoof-flood" t_spoof_flood
	run_test "$HOOK/attack-conn-flood" t_conn_flood
	run_test "$HOOK/attack-after-429-4" t_after4
	run_test "$HOOK/attack-after-429-6" t_after6
	run_test "$HOOK/attack-after-429-tiny4" t_after_tiny4
	run_test "$HOOK/attack-after-429-tiny6" t_after_tiny6
done
