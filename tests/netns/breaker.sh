#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Circuit breakers end to end: the agent (infergate run) in the server
# namespace watching a real HTTP backend that the test switches to 503, to
# hanging, or stops; a real fallback server whose body says "fallback"; real
# curl clients in the other namespace, which always dial the primary's port.
. "$(dirname "$0")/../lib/netns.sh"

PRIMARY=8000 FALLBACK=8001

# A config for this test's interface; extra lines go into [port 8000].
write_config() { # [LINE...]
	{
		printf '[agent]\ninterface = %s\nhook = %s\ntick = 50ms\n\n' "$VS" "$HOOK"
		printf '[port %s]\nfallback = %s\nwindow = 2s\nmin_requests = 5\n' "$PRIMARY" "$FALLBACK"
		printf 'failure_rate = 50%%\nopen_time = 1s\nmax_open_time = 4s\nhalf_open_probes = 2\n'
		printf '%s\n' "$@"
	} >"$IG_TMP/agent.conf"
}

agent_log_has() { grep -q -- "$1" "$IG_TMP/agent.log"; }

# The breaker's effective state, as the CLI shows it.
state() {
	ig breaker "$PRIMARY" --json | "$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)["effective"])'
}

state_is() { [ "$(state)" = "$1" ]; }

# One request to the primary's port from the client: sets REQ_RC (curl exit),
# REQ_CODE (HTTP status) and REQ_BODY (who answered).
request() { # [TIMEOUT [HOST]]
	local out
	REQ_RC=0
	out=$(ig_cli curl -q -s --noproxy '*' --connect-timeout "${1:-2}" -m "${1:-2}" \
		-w '\n%{http_code}' "http://${2:-$S4}:$PRIMARY/") || REQ_RC=$?
	REQ_CODE=${out##*$'\n'}
	REQ_BODY=${out%$'\n'*}
	[ "$REQ_BODY" != "$REQ_CODE" ] || REQ_BODY=
	REQ_BODY=${REQ_BODY%$'\n'}
}

# Send requests until the fallback answers (at most N, T seconds). Counts the
# requests that failed on the way (not a 200 from anyone): FAILED. Sets
# OPEN_AFTER to the seconds from the first failure to the first fallback answer.
until_fallback() { # N T
	local i end t_first=
	FAILED=0 OPEN_AFTER=
	end=$(($(ig_now_us) + $2 * 1000000))
	for ((i = 0; i < $1; i++)); do
		request 1
		if [ "$REQ_BODY" = fallback ] && [ "$REQ_CODE" = 200 ]; then
			OPEN_AFTER=$(ig_calc "$(ig_now) - ${t_first:-$(ig_now)}")
			return 0
		fi
		if [ "$REQ_CODE" != 200 ]; then
			FAILED=$((FAILED + 1))
			[ -n "$t_first" ] || t_first=$(ig_now)
		fi
		[ "$(ig_now_us)" -lt "$end" ] || break
	done
	ig_fail "no fallback answer after $i requests ($FAILED failed); agent log: $(tail -n 5 "$IG_TMP/agent.log")"
}

# A client holding one keep-alive connection: one request now, one more when
# $IG_TMP/go appears; prints the two answers' bodies and statuses.
start_kept_connection() {
	nsenter --net="/run/netns/$CLI" "$IG_PY" -c '
import http.client, os, sys, time
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
def get():
    c.request("GET", "/")
    r = c.getresponse()
    return "%s:%d" % (r.read().decode().strip(), r.status)
first = get()
open(sys.argv[3] + ".ready", "w").close()
end = time.time() + 30
while not os.path.exists(sys.argv[3]) and time.time() < end:
    time.sleep(0.02)
print(first, get())
' "$S4" "$PRIMARY" "$IG_TMP/go" >"$IG_TMP/kept.out" 2>&1 &
	KEPT_PID=$!
	IG_PIDS+=($KEPT_PID)
	ig_wait_for 5 "the kept connection's first answer" test -e "$IG_TMP/go.ready"
}

# Healthy -> the primary; 503s -> open within the window, the fallback answers
# on the dialed port, a connection opened before stays with the primary;
# healed -> half-open -> closed, the primary answers again.
t_503_opens_and_recovers() {
	local i kept
	ig_make_pair
	ig_start_backend primary $PRIMARY
	ig_start_backend fallback $FALLBACK
	write_config "consecutive_failures = 0"   # passive counters only
	ig_start_agent

	for i in 1 2 3; do
		request
		ig_assert_eq "$REQ_BODY:$REQ_CODE" "primary:200" "healthy request $i"
	done
	start_kept_connection

	ig_set_mode $PRIMARY 503
	until_fallback 200 20
	echo "measured: 503 -> open after ${OPEN_AFTER}s, $FAILED failed requests"
	# 4 good answers in the window (3 requests, the kept connection's): 50 %
	# needs 4 failures, and the agent reads the counters every 50 ms
	ig_assert_range "$FAILED" 4 20 "requests failed before the breaker opened"
	agent_log_has "closed -> open: failure rate" || ig_fail "no transition logged: $(cat "$IG_TMP/agent.log")"
	ig_assert_eq "$(state)" open "breaker state"
	for i in 1 2 3; do
		request
		ig_assert_eq "$REQ_BODY:$REQ_CODE" "fallback:200" "request $i while open"
	done
	ig_assert_ge "$(ig_json 'j["breakers"][0]["health"]["to_fallback"]')" 4 "connections steered"

	# the connection from before the failure still talks to the primary
	touch "$IG_TMP/go"
	wait "$KEPT_PID" || true
	kept=$(cat "$IG_TMP/kept.out")
	ig_assert_eq "$kept" "primary:200 primary:503" "the kept connection's two answers"

	# heal: the open period (1 s) ends, probes (client connections) close it
	ig_set_mode $PRIMARY ok
	local end=$(($(ig_now_us) + 15000000))
	until state_is closed; do
		request
		[ "$(ig_now_us)" -lt "$end" ] || ig_fail "breaker never closed: $(tail -n 5 "$IG_TMP/agent.log")"
	done
	agent_log_has "open -> half_open" || ig_fail "no half-open logged"
	agent_log_has "half_open -> closed" || ig_fail "no close logged"
	for i in 1 2 3; do
		request
		ig_assert_eq "$REQ_BODY:$REQ_CODE" "primary:200" "request $i after recovery"
	done
	cat "$IG_TMP/agent.log"
}

# The primary stops listening: its RSTs and the failed TCP probes open the
# breaker; the fallback answers.
t_stopped_listener_opens() {
	ig_make_pair
	ig_start_backend primary $PRIMARY
	ig_start_backend fallback $FALLBACK
	write_config "health_tcp = 127.0.0.1:$PRIMARY" "probe_interval = 200ms" "probe_timeout = 200ms" \
		"consecutive_failures = 3"
	ig_start_agent
	request
	ig_assert_eq "$REQ_BODY:$REQ_CODE" "primary:200" "healthy"

	kill "$IG_BACKEND_PID_8000"
	wait "$IG_BACKEND_PID_8000" 2>/dev/null || true
	until_fallback 400 20
	echo "measured: stopped listener -> open after ${OPEN_AFTER}s, $FAILED failed requests"
	ig_assert_eq "$(state)" open "breaker state"
	ig_assert_ge "$(ig_json 'j["breakers"][0]["health"]["rst"]')" 1 "RSTs counted from the primary"
	grep "closed -> open" "$IG_TMP/agent.log"
}

# The primary hangs: no answer, no RST, only the active probe can tell.
t_hanging_backend_opens_on_probes() {
	ig_make_pair
	ig_start_backend primary $PRIMARY
	ig_start_backend fallback $FALLBACK
	write_config "health_url = http://127.0.0.1:$PRIMARY/health" "probe_interval = 200ms" \
		"probe_timeout = 200ms" "consecutive_failures = 3"
	ig_start_agent
	local t0
	t0=$(ig_now)
	ig_set_mode $PRIMARY hang
	ig_wait_for 10 "the breaker to open on probe timeouts" state_is open
	echo "measured: hang -> open after $(ig_calc "$(ig_now) - $t0")s (3 probes, 200 ms apart, 200 ms timeout)"
	agent_log_has "3 consecutive failed probes" || ig_fail "reason not logged: $(cat "$IG_TMP/agent.log")"
	request
	ig_assert_eq "$REQ_BODY:$REQ_CODE" "fallback:200" "served by the fallback"
}

# Open without a fallback: new connections are refused at once (RST), never
# left to time out; the primary sees none of them.
t_no_fallback_refuses() {
	ig_make_pair
	ig_start_backend primary $PRIMARY
	ig_attach
	ig breaker $PRIMARY open
	ig_curl_run 5 "http://$S4:$PRIMARY/" 2
	echo "$(ig_curl_summary)"
	ig_assert_eq "$CURL_REFUSED" 5 "refused connections"
	ig_fcmp "$CURL_MAX_REFUSED < 0.25" || ig_fail "a refusal took ${CURL_MAX_REFUSED}s"
	ig_assert_eq "$(ig_json 'j["breakers"][0]["health"]["refused"]')" 5 "counted as refused"
	ig breaker $PRIMARY closed
	request
	ig_assert_eq "$REQ_BODY:$REQ_CODE" "primary:200" "forced closed: the primary"
}

# Forced states hold against the agent, from the CLI and from bpftool.
t_forced_states() {
	local key
	ig_make_pair
	ig_start_backend primary $PRIMARY
	ig_start_backend fallback $FALLBACK
	write_config "consecutive_failures = 0"
	ig_start_agent

	ig breaker $PRIMARY open
	request
	ig_assert_eq "$REQ_BODY" fallback "forced open by the CLI, backend healthy"
	request 2 "[$S6]"
	ig_assert_eq "$REQ_BODY:$REQ_CODE" "fallback:200" "over IPv6 too"
	ig_wait_for 5 "the agent to notice" agent_log_has "forced open by an operator"
	ig breaker $PRIMARY auto
	request
	ig_assert_eq "$REQ_BODY" primary "back to auto: closed"
	request 2 "[$S6]"
	ig_assert_eq "$REQ_BODY:$REQ_CODE" "primary:200" "back to auto, IPv6"

	# bpftool: struct ig_breaker {state, force, fallback, flags, probes}
	key=$(ig_hex_le $PRIMARY 4)
	# shellcheck disable=SC2046
	ig_srv bpftool map update pinned "$PIN/breakers" key hex $key value hex \
		$(ig_hex_le 0 4) $(ig_hex_le 1 4) $(ig_hex_le $FALLBACK 2) $(ig_hex_le 1 2) $(ig_hex_le 0 4)
	request
	ig_assert_eq "$REQ_BODY" fallback "forced open by bpftool"
	# whole output first: grep -q closing the pipe early fails it under pipefail
	ig_srv bpftool map lookup pinned "$PIN/breakers" key hex $key >"$IG_TMP/lookup.out"
	grep -q '"force": "IG_FORCE_OPEN"' "$IG_TMP/lookup.out" ||
		ig_fail "bpftool does not show the named force: $(cat "$IG_TMP/lookup.out")"
	# forced closed holds while the backend fails
	ig breaker $PRIMARY closed
	ig_set_mode $PRIMARY 503
	for i in $(seq 1 15); do request; done
	ig_assert_eq "$REQ_BODY:$REQ_CODE" "primary:503" "forced closed holds through failures"
	ig_assert_eq "$(state)" closed "state while forced closed"
}

# SIGKILL the agent while open: the data path keeps steering; the restarted
# agent adopts the breaker, flows and buckets as they are.
t_agent_sigkill_and_restart() {
	local flows_before flows_after sources_before
	ig_make_pair
	ig_start_backend primary $PRIMARY
	ig_start_backend fallback $FALLBACK
	write_config "consecutive_failures = 0" "open_time = 30s" "max_open_time = 60s" \
		"rate = 100/s" "burst = 1000"
	ig_start_agent
	ig_set_mode $PRIMARY 503
	until_fallback 200 20
	start_kept_connection   # steered to the fallback
	sources_before=$(ig_json 'j["tracked_sources"]')
	flows_before=$(ig_srv bpftool map dump pinned "$PIN/flows" | grep -c '"dialed"')

	kill -KILL "$IG_AGENT_PID"
	wait "$IG_AGENT_PID" 2>/dev/null || true
	request
	ig_assert_eq "$REQ_BODY" fallback "steered with the agent dead"
	ig_assert_eq "$(state)" open "state with the agent dead"

	ig_start_agent
	agent_log_has "breaker $PRIMARY/tcp: open" || ig_fail "restarted agent did not adopt: $(cat "$IG_TMP/agent.log")"
	ig_assert_eq "$(state)" open "state after the restart"
	flows_after=$(ig_srv bpftool map dump pinned "$PIN/flows" | grep -c '"dialed"')
	ig_assert_ge "$flows_after" "$flows_before" "flows kept"
	ig_assert_eq "$(ig_json 'j["flow_entries"]')" "$flows_after" "flow entries in status = bpftool's"
	ig_assert_ge "$(ig_json 'j["tracked_sources"]')" "$sources_before" "buckets kept"
	touch "$IG_TMP/go"
	wait "$KEPT_PID" || true
	ig_assert_eq "$(cat "$IG_TMP/kept.out")" "fallback:200 fallback:200" \
		"a steered connection across the restart"
}

# A broken config: refused with its line, nothing attached or applied.
t_broken_config_rejected() {
	local out rc=0
	ig_make_pair
	write_config "rate = 10/s" "burst = lots"
	out=$(nsenter --net="/run/netns/$SRV" "$IG_BIN" --pin-dir "$PIN" run --config "$IG_TMP/agent.conf" 2>&1) || rc=$?
	echo "$out"
	ig_assert_eq "$rc" 1 "exit code"
	grep -q "agent.conf:15: invalid burst 'lots'" <<<"$out" || ig_fail "no file:line in: $out"
	grep -q "nothing applied" <<<"$out" || ig_fail "does not say nothing was applied"
	[ ! -e "$PIN" ] || ig_fail "the broken config created $PIN"
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 0 "programs attached"
}

for HOOK in xdp tc; do
	run_test "$HOOK/breaker-503-opens-and-recovers" t_503_opens_and_recovers
done
HOOK=xdp
run_test breaker-stopped-listener-opens t_stopped_listener_opens
run_test breaker-hanging-backend-opens-on-probes t_hanging_backend_opens_on_probes
run_test breaker-no-fallback-refuses t_no_fallback_refuses
run_test breaker-forced-states t_forced_states
run_test breaker-agent-sigkill-and-restart t_agent_sigkill_and_restart
run_test breaker-broken-config-rejected t_broken_config_rejected
