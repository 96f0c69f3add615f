#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ig-run: alone
# Upgrades in place: attaching again (as a new binary or a restarted agent
# does) swaps new programs into the pinned links atomically and keeps the
# pinned state. A flood runs across several swaps; if the interface were ever
# unprotected, or a swap reset the buckets, more would get through than the
# limit allows.
. "$(dirname "$0")/../lib/netns.sh"

# UDP datagrams from the client as fast as one Python process sends them, for
# at most SECONDS and COUNT; prints how many were sent.
flood() { # ADDR PORT SECONDS COUNT
	ig_cli "$IG_PY" -c '
import socket, sys, time
addr, port, secs, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end, n, msg = time.time() + secs, 0, b"x" * 32
while n < count and (n % 256 or time.time() < end):
    try:
        s.sendto(msg, (addr, port))
        n += 1
    except BlockingIOError:
        time.sleep(0.0005)
print(n)
' "$1" "$2" "$3" "$4"
}

# A UDP sink in the server namespace with a deep buffer, so that nothing the
# limiter admits is lost before it is counted; writes its count every 50 ms.
start_sink() { # PORT
	nsenter --net="/run/netns/$SRV" "$IG_PY" -c '
import os, socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("::", port))
s.settimeout(0.05)
n, last = 0, -1
while True:
    try:
        s.recv(2048)
        n += 1
        continue
    except socket.timeout:
        pass
    if n != last:
        with open(out + ".tmp", "w") as f:
            f.write("%d\n" % n)
        os.replace(out + ".tmp", out)
        last = n
' "$1" "$IG_TMP/sink.$1" >"$IG_TMP/sink.log" 2>&1 &
	IG_PIDS+=($!)
	ig_wait_for 5 "the sink on $1" test -e "$IG_TMP/sink.$1"
}

sink_count() { cat "$IG_TMP/sink.$1"; }
sink_has_at_least() { [ "$(sink_count "$1")" -ge "$2" ]; }

t_flood_across_upgrades() {
	local ids=() id t0 t1 sent got lo hi
	ig_make_pair
	start_sink 9000
	ig_attach
	ig limit 9000/udp --rate 200/s --burst 200 --unit packet
	id=$(ig_json 'j["attachments"][0]["prog_id"]')
	ids+=("$id")

	t0=$(ig_now)
	flood "$S4" 9000 3 3000000 >"$IG_TMP/sent" &
	local fpid=$!
	IG_PIDS+=($fpid)
	for i in 1 2 3 4 5; do
		ig_attach >/dev/null
		id=$(ig_json 'j["attachments"][0]["prog_id"]')
		ids+=("$id")
	done
	wait "$fpid"
	t1=$(ig_now)
	sent=$(cat "$IG_TMP/sent")
	got=$(ig_json 'reason(9000,"udp","admitted")')
	# what reached the server: a gap without a program would show here, not
	# in our counters
	ig_wait_for 5 "the sink to count what was admitted" sink_has_at_least 9000 "$got"
	echo "measured: flood of $sent datagrams over $(ig_calc "$t1 - $t0")s across 5 upgrades" \
		"(prog ids ${ids[*]}): $got admitted"
	[ "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" -eq 6 ] || ig_fail "programs were not replaced: ${ids[*]}"
	ig_assert_ge "$sent" 5000 "datagrams sent (a flood, not a trickle)"
	read -r lo hi <<<"$(ig_expect_window 200 200 "$(ig_calc "$t1 - $t0")")"
	ig_assert_range "$got" 1 "$hi" "admitted across the upgrades (burst 200 + 200/s)"
	ig_assert_range "$(sink_count 9000)" "$got" "$hi" "datagrams the server received"
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs attached at the end"
}

for HOOK in xdp tc; do
	run_test "$HOOK/flood-across-upgrades" t_flood_across_upgrades
done
