#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Who the client is (issue 16), end to end against the stand-in OpenAI server
# (tests/lib/openai_server.py), whose /stats says what reached it:
# - --key api-key: the official openai SDK with different keys from one
#   address, each held to its own budget; a key in a tier at the tier's
#   rate; calls without a key, and with a key nobody loaded, on the
#   address's anonymous budget; one key from two addresses, one budget;
#   attackers: a new made-up key per request, the key's value cut across
#   segments (anonymous: the data path reads a value within one segment),
#   a revoked key.
# - --key proxy-source: HAProxy (send-proxy-v2 and send-proxy) in front,
#   clients behind it on different addresses limited apart; a client
#   sending its own PROXY header from outside the trusted list refused, and
#   the balancer's connection without one. The same with IPv6 clients in
#   the headers, the server reached over IPv4 and over IPv6.
# - key add refusing a key stored under another name; tier list showing a
#   tier only keys are in.
# Counts are bounded by burst + rate x the time the run took, plus one.
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000

keys_preflight() {
	req_preflight
	# the help read whole, then searched: `| grep -q` exits at the first
	# match, and the help's next write then dies of SIGPIPE, which pipefail
	# took for "no --key" on a loaded host (CI skipped proxy-haproxy so)
	grep -q -- '--key' <<<"$("$IG_BIN" limit --help 2>&1)" ||
		ig_skip "infergate limit --help names no --key (not built yet)"
}

# A key file of one key, loaded under NAME (ARGS: --tier T, --deny).
key_add() { # NAME KEY [ARGS...]
	local name=$1 key=$2
	shift 2
	printf '%s\n' "$key" >"$IG_TMP/key.$name"
	ig key add "$name" --token-file "$IG_TMP/key.$name" "$@"
}

# 1/s, burst 4 a key; anonymous 1/s, burst 2 an address; 429s.
setup_keys() {
	keys_preflight
	ig_make_pair
	C4B=${C4%.*}.3
	ig_cli ip addr add "$C4B/24" dev "$VC"
	start_backend openai_server.py api
	ig_attach
	ig limit "$PORT/tcp" --rate 1/s --burst 4 --unit request --action reject \
		--key api-key --anonymous-rate 1/s --anonymous-burst 2
	key_add alice sk-alice-0123456789
	key_add bob sk-bob-0123456789
	key_add carol sk-carol-0123456789 --tier premium
	key_add revoked sk-revoked-0123456789 --deny
	ig tier set premium "$PORT" --rate 50/s --burst 50
}

# ok within [LO, burst + rate x (the run's span) + 1]
span_s() { ig_calc "($(sj "['last_attempt_ms']") - $(sj "['first_attempt_ms']")) / 1000"; }
assert_ok_window() { # OK LO BURST RATE SPAN_S WHAT
	local hi
	hi=$(ig_calc "int($3 + $4 * $5 + 1)")
	ig_assert_range "$1" "$2" "${hi%.*}" "$6"
}

kc() { # ARGS... (key_client.py from the client namespace); its JSON in KC
	KC=$(ig_cli "$IG_PY" "$IG_LIB/key_client.py" "$@") || ig_fail "key_client.py failed: $KC"
	echo "key_client $*: $KC"
}
kj() { jq_py "j['$1']" "$KC"; }

t_sdk_keys() {
	local url ok out total=0
	sdk_preflight
	setup_keys
	url="http://$S4:$PORT/v1"
	sdk --base-url "$url" --calls 10 --max-retries 0 --api-key sk-alice-0123456789
	ok=$(sj "['ok']")
	assert_ok_window "$ok" 4 4 1 "$(span_s)" "alice: her burst"
	ig_assert_eq "$(sj "['errors']['RateLimitError']")" $((10 - ok)) "the rest: 429s the SDK names"
	total=$((total + ok))
	sdk --base-url "$url" --calls 10 --max-retries 0 --api-key sk-bob-0123456789
	ok=$(sj "['ok']")
	assert_ok_window "$ok" 4 4 1 "$(span_s)" "bob, same address: a budget of his own"
	total=$((total + ok))
	sdk --base-url "$url" --calls 20 --max-retries 0 --api-key sk-carol-0123456789
	ig_assert_eq "$(sj "['ok']")" 20 "carol, premium: 50/s"
	total=$((total + 20))
	sdk --base-url "$url" --calls 6 --max-retries 0 --no-key
	ok=$(sj "['ok']")
	assert_ok_window "$ok" 2 2 1 "$(span_s)" "no key: the address's anonymous budget"
	total=$((total + ok))
	sdk --base-url "$url" --calls 4 --max-retries 0 --api-key sk-made-up
	ok=$(sj "['ok']")
	ig_assert_range "$ok" 0 "$(ig_calc "int(1 + $(span_s) + 1)" | cut -d. -f1)" \
		"a key nobody loaded: the same anonymous budget"
	total=$((total + ok))
	ig_assert_eq "$(api "j['requests']")" "$total" "what reached the server is what was admitted"
	ig key list | tee "$IG_TMP/keys"
	! grep -q 'sk-' "$IG_TMP/keys" || ig_fail "key list shows key text"
	# a fleet's shared seed: not while keys hashed with this one are loaded
	# outputs read whole before grep: its -q exits at the first match, and
	# with info on stdout too the next line's write died of SIGPIPE, which
	# pipefail took for a failure (keys-sdk failed so once in five runs here)
	out=$(ig key seed) || ig_fail "key seed failed"
	grep -q "the instance's own" <<<"$out" || ig_fail "key seed: not the instance's: $out"
	printf '0123456789abcdef\n' >"$IG_TMP/seed"
	! ig key seed --seed-file "$IG_TMP/seed" || ig_fail "a new seed with keys loaded was taken"
	ig key del alice && ig key del bob && ig key del carol && ig key del revoked
	out=$(ig key seed --seed-file "$IG_TMP/seed") || ig_fail "key seed --seed-file failed"
	grep -q shared <<<"$out" || ig_fail "the shared seed not set: $out"
	key_add alice sk-alice-0123456789
	sdk --base-url "$url" --calls 3 --max-retries 0 --api-key sk-alice-0123456789
	ig_assert_ge "$(sj "['ok']")" 1 "alice, hashed with the shared seed: her own budget again"
}

# One key from two addresses: one budget; another key there: its own.
t_key_addresses() {
	setup_keys
	kc "$S4" "$PORT" --n 6 --key sk-alice-0123456789 --bind "$C4"
	ig_assert_range "$(kj ok)" 4 5 "alice from one address"
	kc "$S4" "$PORT" --n 3 --key sk-alice-0123456789 --bind "$C4B"
	ig_assert_range "$(kj ok)" 0 1 "alice from another: the same budget"
	kc "$S4" "$PORT" --n 4 --key sk-bob-0123456789 --bind "$C4B" --header x-api-key
	ig_assert_eq "$(kj ok)" 4 "bob there: his own"
}

t_key_attacks() {
	setup_keys
	# a new key on every request: the anonymous budget, once
	kc "$S4" "$PORT" --n 30 --fresh-keys
	ig_assert_range "$(kj ok)" 2 4 "made-up keys buy nothing"
	# the key's value cut across two segments: anonymous, on the address's
	# budget (the key's stays whole): cutting buys nothing
	kc "$S4" "$PORT" --n 6 --key sk-bob-0123456789 --header x-api-key --split --bind "$C4B"
	ig_assert_range "$(kj ok)" 2 3 "a key cut across segments: the anonymous budget"
	kc "$S4" "$PORT" --n 2 --bind "$C4B"
	ig_assert_range "$(kj ok)" 0 1 "which it spent"
	kc "$S4" "$PORT" --n 4 --key sk-bob-0123456789 --bind "$C4B"
	ig_assert_eq "$(kj ok)" 4 "the key's own is untouched"
	# a revoked key: dropped, never answered
	mark
	kc "$S4" "$PORT" --n 1 --key sk-revoked-0123456789 --timeout 1
	ig_assert_eq "$(kj ok)" 0 "a revoked key served nothing"
	ig_assert_ge "$(grown denied)" 1 "refused as denied"
}

# One key's hash under a second name: refused, naming the first, and nothing
# of the call stored; --force moves it, and frees the name of a tier its
# last key left. A tier only keys are in is listed.
t_key_cli() {
	keys_preflight
	ig_make_pair
	ig_attach
	ig limit "$PORT/tcp" --rate 1/s --unit request --key api-key
	key_add alice sk-alice-0123456789 --tier gold
	printf '%s\n' sk-fresh-0123456789 sk-alice-0123456789 >"$IG_TMP/two"
	! ig key add mallory --token-file "$IG_TMP/two" 2>"$IG_TMP/err" ||
		ig_fail "a key stored as alice was taken as mallory"
	cat "$IG_TMP/err"
	grep -q "stored as alice" "$IG_TMP/err" || ig_fail "the refusal does not name alice"
	ig key list --json >"$IG_TMP/keys.json"
	ig_assert_eq "$(jq_py "sorted((k['name'], k['tier']) for k in j['keys'])" "$(cat "$IG_TMP/keys.json")")" \
		'[["alice", "gold"]]' "after the refusal: alice alone, in her tier (the fresh key not stored)"
	key_add alice sk-alice-0123456789 --tier silver >/dev/null
	ig_assert_eq "$(ig key list --json | jq_py_in "[k['tier'] for k in j['keys']]")" '["silver"]' \
		"the same name again: replaced"
	ig key add mallory --token-file "$IG_TMP/two" --force >/dev/null
	ig_assert_eq "$(ig key list --json | jq_py_in "sorted(k['name'] for k in j['keys'])")" \
		'["mallory", "mallory"]' "--force: moved"
	# the tiers alice's key was in (gold, then silver) went with it: no
	# name is left taken in tier_names for a tier nothing is in
	bpftool -j map dump pinned "$PIN/tier_names" >"$IG_TMP/names.json"
	! grep -Eq '"(gold|silver)"' "$IG_TMP/names.json" ||
		ig_fail "a tier name left behind: $(grep -Eo '"(gold|silver)"' "$IG_TMP/names.json" | sort -u | tr '\n' ' ')"
	! ig key list --force 2>/dev/null || ig_fail "--force taken without add"
	# a tier named by keys alone, then one with a rate too
	key_add bob sk-bob-0123456789 --tier gold >/dev/null
	ig tier list | tee "$IG_TMP/tiers"
	grep -Eq "^  gold +1 key\(s\), no rate set" "$IG_TMP/tiers" || ig_fail "tier list: no gold"
	ig tier set gold "$PORT" --rate 5/s
	ig_assert_eq "$(ig tier list --json | jq_py_in "j['key_tiers']")" \
		'[{"tier": "gold", "keys": 1, "rated": true}]' "tier list --json: gold's keys"
}
jq_py_in() { jq_py "$1" "$(cat)"; }

# ---------------------------------------------------------------- PROXY

# HAProxy in the client namespace, one frontend for each triple LISTEN
# SERVER send-proxy|send-proxy-v2 (HAProxy takes an address's last colon
# for its port, IPv6 too); its clients bind the addresses the headers carry.
start_haproxy() { # LISTEN SERVER SEND...
	local n=0
	command -v haproxy >/dev/null || ig_skip "haproxy not installed (make deps)"
	{
		printf 'global\n\tmaxconn 256\ndefaults\n\tmode tcp\n\ttimeout connect 2s\n'
		printf '\ttimeout client 10s\n\ttimeout server 10s\n'
		while [ $# -ge 3 ]; do
			printf 'frontend f%d\n\tbind %s\n\tdefault_backend b%d\n' "$n" "$1" "$n"
			printf 'backend b%d\n\tserver s %s %s\n' "$n" "$2" "$3"
			HAPROXY_LAST=${1##*:}
			n=$((n + 1))
			shift 3
		done
	} >"$IG_TMP/haproxy.cfg"
	ig_cli haproxy -db -f "$IG_TMP/haproxy.cfg" >"$IG_TMP/haproxy.log" 2>&1 &
	IG_PIDS+=("$!")
	# every frontend is bound before any listens: the last one will do
	ig_wait_for 5 "haproxy listening" haproxy_up
}
haproxy_up() { [ -n "$(ig_cli ss -Hltn "sport = :$HAPROXY_LAST")" ]; }

t_haproxy() {
	local c
	keys_preflight
	ig_make_pair
	C4B=${C4%.*}.3
	ig_cli ip addr add "$C4B/24" dev "$VC"
	start_backend openai_server.py api --proxy-protocol
	ig_attach
	ig limit "$PORT/tcp" --rate 1/s --burst 3 --unit request --action reject \
		--key proxy-source --proxy-from "$C4/32"
	start_haproxy 127.0.0.1:8080 "$S4:$PORT" send-proxy-v2 127.0.0.1:8081 "$S4:$PORT" send-proxy
	for c in 2 3; do
		kc 127.0.0.1 8080 --n 6 --bind "127.0.0.$c"
		ig_assert_range "$(kj ok)" 3 4 "127.0.0.$c behind HAProxy (v2): its own budget"
	done
	kc 127.0.0.1 8081 --n 6 --bind 127.0.0.4
	ig_assert_range "$(kj ok)" 3 4 "127.0.0.4 behind HAProxy (v1): its own budget"
	ig_assert_range "$(api "j['by_peer'].get('127.0.0.3', 0)")" 3 4 \
		"the header went on to the server: it saw the client"
	mark
	# a client outside the trusted list with a PROXY header of its own
	kc "$S4" "$PORT" --n 1 --bind "$C4B" --proxy-v1 203.0.113.9 --timeout 1
	ig_assert_eq "$(kj ok)" 0 "a forged PROXY header: refused"
	ig_assert_ge "$(grown drop_proxy)" 1 "counted as drop_proxy"
	# the balancer's own address without a header
	mark
	kc "$S4" "$PORT" --n 1 --bind "$C4" --timeout 1
	ig_assert_eq "$(kj ok)" 0 "the balancer without a header: refused"
	ig_assert_ge "$(grown drop_proxy)" 1 "counted as drop_proxy"
	# a direct client without a header: by its own address
	kc "$S4" "$PORT" --n 2 --bind "$C4B"
	ig_assert_eq "$(kj ok)" 2 "a direct client: its own address's budget"
	ig_assert_eq "$(api "j['by_peer'].get('203.0.113.9', 0)")" 0 "the forged client never reached it"
}

# IPv6 inside the headers: clients on fd00:c::N behind HAProxy, which
# reaches the server over IPv4 (an IPv6 header on an IPv4 connection) and
# over IPv6, v2 and v1 each. The budget is the header's client, whichever
# path its connection took; forged IPv6 headers, v1 and v2, from an
# address outside the list refused.
t_haproxy6() {
	local c seen=
	keys_preflight
	ig_make_pair
	C6B=fd00::3
	# deprecated: HAProxy's own connections must not pick it as their source
	ig_cli ip -6 addr add "$C6B/64" dev "$VC" nodad preferred_lft 0
	for c in 1 2 3 4 5 6; do ig_cli ip -6 addr add "fd00:c::$c/128" dev lo; done
	start_backend openai_server.py api --proxy-protocol
	ig_attach
	ig limit "$PORT/tcp" --rate 1/s --burst 3 --unit request --action reject \
		--key proxy-source --proxy-from "$C4/32,$C6/128"
	start_haproxy fd00:c::1:8080 "$S4:$PORT" send-proxy-v2 fd00:c::1:8081 "$S4:$PORT" send-proxy \
		fd00:c::1:8082 "$S6:$PORT" send-proxy-v2 fd00:c::1:8083 "$S6:$PORT" send-proxy
	for c in 2:8080 3:8080 4:8081 5:8082 6:8083; do
		kc fd00:c::1 "${c#*:}" --n 6 --bind "fd00:c::${c%:*}"
		ig_assert_range "$(kj ok)" 3 4 "fd00:c::${c%:*} through :${c#*:}: its own budget"
		seen+=" ::${c%:*}@${c#*:}=$(kj ok)/6"
	done
	kc fd00:c::1 8082 --n 3 --bind fd00:c::2
	ig_assert_range "$(kj ok)" 0 1 "fd00:c::2 again, now over the IPv6 path: the same budget"
	echo "measured: admitted (burst 3, 1/s):$seen; ::2 again@8082=$(kj ok)/3"
	ig_assert_range "$(api "j['by_peer'].get('fd00:c::5', 0)")" 3 4 \
		"the header went on to the server: it saw the IPv6 client"
	for c in v1 v2; do
		mark
		kc "$S6" "$PORT" --n 1 --bind "$C6B" "--proxy-$c" fd00:bad::9 --timeout 1
		ig_assert_eq "$(kj ok)" 0 "a forged $c header with an IPv6 client: refused"
		ig_assert_ge "$(grown drop_proxy)" 1 "the forged $c header counted as drop_proxy"
	done
	mark
	kc "$S6" "$PORT" --n 1 --bind "$C6" --timeout 1
	ig_assert_eq "$(kj ok)" 0 "the balancer's IPv6 address without a header: refused"
	ig_assert_ge "$(grown drop_proxy)" 1 "counted as drop_proxy"
	# a trusted balancer's v2 header of its own making, to show the forged
	# ones above were refused for where they came from, not their form
	kc "$S6" "$PORT" --n 2 --bind "$C6" --proxy-v2 fd00:beef::7
	ig_assert_eq "$(kj ok)" 2 "the same v2 header from the trusted address: believed"
	ig_assert_eq "$(api "j['by_peer'].get('fd00:bad::9', 0)")" 0 "the forged client never reached it"
}

# Connections held through hold.py's HAProxy; their JSON in $IG_TMP/hold.TAG.
hold() { # TAG ADDR N (then releases when $IG_TMP/release.TAG appears)
	ig_cli timeout 40 "$IG_PY" "$IG_LIB/conn_hold.py" 127.0.0.1 8080 --bind "$2" --conns "$3" \
		--until "$IG_TMP/release.$1" >"$IG_TMP/hold.$1" 2>&1 &
	IG_PIDS+=("$!")
	HOLD_PID=$!
	ig_wait_for 20 "conn_hold.py $1's result" test -s "$IG_TMP/hold.$1"
	echo "conn_hold $1 ($2, $3 connections): $(cat "$IG_TMP/hold.$1")"
}
hj() { jq_py "j['$2']" "$(cat "$IG_TMP/hold.$1")"; }
# Two connections of 127.0.0.2 open and closed again at once: both served.
two_again() {
	ig_cli "$IG_PY" "$IG_LIB/conn_hold.py" 127.0.0.1 8080 --bind 127.0.0.2 --conns 2 \
		>"$IG_TMP/hold.again" 2>&1 && [ "$(hj again ok)" = 2 ]
}

# The server behind HAProxy (send-proxy-v2, from 127.0.0.1:8080), whose
# clients are held to MAX connections each.
conns_behind_haproxy() { # MAX
	keys_preflight
	ig_make_pair
	start_backend openai_server.py api --proxy-protocol
	ig_attach
	ig limit "$PORT/tcp" --rate 100/s --burst 100 --unit request --action reject \
		--key proxy-source --proxy-from "$C4/32" --max-conns "$1"
	start_haproxy 127.0.0.1:8080 "$S4:$PORT" send-proxy-v2
}

# max-conns behind a balancer: counted for the client each PROXY header
# names, not for the balancer, whose own address would otherwise hold every
# client's connections (all refused but max-conns of them); and given back
# to that client when its connection ends.
t_haproxy_conns() {
	conns_behind_haproxy 2
	hold a 127.0.0.2 3
	ig_assert_eq "$(hj a ok)" 2 "127.0.0.2: max-conns 2 of its 3 connections served"
	ig_assert_eq "$(hj a refused)" 1 "its third refused (429)"
	hold b 127.0.0.3 2
	ig_assert_eq "$(hj b ok)" 2 "127.0.0.3 behind the same balancer: its own 2"
	hold c 127.0.0.4 1
	ig_assert_eq "$(hj c ok)" 1 "127.0.0.4 too: the balancer is not the client"
	touch "$IG_TMP/release.a"
	# given back to 127.0.0.2 when its connections end (their FINs go
	# through the balancer and the server first)
	ig_wait_for 10 "127.0.0.2's two slots back" two_again
	echo "again: $(cat "$IG_TMP/hold.again")"
	touch "$IG_TMP/release.b" "$IG_TMP/release.c"
	ig_wait_for 10 "conn_counts empty" conn_counts_empty
	ig_assert_eq "$(api "j['by_peer'].get('127.0.0.2', 0)")" 4 \
		"the server saw 127.0.0.2's requests: 2 held, 2 again"
}
# every client's count back to zero: nothing left for anyone (the pinned map)
conn_counts_empty() {
	[ "$(jq_py 'len(j)' "$(bpftool -j map dump pinned "$PIN/conn_counts")")" = 0 ]
}

# max-conns behind a balancer across an upgrade: a balancer's connection is
# counted at its first request, and until then its handshake's record waits
# in `pending`, which an upgrade (or a reload) does not keep. 0.14.1 let
# such a connection's first request through uncounted, so the client's next
# connection was served too (2 with max-conns 1); now the established socket
# of a trusted balancer vouches for the handshake and it is counted.
t_haproxy_conns_upgrade() {
	conns_behind_haproxy 1
	# a connection of 127.0.0.2 through the balancer, its request held back
	# until late.go; open until release.late
	ig_cli timeout 60 "$IG_PY" "$IG_LIB/conn_hold.py" 127.0.0.1 8080 --bind 127.0.0.2 \
		--conns 1 --ready "$IG_TMP/late.up" --go "$IG_TMP/late.go" \
		--until "$IG_TMP/release.late" >"$IG_TMP/hold.late" 2>&1 &
	IG_PIDS+=($!)
	ig_wait_for 10 "the held connection" test -e "$IG_TMP/late.up"
	# HAProxy has connected to the server and sent the header alone
	ig_wait_for 10 "the balancer's connection to the server" balancer_connected
	ig_attach >"$IG_TMP/upgrade.log" 2>&1
	grep -q "programs replaced in place" "$IG_TMP/upgrade.log" ||
		ig_fail "not an upgrade: $(cat "$IG_TMP/upgrade.log")"
	touch "$IG_TMP/late.go"
	ig_wait_for 10 "the held connection's answer" test -s "$IG_TMP/hold.late"
	ig_assert_eq "$(hj late ok)" 1 "the connection held across the upgrade: served"
	hold b 127.0.0.2 1
	touch "$IG_TMP/release.late"
	echo "measured: max-conns 1 behind HAProxy, a connection held across an upgrade:" \
		"$(cat "$IG_TMP/hold.late"), then the client's next: $(cat "$IG_TMP/hold.b")"
	ig_assert_eq "$(hj b refused)" 1 "the client's next connection, over max-conns 1 (429)"
	ig_assert_eq "$(hj b ok)" 0 "the client's next connection served"
}
balancer_connected() {
	[ -n "$(ig_srv ss -Htn state established "( sport = :$PORT and dst $C4 )")" ]
}

# Token budgets behind a balancer: what a reply spends is charged to the
# client its connection's PROXY header named, and that client's debt is what
# refuses its next call; another client behind the same balancer keeps its
# own budget. The 429 tells the client when its own debt is paid.
t_haproxy_tokens() {
	local a b ra
	keys_preflight
	ig_make_pair
	start_backend openai_server.py api --proxy-protocol
	ig_attach
	ig limit "$PORT/tcp" --rate 100/s --burst 100 --unit request --action reject \
		--key proxy-source --proxy-from "$C4/32" --tokens-per-min 60
	start_haproxy 127.0.0.1:8080 "$S4:$PORT" send-proxy-v2
	# ~7 tokens a call (a 5-word answer, a 1-token prompt): past 60 within 12
	kc 127.0.0.1 8080 --n 12 --bind 127.0.0.2
	a=$(kj ok)
	ig_assert_range "$a" 1 11 "127.0.0.2: served until in debt"
	ig_assert_ge "$(kj refused)" 1 "127.0.0.2 refused for its debt (429)"
	# The 429 says when its own debt is paid (0.14.1 and before read the
	# balancer's budget, which has none, and said the port's spacing: 10 ms
	# at 100/s). The debt the calls left may be a few ms or a few s (what
	# the last call took past the budget), so 120 tokens more are charged
	# to it (a gateway's report): 120 s more at 1 token/s.
	ig charge 127.0.0.2 "$PORT" 120 >/dev/null
	kc 127.0.0.1 8080 --n 1 --bind 127.0.0.2
	ra=$(kj retry_after_ms)
	ig_assert_range "$ra" 100000 130000 "127.0.0.2's retry-after-ms: its own debt's wait"
	kc 127.0.0.1 8080 --n 2 --bind 127.0.0.3
	b=$(kj ok)
	ig_assert_eq "$b" 2 "127.0.0.3 behind the same balancer: its own budget"
	ig_assert_eq "$(api "j['by_peer'].get('127.0.0.2', 0)")" "$a" "the server saw 127.0.0.2's served calls"
	echo "measured: 60 tokens/min per client behind HAProxy: 127.0.0.2 served $a of 12 (then" \
		"429s for its debt, retry-after-ms $ra), 127.0.0.3 then $b of 2"
}

HOOK=xdp
run_test "$HOOK/keys-sdk" t_sdk_keys
run_test "$HOOK/keys-attacks" t_key_attacks
run_test "$HOOK/keys-cli" t_key_cli
run_test "$HOOK/proxy-haproxy" t_haproxy
run_test "$HOOK/proxy-haproxy6" t_haproxy6
run_test "$HOOK/proxy-haproxy-conns" t_haproxy_conns
run_test "$HOOK/proxy-haproxy-tokens" t_haproxy_tokens
run_test "$HOOK/proxy-haproxy-conns-upgrade" t_haproxy_conns_upgrade
HOOK=tc
run_test "$HOOK/keys-addresses" t_key_addresses
run_test "$HOOK/proxy-haproxy" t_haproxy
run_test "$HOOK/proxy-haproxy6" t_haproxy6
run_test "$HOOK/proxy-haproxy-conns" t_haproxy_conns
run_test "$HOOK/proxy-haproxy-tokens" t_haproxy_tokens
