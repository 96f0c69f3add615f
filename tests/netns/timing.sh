#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ig-run: alone
# Response times measured in the kernel (issue 15), end to end: the official
# openai SDK against the stand-in engine (tests/lib/openai_server.py) made to
# take a known time to its first token (--first-ms: a stream's head at once,
# its first event that much later) and between tokens (--token-ms). The
# histograms are read from `status --json` and from the agent's /metrics; the
# slow-call breaker is driven by a backend that turns slow; a client that
# reads slowly must not pass for a slow backend.
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000
METRICS=127.0.0.1:9464

# Namespaces and the engine (with ARGS); attached by hand or by the agent.
backend() { # BACKEND_ARGS...
	req_preflight
	sdk_preflight
	ig_make_pair
	start_backend openai_server.py api "$@"
}
setup() { # BACKEND_ARGS...
	backend "$@"
	ig_attach
}

tm() { ig_json "port($PORT)['timing']$1"; }

# Six calls not streamed and six streams of 20 tokens, 300 ms to the first
# token and 20 ms between tokens: every first token in (256, 512] ms (a
# stream's head, sent at once, is not its first token), the streams' ends in
# (512, 1024]. Nothing else in the histograms.
t_times() { # 4|6
	local url
	setup --first-ms 300 --token-ms 20
	ig limit "$PORT/tcp" --rate 1000/s --burst 1000 --unit request --action reject >/dev/null
	ig_assert_eq "$(ig_json "port($PORT)['timed']")" True "a request port is timed"
	if [ "$1" = 4 ]; then url="http://$S4:$PORT/v1"; else url="http://[$S6]:$PORT/v1"; fi
	sdk --base-url "$url" --calls 6 --concurrency 2 --max-tokens 5 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 6 "calls answered"
	sdk --base-url "$url" --calls 6 --concurrency 2 --max-tokens 20 --stream --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 6 "streams answered"
	ig_assert_eq "$(tm "['time_to_first_token']['count']")" 12 "first tokens timed"
	ig_assert_eq "$(tm "['time_to_first_token']['buckets_ms']['512']")" 12 \
		"first tokens in (256, 512] ms"
	ig_assert_eq "$(tm "['request_duration']['count']")" 12 "calls timed to their end"
	ig_assert_eq "$(tm "['request_duration']['buckets_ms']['512']")" 6 \
		"calls not streamed ended in (256, 512] ms"
	ig_assert_eq "$(tm "['request_duration']['buckets_ms']['1024']")" 6 \
		"streams ended in (512, 1024] ms"
	echo "measured: IPv$1, 300 ms to the first token, 20 tokens 20 ms apart: first token" \
		"p50 $(tm "['time_to_first_token']['p50_seconds']") s, mean" \
		"$(ig_calc "$(tm "['time_to_first_token']['sum_seconds']") / 12") s (0.3 expected);" \
		"mean duration $(ig_calc "$(tm "['request_duration']['sum_seconds']") / 12") s" \
		"(6 calls of ~0.30 s and 6 streams of ~0.68 s: ~0.49 expected)"
}

# A port that follows no requests (unit conn) is not timed: no reading, no
# histogram.
t_untimed() {
	setup --first-ms 50
	ig limit "$PORT/tcp" --rate 1000/s --burst 1000 --action reject >/dev/null
	ig_assert_eq "$(ig_json "port($PORT)['timed']")" False "a conn port is not timed"
	sdk --base-url "http://$S4:$PORT/v1" --calls 4 --concurrency 2 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 4 "calls answered"
	ig_assert_eq "$(tm "['time_to_first_token']['count']")" 0 "nothing timed"
}

scrape() { ig_srv curl -q -s --noproxy '*' -m 5 "http://$METRICS/metrics"; }
metric() { # FILE SERIES
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' "$1"
}

# The agent's /metrics: Prometheus histograms that promtool accepts, their
# counts those of status, cumulative buckets.
t_metrics() {
	command -v promtool >/dev/null || ig_skip "promtool not installed (Debian package prometheus)"
	backend --first-ms 100
	cat >"$IG_TMP/agent.conf" <<-CONF
	[agent]
	interface = $VS
	tick = 50ms
	metrics = $METRICS
	[port $PORT]
	rate = 1000/s
	burst = 1000
	unit = request
	action = reject
	CONF
	ig_start_agent
	sdk --base-url "http://$S4:$PORT/v1" --calls 5 --concurrency 1 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 5 "calls answered"
	scrape >"$IG_TMP/metrics.txt"
	promtool check metrics <"$IG_TMP/metrics.txt" || ig_fail "promtool check metrics failed"
	local l='port="8000",proto="tcp"'
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" "infergate_time_to_first_token_seconds_count{$l}")" 5 \
		"first tokens in /metrics"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" "infergate_time_to_first_token_seconds_bucket{$l,le=\"0.064\"}")" 0 \
		"none at or under 64 ms"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" "infergate_time_to_first_token_seconds_bucket{$l,le=\"0.128\"}")" 5 \
		"all at or under 128 ms (cumulative)"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" "infergate_request_duration_seconds_bucket{$l,le=\"+Inf\"}")" 5 \
		"durations, +Inf"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" "infergate_request_duration_seconds_count{$l}")" \
		"$(tm "['request_duration']['count']")" "metrics and status agree"
	ig top --metrics "$METRICS" >"$IG_TMP/top.txt" || ig_fail "top failed"
	grep -q "^8000/tcp times: first token p50 [0-9]* ms p99 [0-9]* ms.* 5 calls, 0 slow" \
		"$IG_TMP/top.txt" || ig_fail "top shows no times: $(cat "$IG_TMP/top.txt")"
}

# The agent's config: $PORT a request port whose breaker (fallback 8001)
# trips at 50 % of calls of 1 s or more, over WINDOW, from 4 calls.
slow_conf() { # WINDOW
	cat >"$IG_TMP/agent.conf" <<-CONF
	[agent]
	interface = $VS
	tick = 50ms
	[port $PORT]
	rate = 1000/s
	burst = 1000
	unit = request
	action = reject
	fallback = 8001
	slow_call_duration = 1s
	slow_call_rate = 50
	window = $1
	min_requests = 4
	failure_rate = 100
	CONF
}

state() { ig breaker "$PORT" --json | "$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)["effective"])'; }

# Resilience4j's slow-call rule, end to end: a backend that answered in 50 ms
# starts answering in 3 s; a breaker set at 1 s / 50 % (window 5 s, 4 calls
# at least) opens within one window of the first slow call's end (a call is
# known to be slow when it ends: 3 s after the change at the soonest), and
# new calls go to the fallback.
t_slow_breaker() {
	local t0 opened pid
	backend --delay-ms 50
	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_LIB/openai_server.py" 8001 \
		>"$IG_TMP/fallback.log" 2>&1 &
	IG_PIDS+=("$!")
	ig_wait_for 5 "the fallback on 8001" ig_listening -Hltn 8001
	slow_conf 5s
	ig_start_agent
	sdk --base-url "http://$S4:$PORT/v1" --calls 10 --concurrency 2 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 10 "fast calls answered"
	ig_assert_eq "$(state)" closed "closed while the backend is fast"
	ig_srv curl -q -s --noproxy '*' -m 5 -d '{"delay_ms": 3000}' "http://127.0.0.1:$PORT/admin" \
		>/dev/null || ig_fail "POST /admin"
	t0=$(ig_now_us)
	# the slow calls in the background: the breaker is watched as they end
	ig_cli node "$IG_LIB/sdk_client.mjs" --base-url "http://$S4:$PORT/v1" --calls 4 \
		--concurrency 4 --max-retries 0 --timeout-ms 10000 >"$IG_TMP/slow.json" &
	pid=$!
	IG_PIDS+=("$pid")
	ig_wait_for 8 "the breaker to open" is_open
	opened=$(( ($(ig_now_us) - t0) / 1000 ))
	wait "$pid" || ig_fail "the slow calls failed: $(cat "$IG_TMP/slow.json")"
	ig_assert_eq "$(jq_py 'j["ok"]' "$(cat "$IG_TMP/slow.json")")" 4 "slow calls answered"
	grep -q "slow-call rate" "$IG_TMP/agent.log" || ig_fail "no slow-call reason in the log"
	ig_assert_eq "$(tm "['slow_calls']")" 4 "slow calls counted by the kernel"
	[ "$opened" -le 8000 ] || ig_fail "opened $opened ms after the change (3 s calls, window 5 s)"
	# new connections go to the fallback: its /stats counts them
	sdk --base-url "http://$S4:$PORT/v1" --calls 3 --concurrency 1 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 3 "calls while open"
	ig_assert_eq "$(ig_srv curl -q -s --noproxy '*' -m 5 http://127.0.0.1:8001/stats |
		"$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" 3 \
		"calls the fallback answered"
	echo "measured: backend 50 ms -> 3 s; breaker 1 s / 50 % / 4 calls opened $opened ms" \
		"after the change ($(grep -o 'slow-call rate[^;]*' "$IG_TMP/agent.log" | head -1))"
}
is_open() { [ "$(state)" = open ]; }

# An attacker who reads slowly: a receive buffer of 4 KiB and 16 KiB read
# every 100 ms of a 100 KB stream makes each of its calls last seconds. Its
# client window held the server back, so none is a slow call: with the
# breaker of t_slow_breaker, it never opens. The same calls read at once are
# short (the positive control of the measure).
t_slow_reader() {
	local d
	backend
	slow_conf 10s
	ig_start_agent
	ig_cli "$IG_PY" - "$S4" "$PORT" <<'PYEOF' || ig_fail "slow reader failed"
import socket, sys, time
body = b'{"model":"m","stream":true,"max_tokens":400,"messages":[{"role":"user","content":"hi"}]}'
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
def call(slow):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(req)
    got, t0 = b"", time.time()
    while not got.endswith(b"0\r\n\r\n"):
        d = s.recv(16384)
        if not d:
            break
        got += d
        if slow:
            time.sleep(0.1)
    s.close()
    return time.time() - t0, len(got)
for slow in (0, 0, 1, 1, 1, 1, 1):
    t, n = call(slow)
    print("call slow=%d: %d bytes in %.2f s" % (slow, n, t))
    if slow and t < 1.2:
        sys.exit("a slow read took only %.2f s" % t)
PYEOF
	d=$(tm "['request_duration']['count']")
	ig_assert_eq "$d" 7 "calls timed"
	ig_assert_ge "$(ig_calc "$(tm "['request_duration']['p99_seconds']") * 1000" | cut -d. -f1)" 1024 \
		"the slow reads' durations (p99) are seconds long"
	ig_assert_eq "$(tm "['slow_calls']")" 0 "slow calls (all held back by the client)"
	ig_assert_eq "$(state)" closed "the breaker stays closed"
}

t_times4() { t_times 4; }
t_times6() { t_times 6; }

# IPv4 on XDP, IPv6 on TC: the egress reading is the same behind either hook
HOOK=xdp
run_test "$HOOK/times4" t_times4
HOOK=tc
run_test "$HOOK/times6" t_times6
run_test "$HOOK/times-untimed" t_untimed
run_test "$HOOK/times-metrics" t_metrics
HOOK=xdp
run_test "$HOOK/slow-breaker" t_slow_breaker
run_test "$HOOK/slow-reader" t_slow_reader
