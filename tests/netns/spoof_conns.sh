#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What spoofed packets must not be able to do to other clients, over veth with
# real TCP clients and servers: open a circuit breaker or hold it open, push a
# steered connection out of the flow table, free or lock max-conns slots, or
# fill the connection tables. Spoofed frames come from a raw AF_PACKET socket
# (checksums right unless a test wants them wrong). Each test is named after
# the attack.
. "$(dirname "$0")/../lib/netns.sh"


# The raw sender: spoof.py IFACE DSTMAC DST PORT MODE N [SECONDS] [SEQ]
#   MODE ack    bare ACKs from N sources (the host answers each with a RST)
#        syn2   from each of N sources a SYN, then a second SYN in its window
#               (the host resets the handshake it answered)
#        synsyn from each of N sources a SYN and its retransmission
#        synrst from each of N sources a SYN, then a RST
#        synfin | badsum | syn  N SYNs the kernel drops (SYN+FIN, a bad TCP
#               checksum) or takes, from the one source SRC
#   Sources are 10.(98 + i / 65536).x.y unless SRC[:SPORT] is in the
#   environment (SRC may be IPv6, or ::ffff:a.b.c.d); with SECONDS it repeats
#   the burst until that many seconds have passed. Importable: frame(), send().
write_spoofer() {
	cat >"$IG_TMP/spoof.py" <<'EOF'
import ipaddress, os, socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(smac, dmac, src, dst, sport, dport, flags, seq, ack, bad=False):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    eth = bytes.fromhex(dmac.replace(":", "")) + smac
    if s.version == 6 or d.version == 6:
        s6 = s.packed if s.version == 6 else b"\0" * 10 + b"\xff\xff" + s.packed
        d6 = d.packed if d.version == 6 else b"\0" * 10 + b"\xff\xff" + d.packed
        c = csum(s6 + d6 + struct.pack("!IxxxB", len(tcp), 6) + tcp) ^ (0x5555 if bad else 0)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        return eth + b"\x86\xdd" + struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + s6 + d6 + tcp
    c = csum(s.packed + d.packed + struct.pack("!xBH", 6, len(tcp)) + tcp) ^ (0x5555 if bad else 0)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, s.packed, d.packed)
    return eth + b"\x08\x00" + ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + tcp

def sender(ifname):
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sk.bind((ifname, 0))
    return sk, sk.getsockname()[4]

def send(sk, f):
    while True:
        try:
            return sk.send(f)
        except OSError:  # ENOBUFS: the veth's queue is full
            time.sleep(0.001)

if __name__ == "__main__":
    ifname, dmac, dst, port, mode, n = sys.argv[1:7]
    port, n = int(port), int(n)
    secs = float(sys.argv[7]) if len(sys.argv) > 7 else 0
    src_env, sport_env = os.environ.get("SRC"), int(os.environ.get("SPORT", "40000"))
    sk, mac = sender(ifname)
    frames = []
    for i in range(n):
        src = src_env or "10.%d.%d.%d" % (98 + (i >> 16), (i >> 8) & 0xff, i & 0xff)
        f = lambda sport, flags, sq, bad=False: frame(mac, dmac, src, dst, sport, port, flags,
                                                     sq, 777 + i if flags & 0x10 else 0, bad)
        if mode == "ack":
            frames.append(f(40000, 0x10, 1000 + i))
        elif mode == "syn2":
            frames += [f(40000, 0x02, 1000), f(40000, 0x02, 1001)]
        elif mode == "synsyn":
            frames += [f(40000, 0x02, 1000)] * 2
        elif mode == "synrst":
            frames += [f(40000, 0x02, 1000), f(40000, 0x04, 1001)]
        elif mode in ("syn", "synfin", "badsum"):
            frames.append(f(sport_env + i, 0x03 if mode == "synfin" else 0x02, 1000,
                            bad=mode == "badsum"))
    end, sent = time.time() + secs, 0
    while True:
        for fr in frames:
            send(sk, fr)
            sent += 1
        if time.time() >= end:
            break
    print(sent)
EOF
}

# spoof MODE N [SECONDS]: raw frames from the client namespace to the server's
# port 8000 (environment: SRC, SPORT, DST; IG_CPU pins the sender).
spoof() {
	[ -f "$IG_TMP/spoof.py" ] || write_spoofer
	ig_cli env ${SRC:+SRC=$SRC} ${SPORT:+SPORT=$SPORT} taskset -c "${IG_CPU:-0-63}" "$IG_PY" \
		"$IG_TMP/spoof.py" "$VC" "$SMAC" "${DST:-$S4}" 8000 "$@"
}

# The pair, and what spoofing needs: the server's MAC, and a route back to
# the spoofed sources through the client, so the server's answers really
# leave through the interface (where the egress program sees them).
spoof_pair() {
	ig_make_pair
	SMAC=$(ig_srv ip -br link show "$VS" | awk '{print $3}')
	ig_srv ip route add 10.98.0.0/15 via "$C4" # spoof.py's sources
}

# ---------------------------------------------------------------- breakers

write_breaker_config() { # [LINE...]
	{
		printf '[agent]\ninterface = %s\nhook = xdp\ntick = 50ms\n\n' "$VS"
		printf '[port 8000]\nfallback = 8001\nwindow = 2s\nmin_requests = 5\n'
		printf 'failure_rate = 50%%\nopen_time = 1s\nmax_open_time = 4s\nhalf_open_probes = 2\n'
		printf 'consecutive_failures = 0\n'
		printf '%s\n' "$@"
	} >"$IG_TMP/agent.conf"
}

brk_state() {
	ig breaker 8000 --json | "$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)["effective"])'
}

brk_state_is() { [ "$(brk_state)" = "$1" ]; }

# Requests to the breaker port, one connection each, every 100 ms until the
# file STOP exists; their answers ("primary:200", ...) one a line in OUT.
start_requests() { # OUT STOP
	ig_cli "$IG_PY" -c '
import os, sys, time, urllib.request
out, stop, url = sys.argv[1], sys.argv[2], sys.argv[3]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with open(out, "a", buffering=1) as f:
    while not os.path.exists(stop):
        try:
            r = opener.open(url, timeout=1)
            f.write("%s:%d\n" % (r.read().decode().strip(), r.status))
        except urllib.error.HTTPError as e:
            f.write("%s:%d\n" % (e.read().decode().strip(), e.code))
        except OSError as e:
            f.write("error:%s\n" % type(e).__name__)
        time.sleep(0.1)
' "$1" "$2" "http://$S4:8000/" &
	IG_PIDS+=($!)
}

# Finding 1. The host answers a bare ACK to the primary's port with a RST,
# and a second in-window SYN with a RST of the handshake it answered: passive
# health counted both as the backend failing, so as many spoofed ACKs as real
# answers opened the breaker, and in half-open one RST reopened it (the open
# time doubling) while spoofed SYNs took the probes. Now: a closed breaker
# stays closed under thousands of spoofed ACKs and SYNs, an open one recovers
# under the same flood, and a backend answering 503 still opens it.
t_spoofed_acks_and_syns_cannot_open_or_hold_a_breaker() {
	local sent rst
	spoof_pair
	ig_start_backend primary 8000
	ig_start_backend fallback 8001
	write_breaker_config
	ig_start_agent
	start_requests "$IG_TMP/answers" "$IG_TMP/stop"
	ig_wait_for 5 "real answers" grep -q primary:200 "$IG_TMP/answers"

	sent=$(spoof ack 2000 4)
	sent=$((sent + $(spoof syn2 1000 2)))
	rst=$(ig_json 'j["breakers"][0]["health"]["rst"]')
	echo "measured: $sent spoofed ACKs and SYNs in 6 s against ~60 real answers: state $(brk_state), RSTs counted $rst"
	ig_assert_eq "$(brk_state)" closed "breaker after the spoofed flood"
	ig_assert_eq "$rst" 0 "RSTs counted as failures"
	grep -q "closed -> open" "$IG_TMP/agent.log" && ig_fail "opened: $(grep -- '->' "$IG_TMP/agent.log")"

	# a real failure still opens it
	ig_set_mode 8000 503
	ig_wait_for 10 "the breaker to open on 503s" brk_state_is open
	ig_set_mode 8000 ok
	# open -> half-open (1 s) -> closed on two real answers, under the flood
	local t0 end
	t0=$(ig_now)
	spoof ack 500 8 >/dev/null &
	IG_PIDS+=($!)
	spoof syn2 250 8 >/dev/null &
	IG_PIDS+=($!)
	end=$(($(ig_now_us) + 12000000))
	until brk_state_is closed; do
		[ "$(ig_now_us)" -lt "$end" ] || ig_fail "never closed under the flood: $(grep -- '->' "$IG_TMP/agent.log")"
		sleep 0.1
	done
	echo "measured: open -> closed in $(ig_calc "$(ig_now) - $t0") s under spoofed ACKs and SYNs (open_time 1 s)"
	grep -q "half_open -> open" "$IG_TMP/agent.log" && ig_fail "relapsed: $(grep -- '->' "$IG_TMP/agent.log")"
	touch "$IG_TMP/stop"
	cat "$IG_TMP/agent.log"
}

# A keep-alive connection from the client: N requests on one connection, one
# when each file GO.i appears (GO.0 at once); the answers in OUT.
start_keepalive() { # OUT GO N
	ig_cli taskset -c "${IG_CPU:-0-63}" "$IG_PY" -c '
import http.client, os, sys, time
out, go, n, host = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection(host, 8000, timeout=10)
res = []
for i in range(n):
    end = time.time() + 60
    while i and not os.path.exists("%s.%d" % (go, i)) and time.time() < end:
        time.sleep(0.02)
    try:
        c.request("GET", "/")
        r = c.getresponse()
        res.append("%s:%d" % (r.read().decode().strip(), r.status))
    except OSError as e:
        res.append("error:%s" % type(e).__name__)
    with open(out + ".tmp", "w") as f:
        f.write(" ".join(res) + "\n")
    os.replace(out + ".tmp", out)
' "$1" "$2" "$3" "$S4" &
	IG_PIDS+=($!)
}

# Finding 4. Each spoofed SYN to an open breaker port made two entries in the
# LRU flow table (the reverse one too), and a SYN sent twice is looked up
# again, as protected as a real connection: a flood pushed steered keep-alive
# connections out, and their next packet went to the primary, which reset it.
# Now SYNs make entries only in the handshake table; `flows` holds connections
# whose client acknowledged the SYN-ACK.
t_spoofed_syn_flood_cannot_evict_a_steered_connection() {
	local sent flows
	spoof_pair
	ig_start_backend primary 8000
	ig_start_backend fallback 8001
	# a flow table the flood outnumbers (2^16 sources, two entries each)
	ig attach "$VS" --hook xdp --xdp-mode native --max-flows 65536 >/dev/null
	ig breaker 8000 --fallback 8001 open >/dev/null
	# client and flood on one CPU, so the server's receive path runs there
	# for both (the LRU keeps per-CPU lists: a flood on another CPU would
	# never reach the connection's entries), as on one NIC queue
	IG_CPU=1 start_keepalive "$IG_TMP/kept" "$IG_TMP/go" 2
	ig_wait_for 5 "the kept connection's first answer" test -s "$IG_TMP/kept"
	ig_assert_eq "$(cat "$IG_TMP/kept")" "fallback:200" "the kept connection is steered"

	# 2^16 sources, each SYN twice (a retransmission looks it up again).
	# Not vethgen: its live frames come back to it as the receiver left
	# them, and a steered SYN leaves with the fallback's port.
	sent=$(IG_CPU=1 spoof synsyn 65536)
	flows=$(ig_json 'j["flow_entries"]')
	touch "$IG_TMP/go.1"
	ig_wait_for 15 "the kept connection's second answer" grep -q ' ' "$IG_TMP/kept"
	echo "measured: $sent spoofed SYNs from 65536 sources; flow entries after: $flows of 65536; kept connection: $(cat "$IG_TMP/kept")"
	ig_assert_eq "$(cat "$IG_TMP/kept")" "fallback:200 fallback:200" "the kept connection's answers"
	ig_assert_range "$flows" 2 4 "flow entries (the kept connection's two)"
}

# ---------------------------------------------------------------- max-conns

# Connections from ADDR to the server's port 8000, held open: tries N
# connections (1 s each) and prints how many were admitted. With STRAY, after
# each admitted connection a RST and a FIN with a sequence number the server
# does not expect follow it (as an attacker would send to get its slot back).
# Then (with FREE) it closes one held connection normally (FIN) and one with a
# RST the server takes (SO_LINGER 0), and prints how many of N more get in.
conns_client() { # ADDR N [STRAY] [FREE]
	[ -f "$IG_TMP/spoof.py" ] || write_spoofer
	ig_cli "$IG_PY" - "$IG_TMP" "$VC" "$SMAC" "$1" "$S4" "$2" "${3:-}" "${4:-}" <<'EOF'
import random, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import spoof
ifname, dmac, src, dst, n, stray, free = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], \
    int(sys.argv[6]), sys.argv[7], sys.argv[8]
sk, mac = spoof.sender(ifname)
held = []

def attempts(n):
    ok = 0
    for i in range(n):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(1)
        try:
            s.connect((dst, 8000))
        except OSError:
            s.close()
            continue
        ok += 1
        held.append(s)
        if stray:
            port, seq = s.getsockname()[1], random.getrandbits(32)
            spoof.send(sk, spoof.frame(mac, dmac, src, dst, port, 8000, 0x04, seq, 0))
            spoof.send(sk, spoof.frame(mac, dmac, src, dst, port, 8000, 0x11, seq, 0))
            time.sleep(0.02)
    return ok

out = [attempts(n)]
if free:
    held.pop(0).close()
    s = held.pop(0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.3)
    out.append(attempts(n))
print(" ".join(map(str, out)))
EOF
}

conns_pair() { # MAX
	spoof_pair
	ig_start_backend holder 8000 # keep-alive HTTP: holds a connection until its client closes
	ig_attach >/dev/null
	ig limit 8000 --rate 100/s --burst 100 --action reject --max-conns "$1" >/dev/null
}

# Finding 2. Any FIN or RST from the client gave a slot back, while the
# kernel ignores a RST whose sequence number is not the one it expects: a
# client that sent a stray RST after each connection held 50 with max-conns 2.
# Now a slot comes back with the server's FIN or RST, or a RST the kernel acts
# on (checked against the socket's rcv_nxt).
t_stray_client_rsts_and_fins_free_no_slot() {
	local out
	HOOK=xdp conns_pair 2
	out=$(conns_client "$C4" 50 stray free)
	echo "measured: max-conns 2, a stray RST and FIN after each connection: admitted $out (of 50, then of 50 after closing two)"
	ig_assert_eq "$out" "2 2" "admitted, and after two closed"
	ig_assert_ge "$(ig_json 'port(8000)["refused_by_level"]["conns"]')" 96 "conns refusals"
}

# Finding 2. SYNs the kernel drops were counted and never given back: four
# spoofed packets with the victim's address locked it out for good (and the
# table outlives agents). Now a connection counts when its handshake completes.
t_dropped_syns_cannot_lock_a_client_out() {
	local out
	HOOK=xdp conns_pair 2
	SRC=$C4 SPORT=33000 spoof synfin 4 >/dev/null
	SRC=$C4 SPORT=33100 spoof badsum 4 >/dev/null
	SRC=::ffff:$C4 SPORT=33200 DST=$S6 spoof syn 4 >/dev/null
	out=$(conns_client "$C4" 3)
	echo "measured: after 12 SYNs the kernel dropped, in the victim's name: admitted $out of 3 (max-conns 2)"
	ig_assert_eq "$out" 2 "the victim's connections"
}

# Finding 2. `conn_counts` never lost an entry: 65,536 spoofed SYN+RST pairs
# filled it, and from then on new clients were admitted uncounted. Now only a
# completed handshake makes an entry, a count goes at zero, and a full table
# refuses.
t_spoofed_syn_rst_pairs_cannot_fill_the_tables() {
	local sent out entries
	HOOK=tc conns_pair 2
	sent=$(IG_CPU=1 spoof synrst 70000)
	entries=$(ig_srv bpftool -j map dump pinned "$PIN/conn_counts" |
		"$IG_PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
	out=$(conns_client "$C4" 3)
	echo "measured: $sent spoofed SYNs and RSTs from 70000 sources: $entries client counts; a new client admitted $out of 3 (max-conns 2)"
	ig_assert_eq "$entries" 0 "client counts made by spoofed sources"
	ig_assert_eq "$out" 2 "a new client after the flood"
}

# Counts at zero that older versions left behind fill `conn_counts`; now that
# a full table refuses, they are swept when a port gets max-conns.
t_stale_counts_of_an_older_version_are_swept() {
	local out
	spoof_pair
	ig_start_backend holder 8000
	ig_attach >/dev/null
	ig limit 8000 --rate 100/s --burst 100 --action reject >/dev/null
	"$IG_PY" - "$PIN/conn_counts" >"$IG_TMP/fill" <<'EOF'
import sys
for i in range(65536):  # struct ig_client_key {u8 addr[16]; u16 port; u8 proto, _pad} -> s64 0
    key = [0xfd] + [0] * 11 + [i >> 8 & 0xff, i & 0xff, 0, 0] + [0x40, 0x1f, 0, 0]
    print("map update pinned %s key hex %s value hex %s" % (sys.argv[1],
          " ".join("%02x" % b for b in key), " ".join(["00"] * 8)))
EOF
	ig_srv bpftool batch file "$IG_TMP/fill" >/dev/null
	ig limit 8000 --rate 100/s --burst 100 --action reject --max-conns 2 >"$IG_TMP/limit.out"
	grep -q "65536 stale client count" "$IG_TMP/limit.out" || ig_fail "not swept: $(cat "$IG_TMP/limit.out")"
	out=$(conns_client "$C4" 3)
	ig_assert_eq "$out" 2 "a client's connections after the sweep"
}

# Handshakes whose records a SYN flood pushed out of `pending` (an LRU the
# server's every SYN-ACK adds to). 0.14.1 let such a handshake's ACK through
# uncounted: behind one counted connection, with max-conns 2, both of two
# handshakes held across a flood completed, three connections open and the
# client counted for one. Now the kernel's request socket vouches for the
# first (its SYN-ACK's number), which is counted; the second is over the
# limit and reset. The two handshakes are raw (the client's kernel, which
# never sent their SYNs, is kept from resetting them); flood and handshakes
# on one CPU, as in the flow-table test above.
handshakes_client() { # ADDR FLOOD resent|cookie (result in $IG_TMP/hs; on at hs.go, ends at hs.done)
	[ -f "$IG_TMP/spoof.py" ] || write_spoofer
	ig_cli timeout 90 taskset -c 1 "$IG_PY" - "$IG_TMP" "$VC" "$SMAC" "$1" "$S4" "$2" "$3" <<'EOF2' &
import os, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import spoof
tmp, ifname, dmac, src, dst = sys.argv[1:6]
held = socket.create_connection((dst, 8000), timeout=2, source_address=(src, 0))
sk, mac = spoof.sender(ifname)
rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
rx.bind((ifname, 0x0800))
rx.settimeout(5)
srv = socket.inet_aton(dst)

def answer(sport, want, until):
    """the server's first segment to sport with all the flags in want"""
    while time.time() < until:
        try:
            f = rx.recv(2048)
        except socket.timeout:
            break
        ip = f[14:]
        t = ip[(ip[0] & 15) * 4:]
        if ip[9] == 6 and ip[12:16] == srv and struct.unpack("!H", t[2:4])[0] == sport and \
                t[13] & want == want:
            return struct.unpack("!I", t[4:8])[0]
    return None

# the flood, built first: from each of FLOOD sources a SYN and its
# retransmission, each answered (the second SYN-ACK finds the record again,
# which the LRU then keeps as it keeps the real ones)
flood = [spoof.frame(mac, dmac, "10.%d.%d.%d" % (98 + (i >> 16), (i >> 8) & 0xff, i & 0xff), dst,
                     40000, 8000, 0x02, 1000, 0) for i in range(int(sys.argv[6]))]
flood = [f for f in flood for _ in (0, 1)]
isn = {}
for sport in (45001, 45002):
    spoof.send(sk, spoof.frame(mac, dmac, src, dst, sport, 8000, 0x02, 1000, 0))
    isn[sport] = answer(sport, 0x12, time.time() + 5)
    if isn[sport] is None:
        sys.exit("no SYN-ACK for %d" % sport)
open(tmp + "/hs.ready", "w").close()
# the server sends each SYN-ACK again after 1 s, then 3 s, and each makes
# the record again: flooded between the first resend and the second (a SYN
# cookie's handshake has no request socket, and nothing is resent)
for sport in (45001, 45002):
    if sys.argv[7] == "resent" and answer(sport, 0x12, time.time() + 3) is None:
        sys.exit("no SYN-ACK resent for %d" % sport)
t0 = time.time()
for f in flood:
    spoof.send(sk, f)
with open(tmp + "/hs.flood", "w") as f:
    f.write("%d %.2f\n" % (len(flood), time.time() - t0))
end = time.time() + 60
while not os.path.exists(tmp + "/hs.go") and time.time() < end:
    time.sleep(0.01)
out = []
for sport in (45001, 45002):
    spoof.send(sk, spoof.frame(mac, dmac, src, dst, sport, 8000, 0x10, 1001, isn[sport] + 1))
    out.append("reset" if answer(sport, 0x04, time.time() + 1) is not None else "open")
with open(tmp + "/hs.tmp", "w") as f:
    f.write(" ".join(out) + "\n")
os.replace(tmp + "/hs.tmp", tmp + "/hs")
while not os.path.exists(tmp + "/hs.done") and time.time() < end:
    time.sleep(0.02)
EOF2
	IG_PIDS+=($!)
}

# How many of the raw handshakes' records are still in `pending` (not pinned:
# found through the XDP program's maps).
records_left() { # CLIENT SERVER
	local prog
	prog=$(ig_srv ip -j link show "$VS" | "$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
	ig_srv "$IG_PY" - "$1" "$2" "$(ig_srv bpftool -j prog show id "$prog")" <<'EOF2'
import json, socket, subprocess, sys
ids = json.loads(sys.argv[3])["map_ids"]
pend = [i for i in ids if json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(i)],
        capture_output=True, text=True).stdout)["name"] == "pending"][0]
v4 = lambda a: b"\0" * 10 + b"\xff\xff" + socket.inet_aton(a)
left = 0
for sport in (45001, 45002):  # struct ig_flow_key, IG_DIR_CLIENT
    key = v4(sys.argv[1]) + v4(sys.argv[2]) + sport.to_bytes(2, "little") + \
        (8000).to_bytes(2, "little") + b"\0" * 4
    left += subprocess.run(["bpftool", "map", "lookup", "id", str(pend), "key", "hex"] +
                           ["%02x" % b for b in key], capture_output=True).returncode == 0
print(left)
EOF2
}

established_from() { # ADDR
	ig_srv ss -Htn state established "( sport = :8000 and dst $1 )" | wc -l
}

t_spoofed_syn_flood_cannot_uncount_a_handshake() { # resent|cookie
	local sent counts est left t0 refused rsts
	HOOK=xdp conns_pair 2
	# cookie: every handshake by SYN cookie (no request socket to ask)
	[ "$1" = resent ] || ig_srv sysctl -qw net.ipv4.tcp_syncookies=2
	command -v nft >/dev/null || ig_skip "nft not installed"
	ig_cli nft add table inet igraw
	ig_cli nft add chain inet igraw out '{ type filter hook output priority 0; policy accept; }'
	ig_cli nft add rule inet igraw out tcp sport 45001-45002 tcp flags rst drop
	handshakes_client "$C4" 70000 "$1"
	ig_wait_for 10 "two raw handshakes answered" test -e "$IG_TMP/hs.ready"
	ig_assert_eq "$(records_left "$C4" "$S4")" 2 "the handshakes' records before the flood"
	ig_wait_for 20 "the flood sent" test -s "$IG_TMP/hs.flood"
	read -r sent t0 <"$IG_TMP/hs.flood"
	left=$(records_left "$C4" "$S4")
	touch "$IG_TMP/hs.go"
	ig_wait_for 15 "the handshakes' ACKs answered or not" test -s "$IG_TMP/hs"
	counts=$(ig_srv bpftool -j map dump pinned "$PIN/conn_counts" |
		"$IG_PY" -c 'import json, sys
print(sum(int.from_bytes(bytes(int(x, 16) for x in e["value"]), "little", signed=True)
          for e in json.load(sys.stdin)))')
	est=$(established_from "$C4")
	touch "$IG_TMP/hs.done"
	echo "measured: max-conns 2, one connection held, two handshakes ($1) completed after $sent" \
		"spoofed SYNs in $t0 s ($left of their 2 records left): $(cat "$IG_TMP/hs"); established from the" \
		"client $est, counted $counts"
	ig_assert_eq "$(cat "$IG_TMP/hs")" "open reset" "the first handshake counted, the second reset"
	ig_assert_eq "$est" 2 "connections the client holds"
	ig_assert_eq "$counts" 2 "connections counted"
	# bare ACKs of no handshake, from spoofed sources: the kernel's to
	# answer; none is refused here (a refusal spends the reply budget)
	refused=$(ig_json 'port(8000)["refused_by_level"]["conns"]')
	rsts=$(out_rsts)
	spoof ack 2000 >/dev/null
	# read once the server's kernel has answered them all (a RST each: no
	# connection), not while some may still be on their way
	ig_wait_for 10 "the kernel's RSTs to 2000 bare ACKs" out_rsts_at_least $((rsts + 2000))
	ig_assert_eq "$(ig_json 'port(8000)["refused_by_level"]["conns"]')" "$refused" \
		"conns refusals after 2000 spoofed bare ACKs"
}
# The RSTs the server's kernel has sent (TcpOutRsts).
out_rsts() {
	ig_srv awk '$1 == "Tcp:" && !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
		$1 == "Tcp:" { print $c["OutRsts"] }' /proc/net/snmp
}
out_rsts_at_least() { [ "$(out_rsts)" -ge "$1" ]; }
t_flood_handshake() { t_spoofed_syn_flood_cannot_uncount_a_handshake resent; }
t_flood_cookie_handshake() { t_spoofed_syn_flood_cannot_uncount_a_handshake cookie; }

run_test breaker-spoofed-acks-and-syns-cannot-open-or-hold-it t_spoofed_acks_and_syns_cannot_open_or_hold_a_breaker
run_test breaker-spoofed-syn-flood-cannot-evict-a-steered-connection t_spoofed_syn_flood_cannot_evict_a_steered_connection
run_test max-conns-spoofed-syn-flood-cannot-uncount-a-handshake t_flood_handshake
run_test max-conns-spoofed-syn-flood-cannot-uncount-a-cookie-handshake t_flood_cookie_handshake
run_test max-conns-stray-client-rsts-and-fins-free-no-slot t_stray_client_rsts_and_fins_free_no_slot
run_test max-conns-dropped-syns-cannot-lock-a-client-out t_dropped_syns_cannot_lock_a_client_out
run_test max-conns-spoofed-syn-rst-pairs-cannot-fill-the-tables t_spoofed_syn_rst_pairs_cannot_fill_the_tables
run_test max-conns-stale-counts-of-an-older-version-are-swept t_stale_counts_of_an_older_version_are_swept
