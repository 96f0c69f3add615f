#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Reloading the agent's config (SIGHUP, `infergate reload`): only the
# difference is applied, buckets are rescaled and never refilled, an invalid
# file changes nothing.
. "$(dirname "$0")/../lib/netns.sh"

reloads() { grep -c "reload: applied\|reload refused" "$IG_TMP/agent.log" || true; }
reloads_more_than() { [ "$(reloads)" -gt "$1" ]; }

# Writes the config: [agent] for this pair, then the given port sections.
config() { # FILE SECTION-TEXT
	{ printf '[agent]\ninterface = %s\nmetrics = off\n' "$VS"; printf '%b' "$2"; } >"$1"
}

# A source that spent its burst of 10 gets no fresh burst from a reload that
# triples the burst: it keeps its share (about nothing), while a plain policy
# write would have left it 20 tokens.
t_reload_rescales_and_never_refills() {
	local n
	ig_make_pair
	ig_start_server tcp 8000
	config "$IG_TMP/agent.conf" '[port 8000]\nrate = 1/s\nburst = 10\naction = reject\n'
	ig_start_agent
	ig_curl_run 12 "http://$S4:8000/" 2
	echo "before: $(ig_curl_summary)"
	ig_assert_range "$CURL_OK" 10 11 "admitted before the reload"

	n=$(reloads)
	config "$IG_TMP/agent.conf" '[port 8000]\nrate = 1/s\nburst = 30\naction = reject\n'
	ig reload --config "$IG_TMP/agent.conf" --pid-file "$IG_TMP/agent.pid"
	ig_wait_for 5 "the reload" reloads_more_than "$n"
	ig_curl_run 10 "http://$S4:8000/" 2
	echo "after: $(ig_curl_summary)"
	grep "reload:" "$IG_TMP/agent.log"
	# what was left (< 1 token, plus < 1 s of refill) times 3, plus refill;
	# a policy written without the rescale leaves it 20 tokens
	ig_assert_range "$CURL_OK" 0 6 "admitted right after the reload"
	ig_assert_ge "$CURL_REFUSED" 4 "refused right after the reload"
	grep -q "8000/tcp 1/s burst 30 per conn, reject (1 source(s) rescaled)" "$IG_TMP/agent.log" ||
		ig_fail "no rescale logged"
	ig_assert_eq "$(ig_json 'port(8000)["burst"]')" 30 "burst after the reload"

	# the same speed written per minute (issue 20): a reload between units
	# rescales like any other, the bucket just drained stays drained
	n=$(reloads)
	config "$IG_TMP/agent.conf" '[port 8000]\nrate = 60/min\nburst = 30\naction = reject\n'
	ig reload --config "$IG_TMP/agent.conf" --pid-file "$IG_TMP/agent.pid"
	ig_wait_for 5 "the reload" reloads_more_than "$n"
	# (the same speed and burst: the rescaled TAT is the TAT, so none is rewritten)
	grep -q "8000/tcp 60/min burst 30 per conn, reject ([01] source(s) rescaled)" "$IG_TMP/agent.log" ||
		ig_fail "no rescale to 60/min logged: $(grep reload: "$IG_TMP/agent.log")"
	ig_assert_eq "$(ig_json 'port(8000)["rate_text"]')" 60/min "rate as written after the reload"
	ig_curl_run 10 "http://$S4:8000/" 2
	echo "after 60/min: $(ig_curl_summary)"
	ig_assert_range "$CURL_OK" 0 6 "admitted right after the reload to 60/min"
}

# SIGHUP: a port dropped from the file stops being limited, a new one starts,
# an unchanged one is not touched; breakers keep their state.
t_sighup_adds_and_removes_ports() {
	ig_make_pair
	config "$IG_TMP/agent.conf" '[port 8000]\nrate = 5/s\n[port 8002]\nrate = 5/s\n[port 9000]\nfallback = 9001\n'
	ig_start_agent
	ig breaker 9000 open
	ig_assert_eq "$(ig_json '[p["port"] for p in j["ports"]]')" "[8000, 8002]" "ports at start"

	config "$IG_TMP/agent.conf" '[port 8000]\nrate = 5/s\n[port 8001]\nrate = 7/s\n[port 9000]\nfallback = 9002\nwindow = 5s\n'
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "the reload" reloads_more_than 0
	grep "reload" "$IG_TMP/agent.log"
	ig_assert_eq "$(ig_json '[p["port"] for p in j["ports"]]')" "[8000, 8001]" "ports after the reload"
	ig_assert_eq "$(ig_json 'port(8001)["rate"]')" 7 "new port's rate"
	grep -q "reload: 8000/tcp" "$IG_TMP/agent.log" && ig_fail "the unchanged port was rewritten"
	ig_assert_eq "$(ig_json 'j["breakers"][0]["fallback"]')" 9002 "breaker's new fallback"
	ig_assert_eq "$(ig_json 'j["breakers"][0]["force"]')" open "the operator's force survives"
	kill -0 "$IG_AGENT_PID" || ig_fail "the agent died"
}

# An invalid file: `reload --config` says why and does not signal; a SIGHUP
# with it in place is refused by the agent; nothing changes either way.
t_invalid_reload_changes_nothing() {
	local out rc=0 before
	ig_make_pair
	config "$IG_TMP/agent.conf" '[port 8000]\nrate = 5/s\nburst = 8\n'
	ig_start_agent
	before=$(ig_json 'j["ports"]')

	config "$IG_TMP/bad.conf" '[port 8000]\nrate = 50/s\nburst = many\n'
	out=$(ig reload --config "$IG_TMP/bad.conf" --pid-file "$IG_TMP/agent.pid" 2>&1) || rc=$?
	echo "$out"
	ig_assert_eq "$rc" 1 "reload --config with a broken file"
	grep -q "bad.conf:6: invalid burst 'many'" <<<"$out" || ig_fail "no file:line: $out"
	ig_assert_eq "$(reloads)" 0 "reloads the agent saw"

	cp "$IG_TMP/bad.conf" "$IG_TMP/agent.conf"
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "the refusal" reloads_more_than 0
	grep -q "reload refused: .*agent.conf:6: invalid burst 'many'.*; nothing changed" "$IG_TMP/agent.log" ||
		ig_fail "refusal not logged: $(cat "$IG_TMP/agent.log")"
	ig_assert_eq "$(ig_json 'j["ports"]')" "$before" "ports after a refused reload"

	# moving the agent to another interface takes a restart
	{ printf '[agent]\ninterface = lo\nmetrics = off\n[port 8000]\nrate = 5/s\n'; } >"$IG_TMP/agent.conf"
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "the refusal" reloads_more_than 1
	grep -q "reload refused: interface, hook" "$IG_TMP/agent.log" || ig_fail "interface change not refused"
	kill -0 "$IG_AGENT_PID" || ig_fail "the agent died"
}

run_test reload-rescales-and-never-refills t_reload_rescales_and_never_refills
run_test sighup-adds-and-removes-ports t_sighup_adds_and_removes_ports
run_test invalid-reload-changes-nothing t_invalid_reload_changes_nothing
