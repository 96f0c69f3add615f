#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The stand-in engine (tests/lib/engine.py) and the open-loop load generator
# (tests/lib/loadgen.py) of issue 15, checked with real clients before
# anything relies on them: the official openai SDK gets its completions,
# streamed and not; under half its capacity the engine's TTFT stays what it
# is unloaded, at three times its capacity the queue and the TTFT grow; its
# /metrics passes promtool and carries vLLM's names; /admin makes it slow and
# makes its /metrics hang. Nothing is attached: the engine alone, in the
# server namespace, the clients in the other.
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119,SC2120
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000
# the engine's defaults: 4 slots, 20 ms prefill, 16 tokens x 20 ms
CAP=11.765

start_engine() { # ARGS...
	ig_make_pair
	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_LIB/engine.py" "$PORT" "$@" \
		>"$IG_TMP/engine.log" 2>&1 &
	IG_PIDS+=("$!")
	ig_wait_for 5 "engine.py on port $PORT" ig_listening -Hltn "$PORT"
	head -n1 "$IG_TMP/engine.log"
}

# POST /admin JSON over the server's loopback
admin() { # JSON
	ig_srv curl -q -s --noproxy '*' -m 5 -d "$1" "http://127.0.0.1:$PORT/admin" ||
		ig_fail "POST /admin $1 failed"
}

# One run of loadgen.py from the client namespace; its JSON summary in LG,
# its CSV in $IG_TMP/NAME.csv.
lg() { # NAME ARGS...
	local name=$1
	shift
	LG=$(ig_cli timeout 120 "$IG_PY" "$IG_LIB/loadgen.py" "http://$S4:$PORT" \
		--out "$IG_TMP/$name.csv" --label "$name" "$@") || ig_fail "loadgen.py $*: $LG"
	echo "loadgen $name $*: $LG"
}

lj() { jq_py "j$1" "$LG"; }

# The openai SDK, streamed and not, its usage as the engine reports it.
t_sdk() {
	sdk_preflight
	start_engine
	sdk --base-url "http://$S4:$PORT/v1" --calls 6 --concurrency 3 --max-tokens 8 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 6 "calls answered, not streamed"
	ig_assert_eq "$(sj '["kinds"]["json"]')" 6 "calls answered with a chat.completion"
	sdk --base-url "http://$S4:$PORT/v1" --calls 6 --concurrency 3 --max-tokens 8 --max-retries 0 \
		--stream
	ig_assert_eq "$(sj '["ok"]')" 6 "calls answered, streamed"
	ig_assert_eq "$(sj '["usage_seen"]')" 6 "streams with a usage chunk"
	# a role chunk, 8 tokens, the finish chunk: 10 chunks a stream
	ig_assert_ge "$(sj '["chunks"]')" 54 "chunks the SDK read"
	ig_assert_eq "$(api 'j["completed"]')" 12 "completions the engine counted"
	ig_assert_eq "$(api 'j["by_peer"]["'"$C4"'"]')" 12 "completions by the client's address"
}

# Unloaded, then at half the capacity: the TTFT p99 stays within 25 ms (or
# 1.5x) of the unloaded one (constant spacing: no request ever waits).
t_light() {
	local p0 p1
	start_engine
	lg unloaded --stream --schedule 2:3 --conns 8
	ig_assert_eq "$(lj '["total"]["statuses"]["200"]')" 6 "unloaded completions"
	p0=$(lj '["total"]["ttft_p99"]')
	ig_fcmp "$p0 >= 0.038 && $p0 < 0.2" || ig_fail "unloaded TTFT p99 $p0 s (prefill + a token: 0.04)"
	lg half --stream --schedule "$(ig_calc "$CAP / 2"):6" --conns 32
	p1=$(lj '["total"]["ttft_p99"]')
	ig_assert_eq "$(lj '["total"]["statuses"].get("200", 0)')" "$(lj '["total"]["n"]')" "all answered at 0.5x"
	ig_fcmp "$p1 <= $p0 * 1.5 || $p1 <= $p0 + 0.025" ||
		ig_fail "TTFT p99 at 0.5x capacity $p1 s against $p0 s unloaded"
	echo "measured: $(head -n1 "$IG_TMP/engine.log"); TTFT p99 unloaded $p0 s" \
		"(p50 $(lj '["total"]["ttft_p50"]') at 0.5x), at 0.5x capacity $p1 s"
}

# Three times the capacity for 5 s with nothing in front: the queue grows
# (sampled from /metrics during the run) and so does the TTFT, to about the
# backlog's drain time; everything is answered in the end.
t_overload() {
	local maxq p99 n
	start_engine
	# nsenter itself, not ig_srv: $! must be the sampler's PID
	nsenter --net="/run/netns/$SRV" "$IG_PY" -c '
import sys, time, urllib.request
end, best = time.time() + 8, 0
while time.time() < end:
    for l in urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().splitlines():
        if l.startswith("vllm:num_requests_waiting{"):
            best = max(best, float(l.split()[-1]))
    time.sleep(0.25)
open(sys.argv[2], "w").write("%d\n" % best)' "http://127.0.0.1:$PORT/metrics" "$IG_TMP/maxq" &
	IG_PIDS+=("$!")
	lg triple --stream --schedule "$(ig_calc "$CAP * 3"):5" --conns 400 --timeout 40
	wait "${IG_PIDS[-1]}"
	maxq=$(cat "$IG_TMP/maxq")
	p99=$(lj '["total"]["ttft_p99"]')
	n=$(lj '["total"]["n"]')
	ig_assert_eq "$(lj '["total"]["statuses"].get("200", 0)')" "$n" "all answered, eventually"
	ig_assert_eq "$(lj '["total"]["statuses"].get("drop", 0)')" 0 "arrivals the client dropped"
	# 5 s at 3x leaves ~2/3 of 176 arrivals queued: ~117 at the end, ~10 s to drain
	ig_assert_ge "$maxq" 80 "the engine's waiting queue at its longest"
	ig_fcmp "$p99 > 6" || ig_fail "TTFT p99 at 3x capacity only $p99 s"
	echo "measured: 3x capacity ($(ig_calc "$CAP * 3") req/s) for 5 s, nothing in front:" \
		"waiting queue up to $maxq, TTFT p50 $(lj '["total"]["ttft_p50"]') s p99 $p99 s"
}

# /metrics: promtool's lint, vLLM's names each with model_name, and the
# histogram agreeing with the completions.
t_metrics() {
	local m name lint
	start_engine
	lg few --schedule 4:2 --conns 8
	m=$(ig_srv curl -q -s --noproxy '*' -m 5 "http://127.0.0.1:$PORT/metrics") || ig_fail "GET /metrics"
	# promtool's lint wants no ':' in names (a convention for recording rules):
	# vLLM's own names have one. Anything else it says is a failure.
	if command -v promtool >/dev/null; then
		lint=$(promtool check metrics <<<"$m" 2>&1 | grep -v "metric names should not contain ':'" || true)
		[ -z "$lint" ] || ig_fail "promtool check metrics: $lint"
	fi
	for name in vllm:num_requests_waiting vllm:num_requests_running vllm:kv_cache_usage_perc \
		vllm:request_success_total vllm:time_to_first_token_seconds; do
		grep -q "^# TYPE $name " <<<"$m" || ig_fail "no # TYPE line for $name"
		grep -q "^# HELP $name " <<<"$m" || ig_fail "no # HELP line for $name"
		grep -Eq "^$name(_bucket|_sum|_count)?\{[^}]*model_name=\"[^\"]+\"" <<<"$m" ||
			ig_fail "no $name sample with a model_name label"
	done
	"$IG_PY" - "$m" <<'PYEOF' || ig_fail "/metrics does not add up"
import re, sys
v = {}
for l in sys.argv[1].splitlines():
    if l and not l.startswith("#"):
        k, x = l.rsplit(" ", 1)
        v[k] = float(x)
def one(prefix):
    (x,) = [x for k, x in v.items() if k.startswith(prefix + "{")]
    return x
assert one("vllm:request_success_total") == 8, v
assert one("vllm:time_to_first_token_seconds_count") == 8
inf = [x for k, x in v.items() if k.startswith("vllm:time_to_first_token_seconds_bucket") and 'le="+Inf"' in k]
assert inf == [8.0], inf
assert one("vllm:num_requests_waiting") == 0 and one("vllm:num_requests_running") == 0
assert 0 <= one("vllm:kv_cache_usage_perc") <= 1
PYEOF
}

# {"delay_ms": 300} adds 300 ms to every prefill; 0 takes it back.
t_delay() {
	local p
	start_engine
	admin '{"delay_ms": 300}'
	ig_assert_eq "$(api 'j["settings"]["delay_ms"]')" 300.0 "delay_ms in /stats"
	lg slow --stream --schedule 2:2 --conns 8
	p=$(lj '["total"]["ttft_p50"]')
	ig_fcmp "$p >= 0.34 && $p < 0.6" || ig_fail "TTFT with delay_ms 300: $p s"
	admin '{"delay_ms": 0}'
	lg fast --stream --schedule 2:2 --conns 8
	ig_fcmp "$(lj '["total"]["ttft_p99"]') < 0.2" || ig_fail "TTFT after delay_ms 0: $(lj '["total"]["ttft_p99"]')"
	echo "measured: TTFT p50 with delay_ms 300: $p s, after delay_ms 0: $(lj '["total"]["ttft_p50"]') s"
}

# {"metrics": "hang"}: a scrape connects and times out, the API still works;
# {"metrics": "ok"} and it answers again.
t_hang() {
	local rc=0 code
	start_engine
	admin '{"metrics": "hang"}' >/dev/null
	ig_cli curl -q -s --noproxy '*' -o /dev/null -m 1 "http://$S4:$PORT/metrics" || rc=$?
	ig_assert_eq "$rc" 28 "curl's exit status scraping a hanging /metrics (28: timeout)"
	code=$(ig_cli curl -q -s --noproxy '*' -o /dev/null -w '%{http_code}' -m 5 \
		-d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}' \
		"http://$S4:$PORT/v1/chat/completions")
	ig_assert_eq "$code" 200 "a completion while /metrics hangs"
	admin '{"metrics": "ok"}' >/dev/null
	code=$(ig_cli curl -q -s --noproxy '*' -o /dev/null -w '%{http_code}' -m 2 "http://$S4:$PORT/metrics")
	ig_assert_eq "$code" 200 "/metrics after {\"metrics\": \"ok\"}"
}

drained() { [ "$(api 'j["waiting"] + j["running"]')" = 0 ]; }

# A client that gives up while its request waits: the engine aborts it
# (vLLM does) and the queue drains without it.
t_abort() {
	start_engine
	lg impatient --schedule 40:2 --conns 100 --timeout 0.5
	ig_assert_ge "$(lj '["total"]["statuses"].get("timeout", 0)')" 30 "requests that timed out"
	ig_wait_for 5 "the queue to drain" drained
	ig_assert_ge "$(api 'j["aborted"]')" 30 "requests the engine aborted"
}

run_test engine/sdk t_sdk
run_test engine/light-load t_light
run_test engine/overload t_overload
run_test engine/metrics t_metrics
run_test engine/admin-delay t_delay
run_test engine/metrics-hang t_hang
run_test engine/client-gone t_abort
