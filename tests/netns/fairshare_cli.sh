#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Fair share from the CLI's side, checked in the pinned maps themselves (with
# bpftool, not only through status): the policy flags that follow the levels
# and the tiers, tier names freed with their last use, levels cleared by
# unlimit and kept (state included) by a re-limit, token charges and debtors
# in status, usage errors, and a control socket that bad clients cannot stall.
# What the data path does with all this is tests/netns/fairshare.sh.
. "$(dirname "$0")/../lib/netns.sh"

# Decimal bytes as bpftool's hex.
hexb() { printf '%02x ' "$@"; }

# bpftool's view of one entry: the value as JSON (BTF-formatted).
bt_value() { # MAP KEY-HEX-BYTES...
	ig_srv bpftool -j map lookup pinned "$PIN/$1" key hex "${@:2}" | "$IG_PY" -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps(d.get("formatted", d)["value"]))'
}

# One field of a BTF-formatted value.
bt_field() { # MAP FIELD KEY-HEX-BYTES...
	bt_value "$1" "${@:3}" | "$IG_PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

policy_flags() { # PORT [PROTO 0 tcp | 1 udp]
	bt_field port_policy flags $(ig_hex_le $((${2:-0} << 16 | $1)) 4)
}

slot_of() { # PORT
	bt_field port_policy slot $(ig_hex_le "$1" 4)
}

# Names in use in tier_names (non-empty entries).
tier_name_count() {
	ig_srv bpftool -j map dump pinned "$PIN/tier_names" | "$IG_PY" -c '
import json, sys
n = 0
for e in json.load(sys.stdin):
    v = e.get("formatted", e)["value"]["name"]
    if isinstance(v, list):
        v = bytes(int(x, 0) if isinstance(x, str) else x for x in v).split(b"\0")[0]
    n += bool(v)
print(n)'
}

t_flags_follow_levels_and_tiers() {
	ig_make_pair
	ig_attach >/dev/null
	ig limit 8000 --rate 5/s >/dev/null
	ig limit 8001 --rate 5/s --max-conns 4 --tokens-per-min 600 >/dev/null
	ig limit 8002/udp --rate 5/s --dry-run >/dev/null
	ig_assert_eq "$(policy_flags 8000)" 0 "8000: no level, no tier"
	ig_assert_eq "$(policy_flags 8001)" $((2 | 4 | 8 | 128)) "8001: HIER|CONNS|TOKENS|TIMED"
	ig_assert_eq "$(policy_flags 8002 1)" 1 "8002/udp: dry run only"
	# the first prefix switches the hierarchy on everywhere (tiers apply to
	# every protected port), keeping each port's own flags
	ig tier add 198.18.200.0/24 deny >/dev/null
	ig_assert_eq "$(policy_flags 8000)" 2 "8000 with a tier"
	ig_assert_eq "$(policy_flags 8001)" $((14 | 128)) "8001 with a tier"
	ig_assert_eq "$(policy_flags 8002 1)" 3 "8002/udp with a tier (dry run kept)"
	ig tier add fd00:99::/48 allow >/dev/null
	# a port limited while tiers exist gets the flag at once
	ig limit 8003 --rate 1/s >/dev/null
	ig_assert_eq "$(policy_flags 8003)" 2 "8003 limited with tiers present"
	# the trie holds IPv4 as IPv4-mapped /96+len
	ig_assert_eq "$(bt_field tiers kind $(hexb 120 0 0 0 0 0 0 0 0 0 0 0 0 0 255 255 198 18 200 0))" \
		"$(ig_srv bpftool -j map dump pinned "$PIN/tiers" | "$IG_PY" -c '
import json, sys
for e in json.load(sys.stdin):
    f = e["formatted"]
    if f["key"]["prefixlen"] == 120:
        print(f["value"]["kind"])')" "the /24 as ::ffff:198.18.200.0/120"
	ig tier del 198.18.200.0/24 >/dev/null
	ig_assert_eq "$(policy_flags 8000)" 2 "one prefix left: still on"
	ig tier del fd00:99::/48 >/dev/null
	ig_assert_eq "$(policy_flags 8000)" 0 "8000: the last prefix gone"
	ig_assert_eq "$(policy_flags 8003)" 0 "8003: the last prefix gone"
	ig_assert_eq "$(policy_flags 8001)" $((14 | 128)) "8001 keeps its own levels (timed: a token port)"
	ig_assert_eq "$(policy_flags 8002 1)" 1 "8002/udp keeps its dry run"
	# levels switched off by a re-limit take their flags with them
	ig limit 8001 --rate 5/s >/dev/null
	ig_assert_eq "$(policy_flags 8001)" 0 "8001 without levels (nor times: a conn port)"
}

t_tier_list_and_names() {
	local i
	ig_make_pair
	ig_attach >/dev/null
	ig limit 8000 --rate 5/s >/dev/null
	ig tier add 198.18.7.9/24 gold >/dev/null # host bits cleared
	ig tier add fd00:5::/64 gold >/dev/null
	ig tier add 198.18.8.0/24 silver >/dev/null
	ig tier set gold 8000 --rate 20/s >/dev/null
	ig tier set silver 8000/tcp --rate 10/s --burst 3 >/dev/null
	ig tier list --json >"$IG_TMP/t.json"
	cat "$IG_TMP/t.json"
	"$IG_PY" - "$IG_TMP/t.json" <<'EOF' || ig_fail "tier list --json: see above"
import json, sys
j = json.load(open(sys.argv[1]))
p = {e["cidr"]: e["tier"] for e in j["prefixes"]}
assert p == {"198.18.7.0/24": "gold", "fd00:5::/64": "gold", "198.18.8.0/24": "silver"}, p
r = {(e["tier"], e["port"], e["proto"]): (e["rate"], e["burst"]) for e in j["rates"]}
assert r == {("gold", 8000, "tcp"): (20, 20), ("silver", 8000, "tcp"): (10, 3)}, r
EOF
	ig_assert_eq "$(tier_name_count)" 2 "two names"
	# a name stays while a prefix or a rate uses it
	ig tier del 198.18.8.0/24 >/dev/null
	ig_assert_eq "$(tier_name_count)" 2 "silver still has a rate"
	ig tier unset silver 8000 >/dev/null
	ig_assert_eq "$(tier_name_count)" 1 "silver freed"
	ig tier del 198.18.7.0/24 >/dev/null
	ig tier del fd00:5::/64 >/dev/null
	ig_assert_eq "$(tier_name_count)" 1 "gold still has a rate"
	ig tier unset gold 8000 >/dev/null
	ig_assert_eq "$(tier_name_count)" 0 "all names freed"
	# more names over time than there are ids (63): each freed after use
	for ((i = 0; i < 70; i++)); do
		ig tier add 198.18.9.0/24 "t$i" >/dev/null 2>"$IG_TMP/err" ||
			ig_fail "name $i: $(cat "$IG_TMP/err")"
	done
	ig_assert_eq "$(tier_name_count)" 1 "only the last name is in use"
	ig tier list | grep "198.18.9.0/24 *t69" >/dev/null || ig_fail "the last tier: $(ig tier list)"
}

t_usage_errors() {
	local rc
	ig_make_pair
	ig_attach >/dev/null
	ig limit 8000 --rate 5/s >/dev/null
	expect() { # RC MESSAGE ARGS...
		rc=0
		ig "${@:3}" >/dev/null 2>"$IG_TMP/err" || rc=$?
		ig_assert_eq "$rc" "$1" "exit of ${*:3}"
		ig_assert_eq "$(wc -l <"$IG_TMP/err")" 1 "one line on stderr for ${*:3}"
		grep -q -- "$2" "$IG_TMP/err" || ig_fail "${*:3}: $(cat "$IG_TMP/err")"
	}
	expect 2 "counts TCP connections" limit 8001/udp --rate 1/s --max-conns 3
	expect 2 "prefix burst needs a prefix rate" limit 8001 --rate 1/s --prefix-burst 3
	expect 2 "prefix_len" limit 8001 --rate 1/s --prefix-rate 1/s --prefix-len 33
	expect 2 "prefix_len" limit 8001 --rate 1/s --prefix-rate 1/s --prefix-len 24,129
	expect 2 "bytes_per_token needs tokens_per_minute" limit 8001 --rate 1/s --bytes-per-token 3
	expect 1 "invalid CIDR" tier add 198.18.0.0/33 gold
	expect 1 "invalid tier name" tier add 198.18.0.0/16 "no/way"
	expect 1 "invalid tier name" tier add 198.18.0.0/16 abcdefghijklmnopqrstuvwxyz
	expect 1 "not in the tiers" tier del 198.18.0.0/16
	expect 2 "set needs --rate" tier set gold 8000
	expect 1 "no tier named" tier unset nosuch 8000
	expect 2 "unknown action" tier frobnicate
	expect 1 "has no token budget" charge 198.18.0.9 8000 5
	expect 2 "invalid TOKENS" charge 198.18.0.9 8000 5x
	# none of it left anything behind
	ig_assert_eq "$(ig_json 'len(j["ports"])')" 1 "ports"
	ig_assert_eq "$(ig tier list --json)" '{"prefixes":[],"rates":[],"key_tiers":[]}' "tiers"
}

t_levels_kept_by_relimit_cleared_by_unlimit() {
	local slot before after
	ig_make_pair
	ig_start_server tcp 8000
	ig_attach >/dev/null
	ig limit 8000 --rate 100/s --port-rate 1/s --port-burst 50 --prefix-rate 50/s \
		--prefix-len 28,56 --newcomer-rate 20/s --max-conns 9 --tokens-per-min 1200 \
		--bytes-per-token 3 >/dev/null
	ig_json 'port(8000)["levels"]' >"$IG_TMP/levels.json"
	"$IG_PY" - "$IG_TMP/levels.json" <<'EOF' || ig_fail "levels in status --json: $(cat "$IG_TMP/levels.json")"
import json, sys
l = json.load(open(sys.argv[1]))
want = {"prefix_rate": 50, "prefix_rate_period_s": 1, "prefix_rate_text": "50/s",
        "prefix_burst": 50, "prefix_len": [28, 56],
        "port_rate": 1, "port_rate_period_s": 1, "port_rate_text": "1/s", "port_burst": 50,
        "newcomer_rate": 20, "newcomer_rate_period_s": 1, "newcomer_rate_text": "20/s",
        "newcomer_burst": 20, "max_conns": 9, "tokens_per_minute": 1200, "tokens": 1200,
        "tokens_period_s": 60, "tokens_text": "1200/min", "token_count": "usage",
        "bytes_per_token": 3, "fleet": False}
assert l == want, (l, want)
EOF
	ig status | grep "8000/tcp levels: prefix /28,/56 50/s burst 50; port 1/s burst 50;" >/dev/null ||
		ig_fail "status table: $(ig status)"
	slot=$(slot_of 8000)
	ig_assert_eq "$(bt_field port_limits max_conns $(ig_hex_le "$slot" 4))" 9 "port_limits[$slot]"
	# three connections through the port level: its bucket moves
	ig_assert_eq "$(ig_attempts "$C4" 3 | cut -d' ' -f1)" 3 "admitted"
	before=$(bt_value port_state $(ig_hex_le "$slot" 4))
	[ "$(bt_field port_state port_tat $(ig_hex_le "$slot" 4))" != 0 ] || ig_fail "port_tat untouched: $before"
	# a re-limit with other levels keeps the slot and the buckets
	ig limit 8000 --rate 100/s --port-rate 2/s --port-burst 40 --max-conns 5 >/dev/null
	ig_assert_eq "$(slot_of 8000)" "$slot" "slot kept"
	after=$(bt_value port_state $(ig_hex_le "$slot" 4))
	ig_assert_eq "$after" "$before" "port_state across a re-limit"
	ig_assert_eq "$(bt_field port_limits port_rate $(ig_hex_le "$slot" 4))" 2 "new port rate"
	ig_assert_eq "$(bt_field port_limits tokens_per_min $(ig_hex_le "$slot" 4))" 0 "tokens off"
	ig unlimit 8000 >/dev/null
	ig_assert_eq "$(bt_field port_limits port_rate $(ig_hex_le "$slot" 4))" 0 "limits cleared"
	ig_assert_eq "$(bt_field port_state port_tat $(ig_hex_le "$slot" 4))" 0 "state cleared"
}

t_charges_and_debtors_in_status() {
	local out spent t0 refill
	ig_make_pair
	ig_attach >/dev/null
	ig limit 8000 --rate 5/s --tokens-per-min 600 >/dev/null
	ig_assert_eq "$(ig_json 'port(8000)["token_clients"]')" 0 "no client yet"
	t0=$(date +%s.%N)
	out=$(ig charge 198.18.77.1 8000 100 2>"$IG_TMP/note")
	grep -q "no agent on .*: charged the map directly" "$IG_TMP/note" || ig_fail "no note: $(cat "$IG_TMP/note")"
	ig_assert_eq "$out" 500 "balance"
	out=$(ig charge fd00:77::5 8000/tcp 700 2>/dev/null)
	ig_assert_range "$out" -101 -98 "an IPv6 client in debt"
	# the tokens entry, keyed by the IPv4-mapped address
	spent=$(bt_field tokens spent $(hexb 0 0 0 0 0 0 0 0 0 0 255 255 198 18 77 1) \
		$(ig_hex_le 8000 2) 0 0)
	ig_assert_eq "$spent" 100 "spent in the map"
	out=$(ig charge 198.18.77.1 8000 50 2>/dev/null)
	# 600/min refills 10 a second: what came back between the two charges
	# is allowed for (the commands between them take a while on a busy host)
	refill=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", (b - a) * 10 + 1 }')
	ig_assert_range "$out" 449 $((451 + refill)) "second charge"
	ig_assert_eq "$(bt_field tokens spent $(hexb 0 0 0 0 0 0 0 0 0 0 255 255 198 18 77 1) \
		$(ig_hex_le 8000 2) 0 0)" 150 "spent grows"
	ig_assert_eq "$(ig_json 'port(8000)["token_clients"]')" 2 "two clients"
	ig_assert_eq "$(ig_json 'port(8000)["token_debtors"]')" 1 "one in debt"
	ig status | grep "tokens 600/min at 4 B/token (2 clients, 1 in debt), counted by usage;" >/dev/null ||
		ig_fail "status table: $(ig status | grep tokens)"
}

# A python client for the control socket, kept open: SPEC says what it does.
ctl_client() { # SPEC
	"$IG_PY" -c '
import socket, sys, time
path, spec = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
if spec == "trickle":          # a byte every 100 ms, never a line
    for i in range(100):
        s.send(b"c")
        time.sleep(0.1)
elif spec == "idle":           # connects, says nothing
    time.sleep(15)
elif spec == "idle16":         # 16 such, from one process, so that all are
    more = [socket.socket(socket.AF_UNIX) for i in range(15)]   # connected within
    for m in more:             # the 5 s idle limit of the agent, however slowly processes start
        m.connect(path)
    time.sleep(15)
elif spec == "long":           # a line beyond the cap: told, then closed
    s.settimeout(5)
    try:
        s.sendall(b"x" * 300)
        print(s.recv(100).decode().strip(), "|", s.recv(100) == b"")
    except OSError as e:
        print("error", e)
elif spec == "many":           # pipelined lines answered in order
    s.sendall(b"".join(b"charge 198.18.0.9 8000 %d\n" % (i % 2) for i in range(40)))
    s.shutdown(socket.SHUT_WR)
    print(len(s.makefile().read().splitlines()))
' "$IG_TMP/ctl.sock" "$1"
}

charge_quick() { # prints the seconds a charge through the socket took, then its output
	local t0 out
	t0=$(ig_now)
	out=$(ig charge --socket "$IG_TMP/ctl.sock" "$C4" 8000 1 2>&1) || true
	echo "$(ig_calc "$(ig_now) - $t0") $out"
}

t_control_socket_and_bad_clients() {
	local r i t out
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
	EOF
	ig_start_agent
	ig_assert_eq "$(stat -c %a "$IG_TMP/ctl.sock")" 660 "socket mode"
	ig_assert_eq "$(ig charge --socket "$IG_TMP/ctl.sock" "$C4" 8000 100)" 500 "a charge"
	# a client trickling bytes and one overlong line: the others are served
	ctl_client trickle &
	IG_PIDS+=($!)
	ig_assert_eq "$(ctl_client long)" "error line too long | True" "overlong line"
	ig_assert_eq "$(ctl_client many)" 40 "40 pipelined lines, 40 answers"
	read -r t out <<<"$(charge_quick)"
	echo "measured: a charge beside a trickling client: ${t}s"
	ig_fcmp "$t < 1" || ig_fail "charge took ${t}s beside a slow client ($out)"
	# 499 after this charge, plus what 600/min refilled since the first one
	ig_assert_range "$out" 400 599 "its answer"
	# every client slot (16) taken by silent clients: a new one is told busy,
	# at once, and served again once they have idled out (5 s)
	ctl_client idle16 &
	IG_PIDS+=($!)
	# busy from when the 16 have connected until they idle out 5 s later;
	# a python that takes seconds to start on a loaded CI run (seen: not
	# busy within 5 s of the launch) still connects them within 10
	ig_wait_for 10 "the slots to fill" busy_now
	read -r t out <<<"$(charge_quick)"
	ig_fcmp "$t < 1" || ig_fail "a busy answer took ${t}s"
	ig_wait_for 10 "the idle clients to be dropped" charge_ok
	kill -0 "$IG_AGENT_PID" || ig_fail "the agent died"
	# no agent: the CLI charges the map itself
	kill "$IG_AGENT_PID"
	wait "$IG_AGENT_PID" 2>/dev/null || true
	[ ! -e "$IG_TMP/ctl.sock" ] || ig_fail "socket left behind by the agent"
	r=$(ig charge --socket "$IG_TMP/ctl.sock" "$C4" 8000 1 2>"$IG_TMP/note")
	grep -q "no agent on" "$IG_TMP/note" || ig_fail "no note: $(cat "$IG_TMP/note")"
	ig_assert_range "$r" 400 599 "a charge without the agent (refilled meanwhile)"
}

busy_now() { charge_quick | grep "busy" >/dev/null; }
charge_ok() { [[ "$(charge_quick)" =~ ^[0-9.]+\ [0-9]+$ ]]; }

for HOOK in xdp tc; do
	run_test "flags-follow-levels-and-tiers ($HOOK)" t_flags_follow_levels_and_tiers
done
HOOK=xdp
run_test tier-list-and-names t_tier_list_and_names
run_test fairshare-usage-errors t_usage_errors
run_test levels-kept-by-relimit-cleared-by-unlimit t_levels_kept_by_relimit_cleared_by_unlimit
run_test charges-and-debtors-in-status t_charges_and_debtors_in_status
run_test control-socket-and-bad-clients t_control_socket_and_bad_clients
