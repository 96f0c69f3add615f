#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Free passes over real traffic, on both hooks: SYNs shaped so that the
# limiter could not judge them but the server's kernel accepts them, sent by
# scapy from the client namespace and reassembled or walked by the server's
# kernel. The limited port (--rate 1/s --burst 1, drop) must see no more
# connections from them than from plain SYNs. Counted at the server: accepted
# connections (the script completes each handshake it is answered; the
# client's own kernel is kept from resetting them).
. "$(dirname "$0")/../lib/netns.sh"

# Debian's scapy, for the system python (tests/lib/netns.sh's IG_PY may be
# another interpreter).
SCAPY_PY=/usr/bin/python3

# Sends N connection attempts of one kind to PORT and completes every
# handshake the server answers (ACK with an HTTP request); prints how many
# SYN-ACKs came back. Runs in the client namespace.
write_spoofer() {
	cat >"$IG_TMP/spoof.py" <<'EOF'
import random, sys, threading, time
from scapy.all import (Ether, Dot1Q, IP, IPv6, IPv6ExtHdrDestOpt, TCP, Raw, AsyncSniffer,
                       conf)

kind, iface, smac, dmac, src, dst, port, n, gap = sys.argv[1:10]
port, n, gap = int(port), int(n), float(gap)
conf.verb = 0
v6 = kind in ("dstopts7", "plain6")
IPX = IPv6 if v6 else IP
answered = set()
sock = conf.L2socket(iface=iface)

def on_synack(p):
    t = p[TCP]
    if t.sport != port or (t.flags & 0x12) != 0x12 or t.dport in answered:
        return
    answered.add(t.dport)
    req = b"GET / HTTP/1.0\r\n\r\n"
    sock.send(Ether(src=smac, dst=dmac) / IPX(src=src, dst=dst) /
              TCP(sport=t.dport, dport=port, flags="PA", seq=t.ack, ack=t.seq + 1) / req)

# no libpcap here to compile a filter: filtered in python
# the SYNs go once the sniffer listens: a fixed 0.3 s was not always enough
# with two suites on two cores (CI: no SYN-ACK seen, the control at 0)
ready = threading.Event()
sniffer = AsyncSniffer(iface=iface, lfilter=lambda p: TCP in p and p[TCP].sport == port,
                       prn=on_synack, store=False, started_callback=ready.set)
sniffer.start()
if not ready.wait(10):
    sys.exit("the sniffer did not start in 10 s")
for i in range(n):
    sport = 20000 + i
    syn = TCP(sport=sport, dport=port, flags="S", seq=random.getrandbits(32), window=64240)
    l2 = Ether(src=smac, dst=dmac)
    if kind == "frag4":
        # RFC 1858's tiny fragment: 8 bytes of TCP header (ports, sequence
        # number) first, the flags in the second fragment at offset 8
        whole = IP(src=src, dst=dst, id=1000 + i) / syn
        seg = bytes(whole[TCP])  # the checksum as the whole segment has it
        ident = 1000 + i
        sock.send(l2 / IP(src=src, dst=dst, id=ident, flags="MF", frag=0, proto=6) /
                  Raw(seg[:8]))
        sock.send(l2 / IP(src=src, dst=dst, id=ident, frag=1, proto=6) / Raw(seg[8:]))
    elif kind.startswith("vlan"):
        # priority tags (VID 0): the kernel strips one after the other
        tags = Dot1Q(vlan=0)
        for _ in range(int(kind[4:]) - 1):
            tags = tags / Dot1Q(vlan=0)
        sock.send(l2 / tags / IP(src=src, dst=dst) / syn)
    elif kind == "dstopts7":
        ext = IPv6ExtHdrDestOpt()
        for _ in range(6):
            ext = ext / IPv6ExtHdrDestOpt()
        sock.send(l2 / IPv6(src=src, dst=dst) / ext / syn)
    else:
        sock.send(l2 / IPX(src=src, dst=dst) / syn)
    time.sleep(gap)
time.sleep(1.5)
sniffer.stop()
print(len(answered))
EOF
}

# The client's kernel owns none of these connections: keep it from resetting
# them (and the server's answers), only in the client namespace.
quiet_client() {
	ig_cli nft -f - <<'EOF'
table inet spoof {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp flags rst drop
	}
}
EOF
}

# (nsenter leaves /sys the root namespace's: ask ip)
mac_of() { # ig_cli|ig_srv DEV
	"$1" ip -o link show dev "$2" | awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }'
}

spoof() { # KIND N GAP: prints the SYN-ACKs the client got
	local smac dmac src dst
	smac=$(mac_of ig_cli "$VC")
	dmac=$(mac_of ig_srv "$VS")
	case "$1" in
	dstopts7 | *6) src=$C6 dst=$S6 ;;
	*) src=$C4 dst=$S4 ;;
	esac
	ig_cli "$SCAPY_PY" "$IG_TMP/spoof.py" "$1" "$VC" "$smac" "$dmac" "$src" "$dst" 8080 "$2" "$3"
}

setup() {
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	command -v nft >/dev/null || ig_skip "nft not installed"
	ig_make_pair
	ig_start_server tcp 8080
	write_spoofer
	quiet_client
	ig_attach
	ig limit 8080 --rate 1/s --burst 1 --unit conn --action drop
}

# The control: plain SYNs, 20 in about a second, get burst + rate * time.
t_plain_syns() {
	local answered accepted
	setup
	answered=$(spoof plain4 20 0.05)
	accepted=$(ig_server_count tcp 8080)
	echo "measured: plain SYNs: $answered answered, $accepted accepted of 20"
	ig_assert_range "$accepted" 1 3 "plain SYNs accepted (burst 1, 1/s, ~1.5 s)"
}

# RFC 1858 / RFC 3128: the first fragment holds 8 bytes of the TCP header, the
# second the rest; the server's kernel reassembles them into a SYN. Each was a
# free pass (the parser could not read the first, and the second is not a
# first fragment).
t_tiny_fragment_syns() {
	local answered accepted
	setup
	answered=$(spoof frag4 20 0.05)
	accepted=$(ig_server_count tcp 8080)
	echo "measured: tiny-fragment SYNs: $answered answered, $accepted accepted of 20"
	ig_assert_range "$accepted" 0 3 "tiny-fragment SYNs accepted (as for plain SYNs, or none)"
	ig_assert_eq "$accepted" 0 "tiny-fragment SYNs accepted (the first fragments are dropped)"
}

# Seven destination options headers: Linux walks them to the TCP socket; the
# parser walks six, and passed a longer chain untouched.
t_seven_dstopts_syns() {
	local answered accepted
	setup
	answered=$(spoof dstopts7 20 0.05)
	accepted=$(ig_server_count tcp 8080)
	echo "measured: 7-dstopts SYNs: $answered answered, $accepted accepted of 20"
	ig_assert_eq "$accepted" 0 "SYNs behind 7 destination options headers accepted (dropped)"
	# and a plain IPv6 SYN from the same client is limited as usual
	answered=$(spoof plain6 5 0.05)
	ig_assert_range "$(ig_server_count tcp 8080)" 1 2 "plain IPv6 SYNs accepted after them"
}

# Priority-tagged (VID 0) SYNs: the kernel strips the tags one after the
# other and delivers the SYN; the parser walks two. On tc the kernel has
# stripped the outer tag before the program runs: four tags there.
t_stacked_priority_tags_syns() {
	local answered accepted tags=3
	[ "$HOOK" = tc ] && tags=4
	setup
	answered=$(spoof "vlan$tags" 20 0.05)
	accepted=$(ig_server_count tcp 8080)
	echo "measured: SYNs in $tags priority tags: $answered answered, $accepted accepted of 20"
	ig_assert_eq "$accepted" 0 "SYNs in $tags VLAN priority tags accepted (dropped)"
}

# A tap with IFF_NAPI_FRAGS: each iovec written becomes one page fragment of
# the skb, its linear part the Ethernet header alone (GRO off, which would
# pull the headers in). Waits for $IG_TMP/go, sends N IPv6 SYNs whose TCP
# header lies past byte 256 (a 256-byte destination option), and prints how
# many were answered (SYN-ACKs, told apart by port).
write_tapper() {
	cat >"$IG_TMP/tap.py" <<'EOF'
import fcntl, os, select, struct, sys, time
from scapy.all import Ether, IPv6, IPv6ExtHdrDestOpt, HBHOptUnknown, TCP, raw

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI, IFF_NAPI, IFF_NAPI_FRAGS = 0x0002, 0x1000, 0x0010, 0x0020
name, mac, peer, src, dst, n, go = sys.argv[1:8]
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
                                      IFF_TAP | IFF_NO_PI | IFF_NAPI | IFF_NAPI_FRAGS))
while not os.path.exists(go):
    time.sleep(0.02)
for i in range(int(n)):
    # an option of unknown type with "skip" bits: Linux walks over it
    opt = HBHOptUnknown(otype=0x1e, optdata=b"\0" * 250)
    f = raw(Ether(src=peer, dst=mac) / IPv6(src=src, dst=dst) /
            IPv6ExtHdrDestOpt(options=[opt]) / TCP(sport=30000 + i, dport=8080, flags="S"))
    os.writev(fd, [f[:14], f[14:200], f[200:]])
seen, end = set(), time.time() + 2
while time.time() < end:
    if select.select([fd], [], [], 0.2)[0]:
        p = Ether(os.read(fd, 4096))
        if TCP in p and p[TCP].flags & 0x12 == 0x12:
            seen.add(p[TCP].dport)
print(len(seen), flush=True)
EOF
}

# tc only: the skb's headers past what the program pulls into its linear part
# (256 bytes) were "unparsed" and passed, and the kernel reads them fine.
t_headers_past_the_linear_part() {
	local id="$$x$IG_N" tap peer=02:00:00:00:00:01 mac=02:00:00:00:00:02 pid answered
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	[ -c /dev/net/tun ] || ig_skip "no /dev/net/tun"
	SRV="igs-$id" tap="ig${id}t" PIN=/sys/fs/bpf/ig-test-$$-$IG_N
	IG_PINS+=("$PIN")
	ip netns add "$SRV"
	IG_NETNS+=("$SRV")
	ig_srv ip link set lo up
	write_tapper
	ig_srv "$SCAPY_PY" "$IG_TMP/tap.py" "$tap" "$mac" "$peer" fd01::2 fd01::1 10 "$IG_TMP/go" \
		>"$IG_TMP/answered" 2>"$IG_TMP/tap.log" &
	pid=$!
	IG_PIDS+=("$pid")
	ig_wait_for 5 "the tap" ig_srv ip link show dev "$tap"
	ig_srv ip link set "$tap" address "$mac"
	ig_srv ethtool -K "$tap" gro off >/dev/null
	ig_srv ip link set "$tap" up
	ig_srv ip -6 addr add fd01::1/64 dev "$tap" nodad
	ig_srv ip -6 neigh add fd01::2 lladdr "$peer" dev "$tap"
	ig_start_server tcp 8080
	ig attach "$tap" --hook tc
	ig limit 8080 --rate 1/s --burst 1 --unit conn --action drop
	touch "$IG_TMP/go"
	wait "$pid" || ig_fail "the tap script failed: $(cat "$IG_TMP/tap.log")"
	answered=$(cat "$IG_TMP/answered")
	echo "measured: SYNs with headers past 256 bytes: $answered of 10 answered"
	ig_assert_eq "$answered" 0 "SYNs past the linear part answered (dropped as unread)"
}

for HOOK in xdp tc; do
	run_test "$HOOK/spoof-plain-syns-control" t_plain_syns
	run_test "$HOOK/spoof-tiny-fragment-syns" t_tiny_fragment_syns
	run_test "$HOOK/spoof-seven-dstopts-syns" t_seven_dstopts_syns
	run_test "$HOOK/spoof-stacked-priority-tags-syns" t_stacked_priority_tags_syns
done
run_test "tc/spoof-headers-past-the-linear-part" t_headers_past_the_linear_part
