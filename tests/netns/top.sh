#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `infergate top` and the agent's drop log: an abusive client and a polite one
# (two addresses of the client namespace) against a limited port; top names
# the abusive one with its drops and an empty bucket, never the polite one;
# the agent logs a bounded summary of the sampled drops.
. "$(dirname "$0")/../lib/netns.sh"

t_top_names_the_abusive_source() {
	local polite abusive ok failed
	ig_make_pair
	polite=${C4%.*}.3
	abusive=$C4
	ig_cli ip addr add "$polite/24" dev "$VC"
	ig_start_server tcp 8000
	printf '[agent]\ninterface = %s\n[port 8000]\nrate = 6/min\nburst = 3\n' "$VS" >"$IG_TMP/agent.conf"
	ig_start_agent

	read -r ok failed <<<"$(ig_attempts "$polite" 1 0.05)"
	ig_assert_eq "$ok" 1 "the polite client's connection"
	read -r ok failed <<<"$(ig_attempts "$abusive" 40 0.05)"
	echo "abusive: $ok admitted, $failed dropped"
	ig_assert_ge "$failed" 30 "the abusive client's dropped attempts"

	ig_wait_for 5 "top to show the abusive source" top_has "$abusive"
	ig top -n 5 | tee "$IG_TMP/top.txt"
	grep -q "$polite" "$IG_TMP/top.txt" && ig_fail "top names the polite client"
	ig top -n 5 --json >"$IG_TMP/top.json"
	"$IG_PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
src = j["ports"][0]["sources"][0]
assert j["ports"][0]["port"] == 8000, j
assert src["source"] == sys.argv[2], src
assert src["sampled_drops"] >= 10, src
# spent; at 6/min the bucket takes 30 s to refill, so on a slow machine the
# seconds between the flood and this read cannot fill it (at 1/s they did)
assert src["tokens_left"] < src["burst"], src
assert src["last_reason"] == "drop_limit", src
' "$IG_TMP/top.json" "$abusive" || ig_fail "top --json: $(cat "$IG_TMP/top.json")"

	# one summary line per 10 s at most, naming the source
	ig_wait_for 15 "the drop summary in the log" grep -q "drops sampled in the last 10 s" "$IG_TMP/agent.log"
	grep "drops sampled" "$IG_TMP/agent.log"
	grep -q "drops sampled .*; most: $abusive -> 8000/tcp" "$IG_TMP/agent.log" || ig_fail "summary does not name the source"
	ig_assert_eq "$(grep -c 'drops sampled' "$IG_TMP/agent.log")" 1 "summary lines"
}

top_has() { local out; out=$(ig top -n 5 2>/dev/null) && grep -q "$1" <<<"$out"; }

t_top_without_an_agent_says_so() {
	local out rc=0
	ig_make_pair
	out=$(ig top 2>&1) || rc=$?
	ig_assert_eq "$rc" 1 "exit code"
	grep -q "no agent answering on 127.0.0.1:9464" <<<"$out" || ig_fail "message: $out"
}

run_test top-names-the-abusive-source t_top_names_the_abusive_source
run_test top-without-an-agent-says-so t_top_without_an_agent_says_so
