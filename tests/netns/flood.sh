#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ig-run: alone
# Spoof-flood resistance over veth, with real TCP clients: ten polite clients
# and one abusive client (IPv4, client namespace) talk to a real server while
# a generator namespace sends SYNs from 2^20 distinct spoofed IPv6 sources as
# fast as it can (tests/bench/veth/vethgen: XDP live frames, ~1-4 Mpps here),
# into a second veth of the server, where infergate runs too (native XDP).
#
# The port: 20 connections/s per source (burst 10), drop; new sources admitted
# at most 100/s (burst 100) port-wide. What must hold: every polite client
# keeps >= 99 % of its share (its connections at its rate succeed), the
# abusive client gets no more than its limit, and the source table holds state
# for the admitted sources only, far below its size.
. "$(dirname "$0")/../lib/netns.sh"

GEN=${IG_BUILD}/tests/bench/vethgen
NSRC=1048576
FLOOD=${IG_FLOOD_PACKETS:-12000000}
# the newcomer budget (0 turns it off: the test then shows why it is there)
NEWCOMER=${IG_FLOOD_NEWCOMER:-100}

# The port's levels and flags with bpftool, as bpf/README.md documents them:
# port_limits[slot] (struct ig_limits) and the policy's IG_POL_F_HIER.
set_levels() { # NEWCOMER_RATE NEWCOMER_BURST
	local slot pol
	slot=$(ig_json 'port(8000)["slot"]')
	ig_srv bpftool map update pinned "$PIN/port_limits" key hex $(ig_hex_le "$slot" 4) value hex \
		$(ig_hex_le 0 8) $(ig_hex_le 0 8) $(ig_hex_le 0 8) $(ig_hex_le 0 8) \
		$(ig_hex_le "$1" 8) $(ig_hex_le "$2" 8) $(ig_hex_le 0 8) $(ig_hex_le 0 4) \
		$(ig_hex_le 0 2) 00 00
	# rate 20, burst 10, slot, unit conn, action drop, flags HIER
	ig_srv bpftool map update pinned "$PIN/port_policy" key hex $(ig_hex_le 8000 4) value hex \
		$(ig_hex_le 20 8) $(ig_hex_le 10 8) $(ig_hex_le "$slot" 4) $(ig_hex_le 0 4) \
		$(ig_hex_le 0 4) $(ig_hex_le 2 4)
}

# Refusals at a level, summed over CPUs, from the pinned map.
level_refused() { # LEVEL_INDEX
	local slot
	slot=$(ig_json 'port(8000)["slot"]')
	ig_srv bpftool -j map lookup pinned "$PIN/level_stats" key hex $(ig_hex_le "$slot" 4) |
		"$IG_PY" -c '
import json, sys
j = json.load(sys.stdin)
vals = j.get("formatted", j)["values"]
print(sum(v["value"]["refused"][int(sys.argv[1])] for v in vals))' "$1"
}

t_spoofed_flood_keeps_real_clients_share() {
	local GNS VG VSG legit="" i mac out sent ns pps
	[ -x "$GEN" ] || ig_skip "no generator at $GEN (make builds it with the tests)"
	ig_make_pair
	GNS="igg-$$x$IG_N" VG="ig$$x${IG_N}g" VSG="ig$$x${IG_N}h"
	ip netns add "$GNS"
	IG_NETNS+=("$GNS")
	ip link add "$VG" netns "$GNS" type veth peer name "$VSG" netns "$SRV"
	nsenter --net="/run/netns/$GNS" ip link set lo up
	nsenter --net="/run/netns/$GNS" ip -6 addr add fd00:f1::2/64 dev "$VG" nodad
	ig_srv ip -6 addr add fd00:f1::1/64 dev "$VSG" nodad
	nsenter --net="/run/netns/$GNS" ip link set "$VG" up
	ig_srv ip link set "$VSG" up
	ig_wait_for 5 "$VSG up" ig_link_usable "$SRV" "$VSG" fd00:f1::1
	mac=$(ig_srv ip -br link show "$VSG" | awk '{print $3}')

	for i in $(seq 11 20); do
		ig_cli ip addr add "${C4%.*}.$i/24" dev "$VC"
		legit+="${legit:+,}${C4%.*}.$i"
	done
	ig_cli ip addr add "${C4%.*}.100/24" dev "$VC"

	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_LIB/fairshare_load.py" server 8000 \
		"$IG_TMP/accepted.json" >"$IG_TMP/server.log" 2>&1 &
	local server_pid=$!
	IG_PIDS+=($server_pid)
	ig_wait_for 5 "the server" test -e "$IG_TMP/accepted.json.ready"

	ig attach "$VS" --hook xdp --xdp-mode native >/dev/null
	ig attach "$VSG" --hook xdp --xdp-mode native >/dev/null
	ig limit 8000 --rate 20/s --burst 10 >/dev/null
	set_levels "$NEWCOMER" "$NEWCOMER"

	nsenter --net="/run/netns/$CLI" "$IG_PY" "$IG_LIB/fairshare_load.py" clients "$S4" 8000 20 \
		"$legit" "${C4%.*}.100" 400 "$IG_TMP/stop" "$IG_TMP/clients.json" 60 \
		>"$IG_TMP/clients.log" 2>&1 &
	local clients_pid=$!
	IG_PIDS+=($clients_pid)
	# the polite clients are talking before the flood starts (a client
	# that first appears during a spoofed flood competes with it for the
	# newcomer budget: the documented trade-off)
	ig_wait_for 10 "the clients to be talking" test -e "$IG_TMP/clients.json.warm"

	out=$(nsenter --net="/run/netns/$GNS" timeout 60 taskset -c 1 "$GEN" gen "$VG" "$mac" \
		fd00:f1::1 8000 "$NSRC" fd00:bad::1:0 "$FLOOD") || ig_fail "generator: $out"
	read -r _ sent _ ns <<<"$out"
	touch "$IG_TMP/stop"
	ig_wait_for 15 "the clients' results" test -e "$IG_TMP/clients.json"
	wait "$clients_pid" || true
	kill "$server_pid"
	ig_wait_for 5 "the server's counts" test -e "$IG_TMP/accepted.json"
	pps=$(ig_calc "$sent / ($ns / 1e9)")

	local newcomer table tracked max
	newcomer=$(level_refused 3)
	table=$(level_refused 4)
	tracked=$(ig_json 'j["tracked_sources"]')
	max=$(ig_json 'j["max_sources"]')
	"$IG_PY" - "$IG_TMP/clients.json" "$IG_TMP/accepted.json" "$sent" "$pps" "$newcomer" \
		"$table" "$tracked" "$max" "$NSRC" <<'EOF' || ig_fail "see above"
import json, sys
c = json.load(open(sys.argv[1]))
acc = json.load(open(sys.argv[2]))
sent, pps, newcomer, table, tracked, size, nsrc = (float(x) for x in sys.argv[3:10])
bad = []
worst = 1.0
for ip, r in sorted(c["legit"].items()):
    share = r["ok"] / r["attempts"] if r["attempts"] else 0
    worst = min(worst, share)
    if share < 0.99:
        bad.append("polite %s: %d of %d connections" % (ip, r["ok"], r["attempts"]))
    if acc.get(ip, 0) < r["ok"]:
        bad.append("polite %s: the server accepted %d < %d" % (ip, acc.get(ip, 0), r["ok"]))
ab = c["abusive"]
ab_ip = [ip for ip in acc if ip.endswith(".100")]
admitted = acc.get(ab_ip[0], 0) if ab_ip else 0
limit = 10 + 20 * ab["duration"] + 1
if admitted > limit:
    bad.append("abusive: %d admitted > limit %.1f" % (admitted, limit))
if admitted < 0.8 * (limit - 1):
    bad.append("abusive: %d admitted, far below its share %.1f" % (admitted, limit))
if newcomer + table < nsrc:
    bad.append("only %d spoofed packets refused: fewer than %d sources" % (newcomer + table, nsrc))
if tracked > size or tracked > 0.05 * size:
    bad.append("table: %d tracked of %d" % (tracked, size))
attempts = sum(r["attempts"] for r in c["legit"].values())
print("measured: flood %.0f SYNs from %d spoofed sources at %.2f Mpps; refused as newcomers %d,"
      " table full %d" % (sent, nsrc, pps / 1e6, newcomer, table))
print("measured: polite clients kept %.1f %% of their share at worst (%d connections, 10 clients);"
      " abusive admitted %d of %d attempts, limit %.1f over %.2f s; sources tracked %d of %d"
      % (100 * worst, attempts, admitted, ab["attempts"], limit, ab["duration"], tracked, size))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

run_test spoofed-flood-keeps-real-clients-share t_spoofed_flood_keeps_real_clients_share
