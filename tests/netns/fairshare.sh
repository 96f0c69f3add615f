#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Fair share over veth with real TCP clients and servers: tiers (allow, deny,
# a named tier's own rate), the prefix level shared by a /24, max-conns with
# connections really held open, LLM-token budgets charged from real replies
# (TC egress) and with `infergate charge` (directly and through the agent's
# control socket), the agent's [tiers] applied and changed by a reload, and a
# dry run counting per level. The spoofed-flood test is tests/netns/flood.sh.
. "$(dirname "$0")/../lib/netns.sh"

# connections admitted of N attempts from ADDR
ok_of() { local ok failed; read -r ok failed <<<"$(ig_attempts "$1" "$2")"; echo "$ok"; }

add_addrs() { # LAST_OCTET...
	local i
	for i in "$@"; do ig_cli ip addr add "${C4%.*}.$i/24" dev "$VC"; done
}

t_tiers_allow_deny_and_a_named_rate() {
	local net
	ig_make_pair
	net=${C4%.*}
	add_addrs 3 4 5
	ig_start_server tcp 8000
	ig_attach >/dev/null
	ig limit 8000 --rate 1/s --burst 2 --action reject >/dev/null
	ig tier add "$net.3" deny >/dev/null
	ig tier add "$net.4/32" allow >/dev/null
	ig tier add "$net.5/32" premium >/dev/null
	ig tier set premium 8000 --rate 1/s --burst 6 >/dev/null
	ig tier add fd00:66::/48 deny >/dev/null
	ig tier list | tee "$IG_TMP/tiers.txt"
	grep -q "$net.3/32 *deny" "$IG_TMP/tiers.txt" || ig_fail "tier list: deny"
	grep -q "premium *8000/tcp: 1/s, burst 6" "$IG_TMP/tiers.txt" || ig_fail "tier list: rate"
	[ "$(ig_json 'port(8000)["levels"]["fleet"]')" = False ] || ig_fail "fleet flag"

	ig_assert_range "$(ok_of "$C4" 6)" 2 3 "an ordinary source: its burst"
	ig_assert_eq "$(ok_of "$net.3" 3)" 0 "a denied source"
	ig_assert_eq "$(ok_of "$net.4" 20)" 20 "an allowed source"
	ig_assert_range "$(ok_of "$net.5" 10)" 6 7 "a premium source: the tier's burst"
	ig_assert_eq "$(ig_json 'reason(8000, "tcp", "denied")')" 3 "counted as denied"
	ig_assert_eq "$(ig_json 'reason(8000, "tcp", "allowed")')" 20 "counted as allowed"
	ig_assert_eq "$(ig_json 'port(8000)["refused_by_level"]["deny"]')" 3 "deny level"
	# the policy carries the hierarchy flag while tiers exist, and loses it
	# with the last one (the port has no level of its own)
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["max_conns"]')" 0 "no levels"
	for c in "$net.3/32" "$net.4/32" "$net.5/32" fd00:66::/48; do ig tier del "$c"; done
	ig_assert_eq "$(ok_of "$net.3" 2)" 2 "no longer denied"
	ig tier del "$net.3/32" 2>"$IG_TMP/err" && ig_fail "deleting a missing prefix succeeded"
	grep -q "not in the tiers" "$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
}

t_prefix_level_shared_by_a_24() {
	local a b
	ig_make_pair
	add_addrs 3 4
	ig_start_server tcp 8000
	ig_attach >/dev/null
	# reject: refused attempts end at once, so the test takes no time to refill
	ig limit 8000 --rate 1/s --burst 3 --prefix-rate 1/s --prefix-burst 4 --action reject >/dev/null
	a=$(ok_of "$C4" 6)
	b=$(ok_of "${C4%.*}.3" 6)
	echo "measured: one /24, prefix burst 4: ${a} + ${b} admitted"
	ig_assert_range "$a" 3 4 "the first source: its own burst"
	ig_assert_range "$((a + b))" 4 5 "the /24 together: the prefix burst"
	ig_assert_ge "$(ig_json 'port(8000)["refused_by_level"]["prefix"]')" 1 "prefix refusals"
	ig_json 'port(8000)["levels"]' | grep '"prefix_len": \[24, 64\]' >/dev/null || ig_fail "levels in status"
}

# A server that accepts and holds every connection until its client closes.
hold_server() {
	nsenter --net="/run/netns/$SRV" "$IG_PY" -c '
import select, socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8000))
s.listen(64)
conns = []
while True:
    r, _, _ = select.select([s] + conns, [], [])
    for x in r:
        if x is s:
            conns.append(s.accept()[0])
        elif not x.recv(4096):
            conns.remove(x)
            x.close()
' &
	IG_PIDS+=($!)
	ig_wait_for 5 "the hold server" ig_listening -Hltn 8000
}

t_max_conns_counts_open_connections() {
	ig_make_pair
	hold_server
	ig_attach >/dev/null
	ig limit 8000 --rate 100/s --burst 100 --action reject --max-conns 2 >/dev/null
	ig_cli "$IG_PY" - "$C4" "$S4" <<'EOF' || ig_fail "see above"
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(1)
    s.connect((dst, 8000))
    return s
a, b = conn(), conn()
try:
    conn()
    sys.exit("a third connection was admitted")
except ConnectionRefusedError:
    pass
a.close()
for i in range(50):  # the FIN frees a slot; give it a moment to cross
    try:
        c = conn()
        break
    except ConnectionRefusedError:
        time.sleep(0.05)
else:
    sys.exit("the closed connection's slot never came back")
try:
    conn()
    sys.exit("a third connection was admitted after one closed")
except ConnectionRefusedError:
    pass
b.close(); c.close()
EOF
	ig_assert_ge "$(ig_json 'port(8000)["refused_by_level"]["conns"]')" 2 "conns refusals"
}

tokens_spent() { # ADDR: the client's spent tokens on 8000/tcp
	ig_srv bpftool -j map dump pinned "$PIN/tokens" | "$IG_PY" -c '
import ipaddress, json, sys
want = ipaddress.ip_address(sys.argv[1])
for e in json.load(sys.stdin):
    f = e.get("formatted", e)
    k, v = f["key"], f["value"]
    addr = bytes(int(x, 0) if isinstance(x, str) else x for x in k["addr"])
    a = ipaddress.ip_address(addr)
    a = a.ipv4_mapped or a
    if a == want and k["port"] == 8000:
        print(v["spent"]); break
else:
    print(0)' "$1"
}

t_token_budget_from_replies_and_charges() {
	local spent bal out
	ig_make_pair
	mkdir "$IG_TMP/www"
	head -c 40000 /dev/zero | tr '\0' x >"$IG_TMP/www/answer"
	nsenter --net="/run/netns/$SRV" "$IG_PY" -m http.server --bind :: --directory "$IG_TMP/www" \
		8000 >"$IG_TMP/http.log" 2>&1 &
	IG_PIDS+=($!)
	ig_wait_for 5 "the http server" ig_listening -Hltn 8000
	ig_attach >/dev/null
	ig limit 8000 --rate 100/s --action reject --tokens-per-min 6000 >/dev/null
	ig_cli curl -sS -o /dev/null --max-time 3 "http://$S4:8000/answer" || ig_fail "first request"
	spent=$(tokens_spent "$C4")
	echo "measured: a 40000-byte answer charged $spent tokens (4 bytes a token, headers included)"
	ig_assert_range "$spent" 10000 10100 "tokens charged from the reply"
	# 10000 of 6000 a minute spent: in debt, refused (RST) until repaid
	ig_cli curl -sS -o /dev/null --max-time 3 "http://$S4:8000/answer" 2>/dev/null &&
		ig_fail "a client in debt was admitted"
	ig_assert_ge "$(ig_json 'port(8000)["refused_by_level"]["tokens"]')" 1 "token refusals"

	# an explicit charge, straight into the map (no agent): the balance
	out=$(ig charge "${C4%.*}.9" 8000 1500 2>"$IG_TMP/note")
	grep -q "no agent on" "$IG_TMP/note" || ig_fail "no note about the missing agent"
	ig_assert_eq "$out" 4500 "balance after charging 1500 of 6000"
	out=$(ig charge "${C4%.*}.9" 8000/tcp 5000 2>/dev/null)
	# 100 tokens/s refill: a few in between the two commands
	ig_assert_range "$out" -501 -450 "balance in debt"
	ig charge "${C4%.*}.9" 9999 5 2>"$IG_TMP/err" && ig_fail "charge on a port without a budget"
	grep -q "has no token budget" "$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
	ig charge nonsense 8000 5 2>"$IG_TMP/err" && ig_fail "charge for a bad address"
	grep -q "invalid source" "$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
}

t_charge_through_the_agent_socket() {
	local out reply
	ig_make_pair
	ig_start_server tcp 8000
	cat >"$IG_TMP/agent.conf" <<-EOF
	[agent]
	interface = $VS
	metrics = off
	control = $IG_TMP/ctl.sock
	[port 8000]
	rate = 50/s
	tokens_per_minute = 600
	bytes_per_token = 3
	EOF
	ig_start_agent
	out=$(ig charge --socket "$IG_TMP/ctl.sock" "$C4" 8000 100)
	ig_assert_eq "$out" 500 "balance through the socket"
	ig_assert_eq "$(tokens_spent "$C4")" 100 "the map was charged"
	reply=$(nsenter --net="/run/netns/$SRV" "$IG_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"charge 198.18.0.7 8000/tcp 50\nhello\ncharge 198.18.0.7 8001 1\n")
s.shutdown(socket.SHUT_WR)
print(s.makefile().read().replace("\n", "|"))' "$IG_TMP/ctl.sock")
	ig_assert_eq "$reply" "ok 550|error expected: charge SRC PORT[/tcp|/udp] TOKENS|error 8001/tcp has no token budget|" "three lines, three answers"
	[ "$(ig_json 'port(8000)["levels"]["bytes_per_token"]')" = 3 ] || ig_fail "bytes_per_token"
}

t_agent_tiers_and_levels_follow_the_config() {
	local net
	ig_make_pair
	net=${C4%.*}
	add_addrs 3 4
	ig_start_server tcp 8000
	cat >"$IG_TMP/agent.conf" <<-EOF
	[agent]
	interface = $VS
	metrics = off
	control = off
	[tiers]
	deny = $net.3/32
	gold = $net.4/32 fd00:77::/64
	[tier gold 8000/tcp]
	rate = 10/s
	burst = 30
	[port 8000]
	rate = 1/s
	burst = 2
	action = reject
	newcomer_rate = 100/s
	max_conns = 50
	EOF
	ig_start_agent
	ig tier list --json >"$IG_TMP/t1.json"
	ig_assert_eq "$(ok_of "$net.3" 2)" 0 "denied by the config"
	ig_assert_range "$(ok_of "$net.4" 40)" 30 31 "gold: its own burst"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["newcomer_rate"]')" 100 "newcomer level"
	# the reload: .3 allowed now, gold keeps only the IPv6 prefix, newcomers off
	cat >"$IG_TMP/agent.conf" <<-EOF
	[agent]
	interface = $VS
	metrics = off
	control = off
	[tiers]
	allow = $net.3/32
	gold = fd00:77::/64
	[tier gold 8000/tcp]
	rate = 10/s
	burst = 30
	[port 8000]
	rate = 1/s
	burst = 2
	action = reject
	max_conns = 50
	EOF
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "the reload" grep -q "reload: applied" "$IG_TMP/agent.log"
	ig tier list --json >"$IG_TMP/t2.json"
	"$IG_PY" - "$IG_TMP/t1.json" "$IG_TMP/t2.json" "$net" <<'EOF' || ig_fail "see above"
import json, sys
a, b, net = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
pa = {p["cidr"]: p["tier"] for p in a["prefixes"]}
pb = {p["cidr"]: p["tier"] for p in b["prefixes"]}
assert pa == {net + ".3/32": "deny", net + ".4/32": "gold", "fd00:77::/64": "gold"}, pa
assert pb == {net + ".3/32": "allow", "fd00:77::/64": "gold"}, pb
assert [r["rate"] for r in b["rates"]] == [10], b
EOF
	ig_assert_eq "$(ok_of "$net.3" 5)" 5 "allowed after the reload"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["newcomer_rate"]')" 0 "newcomer level off"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["max_conns"]')" 50 "max_conns kept"
}

t_dry_run_counts_each_level() {
	ig_make_pair
	add_addrs 3
	ig_start_server tcp 8000
	ig_attach >/dev/null
	ig limit 8000 --rate 1/s --burst 2 --prefix-rate 1/s --prefix-burst 3 --dry-run >/dev/null
	ig_assert_eq "$(ok_of "$C4" 4)" 4 "nothing refused (own bucket: 2 too many)"
	ig_assert_eq "$(ok_of "${C4%.*}.3" 2)" 2 "nothing refused (the /24 is spent)"
	ig_assert_range "$(ig_json 'port(8000)["refused_by_level"]["source"]')" 1 2 "would refuse: source"
	ig_assert_range "$(ig_json 'port(8000)["refused_by_level"]["prefix"]')" 1 3 "would refuse: prefix"
	ig status | grep "8000/tcp would have refused by level: source" >/dev/null || ig_fail "status table"
}

for HOOK in xdp tc; do
	run_test "tiers-allow-deny-and-a-named-rate ($HOOK)" t_tiers_allow_deny_and_a_named_rate
done
HOOK=xdp
run_test prefix-level-shared-by-a-24 t_prefix_level_shared_by_a_24
run_test max-conns-counts-open-connections t_max_conns_counts_open_connections
run_test "token-budget-from-replies-and-charges (xdp)" t_token_budget_from_replies_and_charges
HOOK=tc
run_test "token-budget-from-replies-and-charges (tc)" t_token_budget_from_replies_and_charges
HOOK=xdp
run_test charge-through-the-agent-socket t_charge_through_the_agent_socket
run_test agent-tiers-and-levels-follow-the-config t_agent_tiers_and_levels_follow_the_config
run_test dry-run-counts-each-level t_dry_run_counts_each_level
