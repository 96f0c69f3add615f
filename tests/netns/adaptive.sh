#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Adaptive admission (issue 15) end to end: the stand-in engine
# (tests/lib/engine.py: 4 slots, 20 ms prefill, 16 tokens x 20 ms, ~11.8
# requests/s) behind the agent with a static port rate of twice its capacity
# (too much: its queue would grow without bound), and `adaptive = engine`
# (or latency) driving the port rate from its /metrics. Open-loop load from
# two source addresses (tests/lib/loadgen.py). A sampler in the server
# namespace reads the engine's queue (/stats) and the agent's
# infergate_adaptive_rate (/metrics) every 250 ms.
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119,SC2120
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000
CAP=11.765  # the engine's capacity, requests/s
STATIC=24   # the static port rate: twice the capacity
METRICS=127.0.0.1:9464

setup() { # MODE [CONFIG LINE...]
	req_preflight
	[ -f "$IG_LIB/engine.py" ] || ig_skip "no tests/lib/engine.py"
	ig_make_pair
	C4B=${C4%.2}.3
	ig_cli ip addr add "$C4B/24" dev "$VC"
	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_LIB/engine.py" "$PORT" \
		>"$IG_TMP/engine.log" 2>&1 &
	IG_PIDS+=("$!")
	ig_wait_for 5 "engine.py on port $PORT" ig_listening -Hltn "$PORT"
	{
		echo "[agent]"
		echo "interface = $VS"
		echo "hook = $HOOK"
		echo "tick = 50ms"
		echo "metrics = $METRICS"
		echo "control = off"
		echo "[port $PORT]"
		echo "unit = request"
		echo "action = reject"
		echo "rate = 12/s"
		echo "burst = 12"
		echo "port_rate = $STATIC/s"
		echo "port_burst = $STATIC"
		echo "adaptive = $1"
		[ "$1" != engine ] || echo "engine_metrics = http://127.0.0.1:$PORT/metrics"
		shift
		[ $# = 0 ] || printf '%s\n' "$@"
	} >"$IG_TMP/agent.conf"
	ig_start_agent
}

admin() { # JSON
	ig_srv curl -q -s --noproxy '*' -m 5 -d "$1" "http://127.0.0.1:$PORT/admin" >/dev/null ||
		ig_fail "POST /admin $1 failed"
}

ad() { ig_json "port($PORT)['adaptive']$1"; }

# The sampler: SECONDS of "t waiting rate state" lines into $IG_TMP/samples.
# Background processes are nsenter's own children, not a shell function's:
# $! must be what the cleanup can kill.
sample() { # SECONDS
	nsenter --net="/run/netns/$SRV" "$IG_PY" -c '
import json, sys, time, urllib.request
end, t0 = time.time() + float(sys.argv[1]), time.time()
out = open(sys.argv[2], "w")
while time.time() < end:
    w = r = s = "nan"
    try:
        w = json.load(urllib.request.urlopen(sys.argv[3], timeout=1))["waiting"]
    except Exception:
        pass
    try:
        for l in urllib.request.urlopen(sys.argv[4], timeout=1).read().decode().splitlines():
            if l.startswith("infergate_adaptive_rate{"):
                r = l.split()[-1]
            if l.startswith("infergate_adaptive_state{") and l.endswith(" 1"):
                s = l.split("state=\"")[1].split("\"")[0]
    except Exception:
        pass
    out.write("%.2f %s %s %s\n" % (time.time() - t0, w, r, s))
    out.flush()
    time.sleep(0.25)' "$1" "$IG_TMP/samples" "http://127.0.0.1:$PORT/stats" \
		"http://$METRICS/metrics" &
	IG_PIDS+=("$!")
	SAMPLER=$!
}

# A column's mean/max over the samples in [FROM, TO) s.
stat() { # COLUMN mean|max FROM TO
	awk -v c="$1" -v f="$2" -v a="$3" -v b="$4" '
		$1 >= a && $1 < b && $c != "nan" { n++; s += $c; if ($c > m) m = $c }
		END { if (!n) { print "nan"; exit } printf "%.2f\n", f == "max" ? m : s / n }' \
		"$IG_TMP/samples"
}

# Two generators at 1.5x capacity each (3x together), streamed, from two
# addresses, for SECONDS; their summaries in LA and LB. Poisson arrivals:
# evenly spaced clients started together lock in phase with the port
# bucket's refills, and one of them can take more than its share.
overload() { # SECONDS
	local at rate
	at=$("$IG_PY" -c 'import time; print(time.time() + 0.5)')
	rate=$(ig_calc "$CAP * 1.5")
	nsenter --net="/run/netns/$CLI" timeout 120 "$IG_PY" "$IG_LIB/loadgen.py" \
		"http://$S4:$PORT" --bind "$C4" \
		--stream --schedule "$rate:$1" --conns 200 --timeout 30 --start-at "$at" \
		--poisson --seed 1 --out "$IG_TMP/a.csv" --label a >"$IG_TMP/a.json" &
	IG_PIDS+=("$!")
	LOADA=$!
	ig_cli timeout 120 "$IG_PY" "$IG_LIB/loadgen.py" "http://$S4:$PORT" --bind "$C4B" \
		--stream --schedule "$rate:$1" --conns 200 --timeout 30 --start-at "$at" \
		--poisson --seed 2 --out "$IG_TMP/b.csv" --label b >"$IG_TMP/b.json"
	wait "$LOADA"
	LA=$(cat "$IG_TMP/a.json")
	LB=$(cat "$IG_TMP/b.json")
}

# 3x the capacity for 14 s: the agent cuts the port rate from twice the
# capacity to about the capacity, the engine's queue stays near its target
# (5) instead of growing to ~100, the rest is refused with 429 and a
# Retry-After, the two clients get equal shares.
t_engine() {
	local q_mean q_max r_mean good a b ra
	setup engine
	sample 16
	overload 14
	wait "$SAMPLER"
	q_mean=$(stat 2 mean 6 15)
	q_max=$(stat 2 max 6 15)
	r_mean=$(stat 3 mean 6 15)
	good=$(ig_calc "($(jq_py 'j["total"]["goodput_s"]' "$LA") + $(jq_py 'j["total"]["goodput_s"]' "$LB"))")
	a=$(jq_py 'j["total"]["admitted_s"]' "$LA")
	b=$(jq_py 'j["total"]["admitted_s"]' "$LB")
	ra=$(jq_py 'j["total"]["retry_after_min"]' "$LA")
	grep "adaptive $PORT/tcp" "$IG_TMP/agent.log" | sed -n 1,12p
	echo "samples (t waiting rate state):"
	awk 'NR % 4 == 1' "$IG_TMP/samples"
	grep -q "adaptive $PORT/tcp: rate $STATIC/s -> " "$IG_TMP/agent.log" ||
		ig_fail "no log line of the rate leaving $STATIC/s"
	ig_fcmp "$r_mean < $CAP * 1.5 && $r_mean > $CAP * 0.5" ||
		ig_fail "adaptive rate $r_mean/s over the last 9 s (capacity $CAP)"
	ig_fcmp "$q_mean <= 12" || ig_fail "the engine's queue averaged $q_mean (target 5)"
	ig_fcmp "$q_max <= 30" || ig_fail "the engine's queue reached $q_max"
	ig_assert_ge "$(jq_py 'j["total"]["statuses"].get("429", 0)' "$LA")" 20 "429s to client a"
	[ "$ra" != None ] || ig_fail "429s without Retry-After"
	ig_fcmp "$good >= $CAP * 0.8" || ig_fail "goodput $good/s (capacity $CAP)"
	ig_fcmp "$a <= $b * 1.25 && $b <= $a * 1.25" || ig_fail "shares $a/s and $b/s"
	ig_assert_eq "$(ad "['mode']")" engine "status: mode"
	ig_assert_eq "$(ad "['state']")" tracking "status: state"
	ig status | grep "adaptive (engine): tracking, port rate" ||
		ig_fail "status (text) has no adaptive line"
	ig_srv curl -q -s --noproxy '*' -m 5 "http://$METRICS/metrics" >"$IG_TMP/metrics.txt"
	grep "^infergate_adaptive_state{.*state=\"tracking\"} 1" "$IG_TMP/metrics.txt" ||
		ig_fail "no tracking state gauge"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$IG_TMP/metrics.txt" || ig_fail "promtool check metrics failed"
	fi
	echo "measured: engine, 3x capacity ($CAP/s) for 14 s, static port rate $STATIC/s:" \
		"adaptive rate mean $r_mean/s over 6-15 s, engine queue mean $q_mean max $q_max" \
		"(target 5), goodput $good/s, admitted a $a/s b $b/s, TTFT p99 a" \
		"$(jq_py 'j["total"]["ttft_p99"]' "$LA") s, Retry-After >= $ra s"
}

# adaptive_headroom = 0.05, bursts of the engine's 4 slots: the agent
# estimates the engine's capacity from its counters (slots x completions /
# running) and holds the rate at 95 % of it, so the queue that queue_target
# would keep (5, ~0.4 s of wait on this engine) stays empty.
t_headroom() {
	local q_mean r_mean cap good p99
	setup engine "adaptive_headroom = 0.05" "port_burst = 4" "burst = 4"
	sample 16
	overload 14
	wait "$SAMPLER"
	q_mean=$(stat 2 mean 6 15)
	r_mean=$(stat 3 mean 6 15)
	cap=$(ad "['capacity']")
	good=$(ig_calc "($(jq_py 'j["total"]["goodput_s"]' "$LA") + $(jq_py 'j["total"]["goodput_s"]' "$LB"))")
	# the TTFT p99 of what both clients sent from 6 s on (the first
	# seconds are the static rate's, twice the capacity, and queue)
	p99=$(awk -F, 'FNR > 1 && $1 >= 6 && $2 == 200 { print $3 }' "$IG_TMP/a.csv" "$IG_TMP/b.csv" |
		sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] + 0 }')
	grep "adaptive $PORT/tcp" "$IG_TMP/agent.log" | sed -n 1,8p
	echo "samples (t waiting rate state):"
	awk 'NR % 4 == 1' "$IG_TMP/samples"
	ig_fcmp "$cap > $CAP * 0.8 && $cap < $CAP * 1.25" ||
		ig_fail "capacity estimated at $cap/s (the engine's is $CAP/s)"
	ig_fcmp "$r_mean > $CAP * 0.75 && $r_mean < $CAP * 1.05" ||
		ig_fail "adaptive rate $r_mean/s over the last 9 s (95 % of $CAP/s wanted)"
	ig_fcmp "$q_mean <= 1" || ig_fail "the engine's queue averaged $q_mean (kept empty wanted)"
	ig_fcmp "$good >= $CAP * 0.75" || ig_fail "goodput $good/s (capacity $CAP)"
	# a queue of 5 is ~0.4 s of wait here (t_engine: p99 ~0.8 s)
	ig_fcmp "$p99 < 0.3" || ig_fail "TTFT p99 $p99 s from 6 s on"
	ig status | grep "adaptive (engine): tracking, .*capacity" ||
		ig_fail "status (text) shows no capacity"
	ig_srv curl -q -s --noproxy '*' -m 5 "http://$METRICS/metrics" |
		grep "^infergate_adaptive_capacity{" || ig_fail "no infergate_adaptive_capacity gauge"
	echo "measured: headroom 0.05, 3x capacity ($CAP/s) for 14 s: capacity estimated" \
		"$cap/s, adaptive rate mean $r_mean/s over 6-15 s, engine queue mean $q_mean," \
		"goodput $good/s, TTFT p99 from 6 s on $p99 s"
}

engine_idle() {
	ig_srv curl -q -s --noproxy '*' -m 2 "http://127.0.0.1:$PORT/stats" |
		"$IG_PY" -c 'import json,sys; j=json.load(sys.stdin); sys.exit(j["waiting"] + j["running"] != 0)'
}
inflight_none() { [ "$(ig_json "port($PORT)['inflight']['now']")" = 0 ]; }

# max_inflight = 4, the engine's 4 slots, and nothing adaptive: a request is
# admitted only while a slot is free (the kernel takes a record per request,
# the reply's end gives it back), so nothing waits in the engine's queue and
# its time to first token stays the unloaded one (~0.04 s) at 3x. The rate
# levels stay as set (twice the capacity): the cap alone does it.
t_inflight() { # [auto]
	local q_max good p99 a b from=1
	if [ "${1:-}" = auto ]; then
		# the engine's slots learnt from its metrics: the cap follows
		# once it was seen full, so the first second's burst queues
		setup engine "max_inflight = auto" "max_inflight_per_client = fair"
		from=6
	else
		setup off "max_inflight = 4" "max_inflight_per_client = fair"
	fi
	sample 16
	overload 14
	wait "$SAMPLER"
	q_max=$(stat 2 max "$from" 15)
	good=$(ig_calc "($(jq_py 'j["total"]["goodput_s"]' "$LA") + $(jq_py 'j["total"]["goodput_s"]' "$LB"))")
	a=$(jq_py 'j["total"]["admitted_s"]' "$LA")
	b=$(jq_py 'j["total"]["admitted_s"]' "$LB")
	p99=$(awk -F, -v f="$from" 'FNR > 1 && $1 >= f && $2 == 200 { print $3 }' "$IG_TMP/a.csv" "$IG_TMP/b.csv" |
		sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] + 0 }')
	echo "samples (t waiting rate state):"
	awk 'NR % 4 == 1' "$IG_TMP/samples"
	grep "adaptive $PORT/tcp" "$IG_TMP/agent.log" | sed -n 1,10p || true
	ig status
	# every record back once the engine is idle: ends seen, nothing leaked
	ig_wait_for 40 "the engine idle" engine_idle
	ig_wait_for 5 "no request in flight" inflight_none
	ig_fcmp "$q_max <= 1" || ig_fail "the engine's queue reached $q_max from $from s (4 in flight at most)"
	ig_fcmp "$p99 < 0.1" || ig_fail "TTFT p99 $p99 s from $from s (unloaded ~0.04 s)"
	ig_fcmp "$good >= $CAP * 0.8" || ig_fail "goodput $good/s (capacity $CAP)"
	# within 15 %: 14 s admit ~70 requests a client, so 7 more for one is
	# 10 % (a CI run measured 4.857/5.357, 10.3 %); `make bench` holds
	# the issue's 10 % over its longer runs (51.4 / 48.6 %)
	ig_fcmp "$a <= $b * 1.15 && $b <= $a * 1.15" || ig_fail "shares $a/s and $b/s (fair)"
	ig_assert_ge "$(jq_py 'j["total"]["statuses"].get("429", 0)' "$LA")" 20 "429s to client a"
	ig_assert_ge "$(ig_json "port($PORT)['refused_by_level']['inflight']")" 20 \
		"refusals at the inflight level"
	ig_assert_eq "$(ig_json "port($PORT)['inflight']['max']")" 4 "the cap"
	if [ "${1:-}" = auto ]; then
		grep -q "adaptive $PORT/tcp: at most 4 requests in flight" "$IG_TMP/agent.log" ||
			ig_fail "no log line of the cap following the engine's 4 slots"
	fi
	echo "measured: max_inflight ${1:-4}, fair, 3x capacity ($CAP/s) for 14 s: engine queue" \
		"max $q_max from $from s, goodput $good/s, admitted a $a/s b $b/s, TTFT p99 $p99 s"
}
t_inflight_auto() { t_inflight auto; }

# /metrics stops answering while the load goes on: the rate holds (frozen)
# after 1 s, the static rate is back after 5 s; answers again: tracking.
t_stale() {
	local before st rate load
	setup engine
	# the generators inside end by themselves (timeout 120, and at once
	# when the namespaces go)
	overload 22 >/dev/null &
	load=$!
	IG_PIDS+=("$load")
	ig_wait_for 10 "the rate to move under load" below_static
	before=$(ad "['rate']")
	admin '{"metrics": "hang"}'
	# a scrape in flight may still land: judge from 2 s on (the hung one
	# times out after 1 s, and the reading before it is older than 1 s)
	sleep 2
	ig_assert_eq "$(ad "['state']")" frozen "state 2 s after /metrics hung"
	rate=$(ad "['rate']")
	sleep 1
	st=$(ad "['state']")
	ig_assert_eq "$st" frozen "state 3 s after /metrics hung"
	ig_fcmp "$(ad "['rate']") == $rate" || ig_fail "frozen rate moved from $rate/s"
	sleep 4
	ig_assert_eq "$(ad "['state']")" static "state 7 s after /metrics hung"
	ig_assert_eq "$(ad "['rate']")" "$STATIC" "the static rate back"
	ig_assert_eq "$(ig_json "port($PORT)['levels']['port_rate']")" "$STATIC" "port_limits' rate"
	admin '{"metrics": "ok"}'
	ig_wait_for 2 "tracking once /metrics answers again" state_is tracking
	wait "$load"
	grep "adaptive $PORT/tcp" "$IG_TMP/agent.log" | sed -n 1,20p
	echo "measured: rate $before/s under load, held at $rate/s while /metrics hung" \
		"2-3 s, $STATIC/s (static) after 7 s, tracking again once it answered"
}

# The agent stops: the static rates go back, no decision is left.
t_stop() {
	setup engine
	overload 6
	ig_fcmp "$(ig_json "port($PORT)['levels']['port_rate']") < $STATIC" ||
		ig_fail "the rate did not move under load"
	kill "$IG_AGENT_PID"
	ig_wait_for 5 "the agent to stop" sh -c "! kill -0 $IG_AGENT_PID 2>/dev/null"
	ig_assert_eq "$(ig_json "port($PORT)['levels']['port_rate']")" "$STATIC" "static port rate"
	ig_assert_eq "$(ig_json "port($PORT)['rate']")" 12 "static per-source rate"
	ig_assert_eq "$(ad "['mode']")" off "no decision left"
}

# A reload that turns adaptive off puts the static rates back at once; one
# that turns it on again starts from the static rate.
t_reload() {
	setup engine
	overload 6
	ig_fcmp "$(ig_json "port($PORT)['levels']['port_rate']") < $STATIC" ||
		ig_fail "the rate did not move under load"
	sed -i '/^adaptive\|^engine_metrics/d' "$IG_TMP/agent.conf"
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "the reload" grep -q "reload: applied" "$IG_TMP/agent.log"
	ig_assert_eq "$(ig_json "port($PORT)['levels']['port_rate']")" "$STATIC" "static port rate"
	ig_assert_eq "$(ig_json "port($PORT)['rate']")" 12 "static per-source rate"
	ig_assert_eq "$(ad "['mode']")" off "no decision left"
	grep -q "adaptive $PORT/tcp: off; static port rate $STATIC/s" "$IG_TMP/agent.log" ||
		ig_fail "no log line of the static rates back"
	printf 'adaptive = engine\nengine_metrics = http://127.0.0.1:%s/metrics\n' "$PORT" \
		>>"$IG_TMP/agent.conf"
	kill -HUP "$IG_AGENT_PID"
	ig_wait_for 5 "tracking again" sh -c "[ \"\$(grep -c 'reload: applied' '$IG_TMP/agent.log')\" = 2 ]"
	ig_wait_for 1 "adaptive again" mode_is engine
	ig_assert_eq "$(ad "['state']")" tracking "tracking again"
}

below_static() { ig_fcmp "$(ad "['rate']") < $STATIC"; }
state_is() { [ "$(ad "['state']")" = "$1" ]; }
mode_is() { [ "$(ad "['mode']")" = "$1" ]; }

# adaptive = latency: the same load; the kernel's TTFT drives the rate.
t_latency() {
	local r_mean q_mean
	setup latency
	sample 16
	overload 14
	wait "$SAMPLER"
	r_mean=$(stat 3 mean 6 15)
	q_mean=$(stat 2 mean 6 15)
	grep "adaptive $PORT/tcp" "$IG_TMP/agent.log" | sed -n 1,12p
	ig_fcmp "$r_mean < $STATIC" || ig_fail "latency: rate $r_mean/s, not under $STATIC/s"
	echo "measured: latency, 3x capacity for 14 s: adaptive rate mean $r_mean/s over 6-15 s," \
		"engine queue mean $q_mean, goodput" \
		"$(ig_calc "$(jq_py 'j["total"]["goodput_s"]' "$LA") + $(jq_py 'j["total"]["goodput_s"]' "$LB")")/s," \
		"TTFT p99 a $(jq_py 'j["total"]["ttft_p99"]' "$LA") s"
}

HOOK=xdp
run_test "$HOOK/adaptive-engine" t_engine
run_test "$HOOK/adaptive-headroom" t_headroom
run_test "$HOOK/adaptive-inflight" t_inflight
run_test "$HOOK/adaptive-inflight-auto" t_inflight_auto
run_test "$HOOK/adaptive-stale" t_stale
run_test "$HOOK/adaptive-stop" t_stop
run_test "$HOOK/adaptive-reload" t_reload
run_test "$HOOK/adaptive-latency" t_latency
