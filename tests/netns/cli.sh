#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The CLI's life cycle on a real interface: refusals leave nothing behind,
# attach is idempotent, detach leaves the interface clean, --purge the bpffs.
. "$(dirname "$0")/../lib/netns.sh"

# Nothing pinned: the pin dir is absent or empty.
ig_assert_no_pins() { # DIR
	if [ -d "$1" ] && [ -n "$(ls -A "$1")" ]; then
		ig_fail "left pinned in $1: $(ls -A "$1" | tr '\n' ' ')"
	fi
	return 0
}

# ig_expect_error RC WHAT CLI-ARGS...: the CLI (its own --pin-dir included in
# the args) exits RC with exactly one non-empty line on stderr.
ig_expect_error() {
	local want=$1 what=$2 rc=0 err
	shift 2
	nsenter --net="/run/netns/$SRV" ${IG_AS_USER:+setpriv --reuid=65534 --regid=65534 --clear-groups} \
		"$IG_BIN" "$@" >"$IG_TMP/out" 2>"$IG_TMP/err" || rc=$?
	err=$(cat "$IG_TMP/err")
	echo "$what: exit $rc, stderr: $err"
	ig_assert_eq "$rc" "$want" "$what: exit code"
	ig_assert_eq "$(grep -c . "$IG_TMP/err")" 1 "$what: lines on stderr"
	ig_assert_eq "$(wc -l <"$IG_TMP/err")" 1 "$what: lines on stderr (blank ones too)"
}

# Each refusal on a fresh host: it leaves no program and no pins.
ig_error_case() { # RC WHAT ARGS...
	ig_make_pair
	ig_expect_error "$1" "$2" --pin-dir "$PIN" "${@:3}"
	ig_assert_clean "$SRV" "$VS"
	ig_assert_no_pins "$PIN"
}

t_err_unknown_iface() { ig_error_case 1 "attach to a missing interface" attach igmissing0 --hook "$HOOK"; }
t_err_port_0() { ig_error_case 2 "port 0" limit 0 --rate 5/s; }
t_err_port_70000() { ig_error_case 2 "port 70000" limit 70000/tcp --rate 5/s; }
t_err_rate_0() { ig_error_case 2 "rate 0" limit 8080 --rate 0; }
t_err_rate_abc() { ig_error_case 2 "rate abc" limit 8080 --rate abc; }

t_err_pin_parent_missing() {
	local base
	ig_make_pair
	base=/sys/fs/bpf/ig-test-$$-$IG_N-missing
	IG_PINS+=("$base")
	ig_expect_error 1 "pin dir whose parent is missing" \
		--pin-dir "$base/instance" attach "$VS" --hook "$HOOK"
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$base" ] || ig_fail "$base was created: $(ls -laR "$base")"
}

t_err_not_bpffs() {
	ig_make_pair
	ig_expect_error 1 "pin dir outside bpffs" --pin-dir "$IG_TMP/pins" attach "$VS" --hook "$HOOK"
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$IG_TMP/pins" ] || ig_fail "$IG_TMP/pins was created"
}

t_err_not_root() {
	ig_make_pair
	command -v setpriv >/dev/null || ig_skip "setpriv (util-linux) not installed"
	IG_AS_USER=1 ig_expect_error 1 "attach as an unprivileged user" --pin-dir "$PIN" \
		attach "$VS" --hook "$HOOK"
	ig_assert_clean "$SRV" "$VS"
	ig_assert_no_pins "$PIN"
}

# A refused limit on a running instance changes nothing there either.
t_err_keeps_instance() {
	local before
	ig_make_pair
	ig_attach
	ig limit 8080 --rate 5/s --burst 10
	before=$(ig_json 'j["ports"]')
	ig_expect_error 2 "rate abc on a running instance" --pin-dir "$PIN" limit 8080 --rate abc
	ig_expect_error 2 "port 0 on a running instance" --pin-dir "$PIN" limit 0 --rate 1/s
	ig_assert_eq "$(ig_json 'j["ports"]')" "$before" "ports after refused commands"
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs attached (ingress + egress)"
}

t_attach_twice() {
	local id1 id2
	ig_make_pair
	ig_attach
	id1=$(ig_json 'j["attachments"][0]["prog_id"]')
	ig_attach
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs attached after two attaches (ingress + egress)"
	ig_assert_eq "$(ig_json 'len(j["attachments"])')" 1 "attachments in status"
	ig_assert_eq "$(ig_json 'j["attachments"][0]["hook"]')" "$HOOK" "hook in status"
	id2=$(ig_json 'j["attachments"][0]["prog_id"]')
	echo "prog ids: $id1 then $id2"
	if [ "$HOOK" = xdp ]; then
		nsenter --net="/run/netns/$SRV" ip -d link show dev "$VS" | grep "prog/xdp id $id2 " >/dev/null ||
			ig_fail "status prog_id $id2 is not the XDP program on $VS"
	fi
	# and the one attached program does its job
	ig_start_server tcp 8080
	ig limit 8080 --rate 1/s --burst 1 --action reject
	ig_curl_run 3 "http://$S4:8080/" 2
	ig_curl_summary
	# burst 1 at 1/s: one admitted, plus at most one (the bucket keeps time on
	# whole-token instants: a source first seen just before one gets its
	# next token early, the +-1 of the bucket's exactness)
	ig_assert_ge "$CURL_REFUSED" 1 "refused after the second attach"
	ig_assert_eq "$(ig_json 'reason(8080,"tcp","admitted") + reason(8080,"tcp","reject")')" 3 \
		"charges counted once each"
}

t_detach_clean() {
	ig_make_pair
	ig_start_server tcp 8080
	ig_attach
	ig limit 8080 --rate 1/s --burst 1 --action reject
	[ -e "$PIN/link_${HOOK}_$VS" ] || ig_fail "no link pinned as $PIN/link_${HOOK}_$VS: $(ls "$PIN")"
	ig detach "$VS"
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$PIN/link_${HOOK}_$VS" ] || ig_fail "link pin left after detach"
	[ -e "$PIN/port_policy" ] || ig_fail "detach without --purge removed the maps: $(ls -A "$PIN")"
	ig_assert_eq "$(ig_json 'len(j["attachments"])')" 0 "attachments in status after detach"
	ig_assert_eq "$(ig_json '[p["port"] for p in j["ports"]]')" "[8080]" "policy kept after detach"
	# Nothing limits any more.
	ig_curl_run 10 "http://$S4:8080/" 2
	ig_curl_summary
	ig_assert_eq "$CURL_OK" 10 "connections after detach"
}

t_detach_purge() {
	ig_make_pair
	ig_attach
	ig limit 8080 --rate 5/s
	ig detach "$VS" --purge
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$PIN" ] || ig_fail "pin dir left after detach --purge: $(ls -A "$PIN")"
	# A new instance starts from scratch.
	ig_attach
	ig_assert_eq "$(ig_json 'len(j["ports"])')" 0 "ports of a new instance after --purge"
}

for HOOK in xdp tc; do
	run_test "$HOOK/cli-error-unknown-iface" t_err_unknown_iface
	run_test "$HOOK/cli-error-pin-parent-missing" t_err_pin_parent_missing
	run_test "$HOOK/cli-error-pin-dir-not-bpffs" t_err_not_bpffs
	run_test "$HOOK/cli-error-not-root" t_err_not_root
	run_test "$HOOK/cli-error-keeps-instance" t_err_keeps_instance
	run_test "$HOOK/attach-twice" t_attach_twice
	run_test "$HOOK/detach-clean" t_detach_clean
	run_test "$HOOK/detach-purge" t_detach_purge
done
HOOK=xdp
run_test cli-error-port-0 t_err_port_0
run_test cli-error-port-70000 t_err_port_70000
run_test cli-error-rate-0 t_err_rate_0
run_test cli-error-rate-abc t_err_rate_abc

# A pid file left by a dead agent may name a pid since reused by anything:
# reload must check it is an infergate agent before sending SIGHUP (which
# kills most programs).
t_reload_pidfile_foreign_pid() {
	local pid
	ig_make_pair
	sleep 300 &
	pid=$!
	IG_PIDS+=($pid)
	echo "$pid" >"$IG_TMP/stale.pid"
	ig_expect_error 1 "reload with a foreign pid" --pin-dir "$PIN" reload --pid-file "$IG_TMP/stale.pid"
	grep -q "pid $pid from .* is not an infergate agent" "$IG_TMP/err" ||
		ig_fail "message: $(cat "$IG_TMP/err")"
	sleep 0.2
	kill -0 "$pid" 2>/dev/null || ig_fail "the foreign process was signalled"
}
run_test reload-pidfile-foreign-pid-not-signalled t_reload_pidfile_foreign_pid

# The flow table's size is chosen at the first attach and kept while pinned.
t_max_flows() {
	ig_make_pair
	ig_attach --max-flows 4096
	ig_assert_eq "$(ig_json 'j["max_flows"]')" 4096 "flow table size"
	ig_expect_error 1 "another size while pinned" --pin-dir "$PIN" attach "$VS" --max-flows 8192
	grep -q "holds 4096 flows; --max-flows 8192 differs" "$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
	ig_attach
	ig_assert_eq "$(ig_json 'j["max_flows"]')" 4096 "kept by an attach without the option"
}
run_test max-flows t_max_flows

# ---------------------------------------------------------------- token count

# One field of a pinned map's value, BTF-formatted by bpftool.
bt_field() { # MAP FIELD KEY-HEX-BYTES...
	ig_srv bpftool -j map lookup pinned "$PIN/$1" key hex "${@:3}" | "$IG_PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d.get("formatted", d)["value"][sys.argv[1]])' "$2"
}

policy_flags() { bt_field port_policy flags $(ig_hex_le "$1" 4); } # PORT (tcp)
map_id() { ig_srv bpftool -j map show pinned "$PIN/$1" | "$IG_PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }

ZERO_RULES='{"usage": {"responses": 0, "tokens": 0}, "events": {"responses": 0, "tokens": 0}, "bytes": {"responses": 0, "tokens": 0}}'

# --token-count is stored in the policy's flags (bits 5-6: usage 0, events 1,
# bytes 2) beside the level flags (HIER 2, TOKENS 8, dry run 1), read back by
# status; a re-limit without it is usage again; the refusals change nothing.
t_token_count_cli() {
	local before
	ig_make_pair
	ig_attach >/dev/null
	ig limit 8000 --rate 5/s --tokens-per-min 600 --token-count events >/dev/null
	ig_assert_eq "$(policy_flags 8000)" $((2 | 8 | 1 << 5 | 128)) "flags: HIER|TOKENS|events|TIMED"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["token_count"]')" events "status --json"
	ig_assert_eq "$(ig_json 'port(8000)["token_rules"]')" "$ZERO_RULES" "token_rules in status --json"
	ig status | grep "8000/tcp levels: tokens 600/min at 4 B/token (0 clients, 0 in debt), counted by events;" >/dev/null ||
		ig_fail "status table: $(ig status)"
	ig status | grep "8000/tcp tokens by rule: usage 0 responses 0 tokens; events 0 responses 0 tokens; bytes 0 responses 0 tokens" >/dev/null ||
		ig_fail "status table: $(ig status)"
	ig limit 8000 --rate 5/s --tokens-per-min 600 --token-count bytes --dry-run >/dev/null
	ig_assert_eq "$(policy_flags 8000)" $((1 | 2 | 8 | 2 << 5 | 128)) "flags: dry run, bytes"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["token_count"]')" bytes "bytes"
	# as --dry-run, an option not given is its default again
	ig limit 8000 --rate 5/s --tokens-per-min 600 >/dev/null
	ig_assert_eq "$(policy_flags 8000)" $((2 | 8 | 128)) "flags: usage (0) again"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["token_count"]')" usage "usage by default"
	# a tier coming and going recomputes the level flags: the rule stays
	ig limit 8000 --rate 5/s --tokens-per-min 600 --token-count events >/dev/null
	ig tier add 198.18.200.0/24 deny >/dev/null
	ig tier del 198.18.200.0/24 >/dev/null
	ig_assert_eq "$(policy_flags 8000)" $((2 | 8 | 1 << 5 | 128)) "rule kept across the tiers' flag refresh"
	# a port without a token budget has no rule to show
	ig limit 8001 --rate 5/s >/dev/null
	ig status | grep "8001/tcp tokens by rule" >/dev/null && ig_fail "8001 has no token budget: $(ig status)"
	ig_assert_eq "$(ig_json 'port(8001)["levels"]["token_count"]')" usage "8001"

	before=$(ig_json 'j["ports"]')
	ig_expect_error 2 "--token-count without --tokens-per-min" --pin-dir "$PIN" \
		limit 8001 --rate 1/s --token-count events
	grep -q "token-count .*needs --tokens-per-min" "$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
	ig_expect_error 2 "--token-count words" --pin-dir "$PIN" \
		limit 8001 --rate 1/s --tokens-per-min 60 --token-count words
	grep -q "invalid --token-count 'words': expected usage, events or bytes" "$IG_TMP/err" ||
		ig_fail "message: $(cat "$IG_TMP/err")"
	ig_assert_eq "$(ig_json 'j["ports"]')" "$before" "ports after refused commands"
}

# token_rules and resp_socks (socket storage) are pinned, reused by the next
# attach, and an instance pinned without them (as 0.6.0 left it) is refused
# with what to do until an attach creates them, keeping the policies.
t_token_maps_pinned_and_upgraded() {
	local rules socks
	ig_make_pair
	ig_attach >/dev/null
	ig limit 8000 --rate 5/s --tokens-per-min 600 --token-count events >/dev/null
	ig_srv bpftool -j map show pinned "$PIN/resp_socks" | grep -q '"type":"sk_storage"' ||
		ig_fail "resp_socks: $(ig_srv bpftool map show pinned "$PIN/resp_socks")"
	ig_srv bpftool -j map show pinned "$PIN/token_rules" | grep -q '"type":"percpu_array"' ||
		ig_fail "token_rules: $(ig_srv bpftool map show pinned "$PIN/token_rules")"
	rules=$(map_id token_rules) socks=$(map_id resp_socks)
	ig_attach >/dev/null
	ig_assert_eq "$(map_id token_rules)" "$rules" "token_rules reused by a second attach"
	ig_assert_eq "$(map_id resp_socks)" "$socks" "resp_socks reused by a second attach"
	# as 0.6.0 left it: neither pinned
	rm "$PIN/token_rules" "$PIN/resp_socks"
	ig_expect_error 1 "status on an instance without token_rules" --pin-dir "$PIN" status
	grep -q "made by an older infergate (no map token_rules): 'infergate attach IFACE' upgrades it" \
		"$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
	ig_attach >/dev/null
	[ -e "$PIN/token_rules" ] && [ -e "$PIN/resp_socks" ] || ig_fail "not created: $(ls "$PIN")"
	ig_assert_eq "$(ig_json 'port(8000)["levels"]["token_count"]')" events "policy kept by the upgrade"
	ig_assert_eq "$(ig_json 'port(8000)["token_rules"]')" "$ZERO_RULES" "fresh token_rules"
	ig detach "$VS" --purge >/dev/null
	[ ! -e "$PIN" ] || ig_fail "left after --purge: $(ls -A "$PIN")"
}

METRICS=127.0.0.1:9464
scrape() { ig_srv curl -q -s --noproxy '*' -m 5 "http://$METRICS/metrics"; }
token_count_is() { [ "$(ig_json 'port(8000)["levels"]["token_count"]')" = "$1" ]; }

# The agent: token_count from the config, changed by a reload; the metrics
# carry every rule of every token port (and nothing for the others).
t_token_count_agent_metrics() {
	ig_make_pair
	cat >"$IG_TMP/agent.conf" <<-CONF
	[agent]
	interface = $VS
	metrics = $METRICS
	control = off
	[port 8000]
	rate = 5/s
	tokens_per_minute = 600
	token_count = events
	[port 8001]
	rate = 5/s
	CONF
	ig_start_agent
	ig_assert_eq "$(policy_flags 8000)" $((2 | 8 | 1 << 5 | 128)) "flags from the config"
	scrape >"$IG_TMP/metrics.txt"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$IG_TMP/metrics.txt" || ig_fail "promtool check metrics failed"
	fi
	for m in infergate_token_responses_total infergate_tokens_charged_total; do
		ig_assert_eq "$(grep -c "^$m{" "$IG_TMP/metrics.txt")" 3 "$m: three rules of one port"
		for rule in usage events bytes; do
			grep -qx "$m{port=\"8000\",proto=\"tcp\",rule=\"$rule\"} 0" "$IG_TMP/metrics.txt" ||
				ig_fail "$m $rule: $(grep "$m" "$IG_TMP/metrics.txt")"
		done
	done
	sed -i 's/^token_count = events/token_count = bytes/' "$IG_TMP/agent.conf"
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "the reload to apply token_count = bytes" token_count_is bytes
	ig_assert_eq "$(policy_flags 8000)" $((2 | 8 | 2 << 5 | 128)) "flags after the reload"
	grep -q "reload: 8000/tcp .*tokens counted by bytes" "$IG_TMP/agent.log" ||
		ig_fail "reload log: $(grep reload: "$IG_TMP/agent.log")"
}

run_test token-count-cli t_token_count_cli
run_test token-maps-pinned-and-upgraded t_token_maps_pinned_and_upgraded
run_test token-count-agent-metrics t_token_count_agent_metrics
