#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Per-request limits (--unit request) end to end, with real HTTP clients on
# keep-alive connections: curl, python's http.client and the official openai
# SDK (tests/lib/sdk_client.mjs) against a stand-in OpenAI-compatible server
# (tests/lib/openai_server.py), whose /stats says what really reached it.
#
# What the data path must do: one token per HTTP request per client address;
# over the limit with reject, answer on the same connection with a 429
# (Retry-After in whole seconds rounded up, retry-after-ms, an OpenAI-shaped
# JSON error body, Connection: close, then FIN) that the backend never sees,
# and reset the backend's side within a round trip; with drop, drop the
# request's segment, which the client's TCP retransmits: a delay.
# Expected counts come from the time each run measurably took: burst +
# rate * elapsed, give or take one. Skips until the CLI knows the unit.
#
# Per-test state lives in run_test's subshell (see netns.sh); ig_attach takes
# no arguments here:
# shellcheck disable=SC2031,SC2119
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# req_preflight, jq_py, assert_no_leftovers (a refused request's backend side is
# reset within a round trip: no socket may be left, polled 2 s)
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000
REQ_JSON='{"model":"infergate-test","messages":[{"role":"user","content":"hello"}]}'

# Namespaces, the stand-in API on $PORT, infergate on $HOOK with the limit
# given (ARGS after the port), and a second client address on the client's
# veth ($C4B, $C6B) whose bucket must stay its own. Clients use the second
# address only when they bind to it: a secondary IPv4 address is never a
# default source, and the IPv6 one is added deprecated (preferred_lft 0).
setup() { # LIMIT ARGS...
	local out
	req_preflight
	ig_make_pair
	C4B=${C4%.*}.3 C6B=fd00::3
	ig_cli ip addr add "$C4B/24" dev "$VC"
	ig_cli ip -6 addr add "$C6B/64" dev "$VC" nodad preferred_lft 0
	ig_wait_for 5 "$C6B usable" ig_link_usable "$CLI" "$VC" "$C6B"
	write_tool
	start_backend openai_server.py api
	ig_attach
	if ! out=$(ig limit "$PORT/tcp" "$@" 2>&1); then
		grep -q "unit 'request'" <<<"$out" && ig_skip "the CLI refuses --unit request: $out"
		ig_fail "ig limit $PORT/tcp $*: $out"
	fi
}

# infergate's own counters for the port, for the log (names not asserted).
status_note() {
	echo "status reasons: $( (ig_json 'port('"$PORT"')["reasons"]') 2>&1 || true)"
}

# The test-side helper, written once per test: checks of 429 answers, a
# keep-alive http.client client, a /stats poller. One JSON line out each.
write_tool() {
	cat >"$IG_TMP/tool.py" <<'EOF'
import http.client, json, math, os, sys, threading, time

def check_429(r, rate, problems):
    """r: status ra ram ct body. The kernel's answer, as specified."""
    where = "request %s" % r.get("i")
    try:
        s, ms = int(r.get("ra") or ""), int(r.get("ram") or "")
    except ValueError:
        problems.append("%s: Retry-After %r retry-after-ms %r" % (where, r.get("ra"), r.get("ram")))
        return
    if s < 1 or ms < 0 or not (s * 1000 >= ms > (s - 1) * 1000 - 1):
        problems.append("%s: Retry-After %d is not retry-after-ms %d rounded up" % (where, s, ms))
    if ms > 1000.0 / rate + 50:
        problems.append("%s: retry-after-ms %d at %g/s" % (where, ms, rate))
    if not (r.get("ct") or "").startswith("application/json"):
        problems.append("%s: Content-Type %r" % (where, r.get("ct")))
    try:
        err = json.loads(r.get("body") or b"")["error"]
        if err.get("type") != "rate_limit_exceeded":
            problems.append("%s: error type %r" % (where, err.get("type")))
    except (ValueError, KeyError, TypeError, AttributeError):
        problems.append("%s: body %r" % (where, (r.get("body") or b"")[:100]))

def summary(rs, rate, **extra):
    ok = sum(1 for r in rs if r["status"] == 200)
    refused = [r for r in rs if r["status"] == 429]
    problems = []
    for r in refused:
        check_429(r, rate, problems)
    out = {"n": len(rs), "ok": ok, "r429": len(refused), "other": len(rs) - ok - len(refused),
           "others": [r for r in rs if r["status"] not in (200, 429)][:5],
           "problems": problems[:5]}
    out.update(extra)
    return json.dumps(out, default=str)

def curl_report(outfile, bodies, rate):
    """curl -w 'code|connects|retry-after|retry-after-ms|content-type' lines."""
    rs, connects, want = [], 0, 1
    lines = open(outfile).read().splitlines()
    for i, line in enumerate(lines):
        code, conn, ra, ram, ct = (line.split("|") + [""] * 5)[:5]
        try:
            body = open("%s.%d" % (bodies, i), "rb").read()
        except OSError:
            body = b""
        rs.append({"i": i, "status": int(code or 0), "ra": ra, "ram": ram, "ct": ct, "body": body})
        connects += int(conn or 0)
        # a 429 closes the connection: the next request opens a new one
        if code == "429" and i < len(lines) - 1:
            want += 1
    print(summary(rs, rate, connects=connects, connects_expected=want))

def keepalive(host, port, n, threads, source, rate, timeout, outfile):
    """THREADS clients, each N POSTs on one keep-alive connection (reopened
    after a Connection: close), back to back."""
    body = os.environ["REQ_JSON"]
    rs, lock, conns = [], threading.Lock(), [0]
    def client(t):
        c = http.client.HTTPConnection(host, port, timeout=timeout,
                                       source_address=(source, 0) if source else None)
        for i in range(n):
            r = {"i": "%d.%d" % (t, i), "status": 0}
            if c.sock is None:
                with lock:
                    conns[0] += 1
            t0 = time.time()
            try:
                c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
                resp = c.getresponse()
                r.update(status=resp.status, ra=resp.getheader("Retry-After"),
                         ram=resp.getheader("retry-after-ms"), ct=resp.getheader("Content-Type"),
                         body=resp.read())
            except (OSError, http.client.HTTPException) as e:
                r["error"] = repr(e)
                c.close()
            r["lat"] = time.time() - t0
            with lock:
                rs.append(r)
        c.close()
    t0 = time.time()
    ts = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dur = time.time() - t0
    lat = [r["lat"] for r in rs if r["status"] == 200]
    # renamed into place: the poller takes the file's appearance as the end
    with open(outfile + ".tmp", "w") as f:
        f.write(summary(rs, rate, dur=dur, connects=conns[0], lat_max=max(lat, default=0),
                        lat_min=min(lat, default=0)) + "\n")
    os.replace(outfile + ".tmp", outfile)

def poll(port, t0, burst, rate, donefile, limit_s):
    """/stats until DONEFILE appears: the backend must never have seen more
    than burst + rate * (now - t0) + 1 requests."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    samples, bad, seen, end = 0, [], 0, time.time() + limit_s
    while True:
        done = os.path.exists(donefile)
        c.request("GET", "/stats")
        seen = json.loads(c.getresponse().read())["requests"]
        now = time.time()
        samples += 1
        allowed = burst + rate * (now - t0) + 1
        if seen > allowed and len(bad) < 5:
            bad.append("%d seen at +%.3fs (allowed %.2f)" % (seen, now - t0, allowed))
        if done or now > end:
            break
        time.sleep(0.02)
    print(json.dumps({"samples": samples, "violations": bad, "final": seen, "done": done}))

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "curl-report":
    curl_report(a[0], a[1], float(a[2]))
elif cmd == "keepalive":
    keepalive(a[0], int(a[1]), int(a[2]), int(a[3]), a[4], float(a[5]), float(a[6]), a[7])
elif cmd == "poll":
    poll(int(a[0]), float(a[1]), float(a[2]), float(a[3]), a[4], float(a[5]))
EOF
}

tool() { "$IG_PY" "$IG_TMP/tool.py" "$@"; }

# seconds for the measured: lines
secs() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }

# N POSTs from one curl process over HTTP/1.1 keep-alive, from the client
# address SRC. Sets CK (the report: n ok r429 other connects ... problems)
# and CK_DUR (s, around the whole curl run).
curl_keepalive() { # URL N SRC RATE
	local url=$1 n=$2 src=$3 rate=$4 i args=() t0 out=$IG_TMP/curl.$RANDOM
	for ((i = 0; i < n; i++)); do
		args+=(-o "$out.body.$i" "$url")
	done
	t0=$(ig_now)
	# curl's exit status is the last transfer's: the report sees every one
	ig_cli curl -q -s --noproxy '*' --http1.1 --interface "$src" --connect-timeout 2 -m 10 \
		-H 'Content-Type: application/json' -d "$REQ_JSON" \
		-w '%{http_code}|%{num_connects}|%header{retry-after}|%header{retry-after-ms}|%{content_type}\n' \
		"${args[@]}" >"$out" || true
	CK_DUR=$(ig_calc "$(ig_now) - $t0")
	CK=$(tool curl-report "$out" "$out.body" "$rate")
}

ck() { jq_py "j[\"$1\"]" "$CK"; }

# Burst 5 at 1/s, 20 requests on keep-alive: burst + what refilled get
# through, the rest get the kernel's 429 on the same connection, and the
# backend counts only the admitted. A second address keeps its own bucket.
t_curl() { # FAMILY
	local host src src2 lo hi ok n429 seen conns
	setup --rate 1/s --burst 5 --unit request --action reject
	if [ "$1" = 6 ]; then host="[$S6]" src=$C6 src2=$C6B; else host=$S4 src=$C4 src2=$C4B; fi

	curl_keepalive "http://$host:$PORT/v1/chat/completions" 20 "$src" 1
	echo "client 1: $CK dur=${CK_DUR}s"
	read -r lo hi <<<"$(ig_expect_window 5 1 "$CK_DUR")"
	ok=$(ck ok) n429=$(ck r429)
	ig_assert_range "$ok" "$lo" "$hi" "requests admitted in ${CK_DUR}s"
	ig_assert_eq "$((ok + n429))" 20 "requests either admitted or answered 429"
	ig_assert_eq "$(ck problems)" "[]" "the 429 answers (headers, body)"
	# admitted requests reused the connection: one per 429 that closed one
	conns=$(ck connects)
	ig_assert_eq "$conns" "$(ck connects_expected)" "connections curl opened"
	seen=$(api "j['by_peer'].get('$src', 0)")
	ig_assert_eq "$seen" "$ok" "requests the backend saw from $src"

	curl_keepalive "http://$host:$PORT/v1/chat/completions" 5 "$src2" 1
	echo "client 2: $CK dur=${CK_DUR}s"
	ig_assert_eq "$(ck ok)" 5 "requests admitted from a second address (its own burst)"
	ig_assert_eq "$(api "j['by_peer'].get('$src2', 0)")" 5 "requests the backend saw from $src2"
	ig_assert_eq "$(api 'j["requests"]')" "$((ok + 5))" "requests the backend saw in all"
	status_note
	assert_no_leftovers
	echo "measured: curl IPv$1 keep-alive, 1/s burst 5: $ok of 20 admitted in $(secs "$CK_DUR")s" \
		"(window $lo..$hi), $n429 answered 429, $conns connections; backend saw $seen"
}

# python's http.client on one keep-alive connection (reopened after each
# 429's Connection: close), same checks.
t_python() { # FAMILY
	local host src src2 lo hi ok n429 dur conns out=$IG_TMP/py.out
	setup --rate 1/s --burst 5 --unit request --action reject
	if [ "$1" = 6 ]; then host=$S6 src=$C6 src2=$C6B; else host=$S4 src=$C4 src2=$C4B; fi

	REQ_JSON=$REQ_JSON ig_cli "$IG_PY" "$IG_TMP/tool.py" keepalive "$host" "$PORT" 20 1 "$src" 1 5 "$out"
	CK=$(cat "$out")
	echo "client 1: $CK"
	dur=$(ck dur) ok=$(ck ok) n429=$(ck r429)
	read -r lo hi <<<"$(ig_expect_window 5 1 "$dur")"
	ig_assert_range "$ok" "$lo" "$hi" "requests admitted in ${dur}s"
	ig_assert_eq "$((ok + n429))" 20 "requests either admitted or answered 429"
	ig_assert_eq "$(ck problems)" "[]" "the 429 answers (headers, body)"
	conns=$(ck connects)
	ig_assert_range "$conns" 1 "$((n429 + 1))" "connections http.client opened"
	ig_assert_eq "$(api "j['by_peer'].get('$src', 0)")" "$ok" "requests the backend saw from $src"

	REQ_JSON=$REQ_JSON ig_cli "$IG_PY" "$IG_TMP/tool.py" keepalive "$host" "$PORT" 5 1 "$src2" 1 5 "$out"
	CK=$(cat "$out")
	echo "client 2: $CK"
	ig_assert_eq "$(ck ok)" 5 "requests admitted from a second address (its own burst)"
	ig_assert_eq "$(api "j['by_peer'].get('$src2', 0)")" 5 "requests the backend saw from $src2"
	ig_assert_eq "$(api 'j["requests"]')" "$((ok + 5))" "requests the backend saw in all"
	status_note
	assert_no_leftovers
	echo "measured: http.client IPv$1 keep-alive, 1/s burst 5: $ok of 20 admitted in" \
		"$(secs "$dur")s (window $lo..$hi), $n429 answered 429, $conns connections"
}


# The SDK without retries, 4 concurrent calls back to back for 3 s, far
# above 1/s burst 5: the admitted fit the bucket, every refusal is a
# RateLimitError (the 429 reached the SDK whole), none a connection error.
t_sdk_burst() {
	local lo hi dur ok calls
	sdk_preflight
	setup --rate 1/s --burst 5 --unit request --action reject
	sdk --base-url "http://$S4:$PORT/v1" --duration 3 --concurrency 4 --max-retries 0
	ok=$(sj '["ok"]') calls=$(sj '["calls"]')
	dur=$(jq_py '(j["last_attempt_ms"] - j["first_attempt_ms"]) / 1000' "$SDK")
	read -r lo hi <<<"$(ig_expect_window 5 1 "$dur")"
	ig_assert_range "$ok" "$lo" "$hi" "calls admitted in ${dur}s"
	ig_assert_eq "$(sj '["errors"]["APIConnectionError"]')" 0 "APIConnectionError"
	ig_assert_eq "$(sj '["errors"]["other"]')" 0 "other errors"
	ig_assert_eq "$(sj '["errors"]["RateLimitError"]')" "$((calls - ok))" "RateLimitError (429)"
	ig_assert_eq "$(sj '["error_types"].get("rate_limit_exceeded", 0)')" "$((calls - ok))" \
		"refusals whose error type is rate_limit_exceeded"
	ig_assert_eq "$(sj '["retry_after"]["missing"]')" 0 "429s without Retry-After/retry-after-ms"
	# OpenAI's x-ratelimit-* of the request budget: 1/s is 60 a minute
	ig_assert_eq "$(sj '["ratelimit"]["limit-requests"]')" 00000060 "x-ratelimit-limit-requests"
	ig_assert_eq "$(sj '["ratelimit"]["remaining-requests"]')" 0 "x-ratelimit-remaining-requests"
	grep -Eq '^[0-9]{8}ms$' <<<"$(sj '["ratelimit"]["reset-requests"]')" ||
		ig_fail "x-ratelimit-reset-requests: $(sj '["ratelimit"]')"
	ig_assert_eq "$(api "j['by_peer'].get('$C4', 0)")" "$ok" "calls the backend saw"
	status_note
	assert_no_leftovers
	echo "measured: openai SDK, 4 concurrent, no retries, 1/s burst 5: $ok of $calls calls" \
		"admitted in $(secs "$dur")s (window $lo..$hi), $((calls - ok)) RateLimitError," \
		"$(awk -v c="$calls" -v d="$dur" 'BEGIN { printf "%.0f", c / d }') calls/s"
}

# The SDK with its default retries (2), one call at a time at 2/s burst 2:
# each 429 is retried after at least the retry-after-ms it carried (what the
# SDK obeys), that retry gets through (one wasted attempt per refusal at
# most), and every call succeeds; streamed calls too.
t_sdk_retry() {
	local url wasted n429 ok
	sdk_preflight
	setup --rate 2/s --burst 2 --unit request --action reject
	url="http://[$S6]:$PORT/v1"
	sdk --base-url "$url" --calls 6 --concurrency 1
	ok=$(sj '["ok"]') n429=$(sj '["statuses"].get("429", 0)') wasted=$(sj '["wasted_attempts"]')
	ig_assert_eq "$ok" 6 "calls that succeeded"
	ig_assert_ge "$n429" 1 "429s on the way (the limiter is live)"
	ig_assert_eq "$(sj '["retries"]["after_429"]')" "$n429" "429s followed by a retry"
	# node's timers may fire up to a millisecond early
	ig_fcmp "$(sj '["retries"]["min_slack_ms"]') >= -1.5" ||
		ig_fail "a retry came before the retry-after-ms it was given: $(sj '["retries"]')"
	ig_assert_eq "$(sj '["max_wasted_per_call"]')" 1 "wasted attempts of the worst call"
	ig_assert_eq "$(sj '["retry_after"]["missing"]')" 0 "429s without Retry-After/retry-after-ms"
	ig_assert_eq "$(api "j['by_peer'].get('$C6', 0)")" 6 "calls the backend saw"
	echo "measured: openai SDK, default retries, 2/s burst 2: 6 calls, $n429 answered 429," \
		"$wasted wasted attempts, retry waits $(sj '["retries"]["min_slack_ms"]')..$(sj '["retries"]["max_slack_ms"]')" \
		"ms past retry-after-ms ($(sj '["retry_after"]["min_ms"]')..$(sj '["retry_after"]["max_ms"]') ms)"

	sdk --base-url "$url" --calls 3 --concurrency 1 --stream
	ig_assert_eq "$(sj '["ok"]')" 3 "streamed calls that succeeded"
	ig_assert_eq "$(sj '["usage_seen"]')" 3 "streamed calls that ended with their usage chunk"
	ig_assert_eq "$(sj '["max_wasted_per_call"] <= 1')" True "wasted attempts of the worst streamed call"
	ig_assert_eq "$(api "j['by_peer'].get('$C6', 0)")" 9 "calls the backend saw"
	status_note
	assert_no_leftovers
	echo "measured: streamed: 3 calls, $(sj '["statuses"].get("429", 0)') answered 429"
}

# issue 20: a limit written per minute, 6/min at burst 1. The SDK's second
# call is told to wait the spacing, 10 s (retry-after-ms 10000 or a few ms
# less: the first call's own time is already refilled), with the limit named
# as 6 requests; it waits that out and its retry is admitted.
t_sdk_per_minute() {
	local ms
	sdk_preflight
	setup --rate 6/min --burst 1 --unit request --action reject
	sdk --base-url "http://$S4:$PORT/v1" --calls 2 --concurrency 1
	ig_assert_eq "$(sj '["ok"]')" 2 "calls that succeeded"
	ig_assert_eq "$(sj '["statuses"].get("429", 0)')" 1 "the second call's first attempt refused"
	ig_assert_eq "$(sj '["retries"]["after_429"]')" 1 "retried after the 429"
	ig_fcmp "$(sj '["retries"]["min_slack_ms"]') >= -1.5" ||
		ig_fail "the retry came before the retry-after-ms it was given: $(sj '["retries"]')"
	ms=$(sj '["retry_after"]["max_ms"]')
	ig_fcmp "$ms >= 9000 && $ms <= 10000" || ig_fail "retry-after-ms $ms at 6/min (10 s spacing)"
	ig_assert_eq "$(jq_py 'int(j["ratelimit"].get("limit-requests"))' "$SDK")" 6 \
		"x-ratelimit-limit-requests at 6/min"
	ig_assert_eq "$(api "j['by_peer'].get('$C4', 0)")" 2 "calls the backend saw"
	echo "measured: openai SDK at 6/min burst 1: told to wait $ms ms, retried" \
		"$(sj '["retries"]["min_slack_ms"]') ms past it, both calls served"
}

# The algorithms with the real SDK (issue 17). A fixed window of 3 per 5 s:
# seven calls in well under a window cross at most one edge, so at most six
# go through unasked and one or more are told to wait for the window's end
# (at most 5 s); the SDK waits, retries, and all seven are served.
t_sdk_fixed_window() {
	local ms
	sdk_preflight
	setup --rate 3/5s --unit request --action reject --algorithm fixed-window
	ig status | grep "$PORT/tcp counted by fixed-window: at most 3 per aligned 5s window" \
		>/dev/null || ig_fail "status: $(ig status)"
	ig_assert_eq "$(ig_json 'port('"$PORT"')["algorithm"]')" fixed-window "status --json"
	sdk --base-url "http://$S4:$PORT/v1" --calls 7 --concurrency 1
	ig_assert_eq "$(sj '["ok"]')" 7 "calls that succeeded"
	ig_fcmp "$(sj '["statuses"].get("429", 0)') >= 1" || ig_fail "no 429: $(sj '["statuses"]')"
	ms=$(sj '["retry_after"]["max_ms"]')
	ig_fcmp "$ms <= 5000" || ig_fail "retry-after-ms $ms past a 5 s window's end"
	ig_fcmp "$(sj '["retries"]["min_slack_ms"]') >= -1.5" ||
		ig_fail "a retry came before its retry-after-ms: $(sj '["retries"]')"
	ig_assert_eq "$(api "j['by_peer'].get('$C4', 0)")" 7 "calls the backend saw"
	echo "measured: fixed-window 3/5s, SDK: $(sj '["statuses"]'), waits up to $ms ms"
}

# A sliding window of 3 per 5 s: the fourth call is refused wherever the edge
# falls (the previous window still weighs), and told when enough of it has
# slid out (within the next window).
t_sdk_sliding_window() {
	local ms
	sdk_preflight
	setup --rate 3/5s --unit request --action reject --algorithm sliding-window
	sdk --base-url "http://$S4:$PORT/v1" --calls 5 --concurrency 1
	ig_assert_eq "$(sj '["ok"]')" 5 "calls that succeeded"
	ig_fcmp "$(sj '["statuses"].get("429", 0)') >= 2" || ig_fail "429s: $(sj '["statuses"]')"
	ms=$(sj '["retry_after"]["max_ms"]')
	ig_fcmp "$ms <= 10000" || ig_fail "retry-after-ms $ms past the next window"
	ig_fcmp "$(sj '["retries"]["min_slack_ms"]') >= -1.5" ||
		ig_fail "a retry came before its retry-after-ms: $(sj '["retries"]')"
	ig_assert_eq "$(api "j['by_peer'].get('$C4', 0)")" 5 "calls the backend saw"
	echo "measured: sliding-window 3/5s, SDK: $(sj '["statuses"]'), waits up to $ms ms"
}

# A leaky bucket at 60/min: no burst, whatever burst a token bucket would
# have had; three calls at once are spaced a second apart by the 429s.
t_sdk_leaky_bucket() {
	local ms
	sdk_preflight
	setup --rate 60/min --unit request --action reject --algorithm leaky-bucket
	sdk --base-url "http://$S4:$PORT/v1" --calls 3 --concurrency 1
	ig_assert_eq "$(sj '["ok"]')" 3 "calls that succeeded"
	ig_assert_eq "$(sj '["statuses"].get("429", 0)')" 2 "the second and third refused once"
	ms=$(sj '["retry_after"]["max_ms"]')
	ig_fcmp "$ms >= 500 && $ms <= 1000" || ig_fail "retry-after-ms $ms at one a second"
	ig_assert_eq "$(api "j['by_peer'].get('$C4', 0)")" 3 "calls the backend saw"
	echo "measured: leaky-bucket 60/min, SDK: $(sj '["statuses"]'), told $ms ms"
}

# A client in LLM-token debt (issue 19's refusal): charged 6100 tokens on a
# budget of 6000 a minute, it owes ~1 s past the minute's allowance. Its next
# call gets a 429 whose retry-after-ms is that debt (not the port's 10 ms
# spacing, which sent the SDK's retries back too soon: all three refused),
# the SDK waits it out, and the retry succeeds; another address is untouched.
t_token_debt() {
	local ra
	sdk_preflight
	setup --rate 100/s --burst 100 --unit request --action reject --tokens-per-min 6000
	ig charge "$C4" "$PORT" 6100 >/dev/null
	sdk --base-url "http://$S4:$PORT/v1" --calls 1 --concurrency 1
	ra=$(sj '["retry_after"]["min_ms"]')
	echo "measured: 6100 tokens charged on 6000/min: the call got $(sj '["statuses"]')," \
		"retry-after-ms $ra..$(sj '["retry_after"]["max_ms"]'), waits" \
		"$(sj '["retries"]["min_slack_ms"]')..$(sj '["retries"]["max_slack_ms"]') ms past them"
	ig_assert_eq "$(sj '["ok"]')" 1 "the call, after its wait"
	ig_assert_eq "$(sj '["statuses"].get("429", 0)')" 1 "429s on the way (one)"
	# (node starts in a few hundred ms of it; the port's spacing would be 10)
	ig_fcmp "$ra >= 100 && $ra <= 1100" || ig_fail "retry-after-ms $ra is not the debt (< 1 s)"
	ig_fcmp "$(sj '["retries"]["min_slack_ms"]') >= -1.5" ||
		ig_fail "the retry came before the retry-after-ms it was given: $(sj '["retries"]')"
	ig_assert_eq "$(api "j['by_peer'].get('$C4', 0)")" 1 "calls the backend saw"
	sdk --base-url "http://[$S6]:$PORT/v1" --calls 1 --concurrency 1 --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 1 "a call from another address"
	assert_no_leftovers
}

# --action drop: nothing is refused; a request over the limit loses its
# segment and the client's TCP sends it again until a token is there. 3
# keep-alive clients x 3 requests at 2/s burst 2: all succeed, later, and
# the backend never holds more than the bucket allowed so far.
t_drop() {
	local t0 pid poll out=$IG_TMP/drop.out dur min
	setup --rate 2/s --burst 2 --unit request --action drop
	t0=$(ig_now)
	REQ_JSON=$REQ_JSON nsenter --net="/run/netns/$CLI" "$IG_PY" "$IG_TMP/tool.py" keepalive \
		"$S4" "$PORT" 3 3 "$C4" 2 15 "$out" &
	pid=$!
	IG_PIDS+=("$pid")
	poll=$(ig_srv "$IG_PY" "$IG_TMP/tool.py" poll "$PORT" "$t0" 2 2 "$out" 30)
	wait "$pid" || ig_fail "the keep-alive clients failed"
	CK=$(cat "$out")
	echo "clients: $CK"
	echo "poll: $poll"
	ig_assert_eq "$(jq_py 'j["done"]' "$poll")" True "the clients finished within 30 s"
	ig_assert_eq "$(jq_py 'j["violations"]' "$poll")" "[]" "backend counts above burst + rate * t + 1"
	ig_assert_eq "$(ck ok)" 9 "requests that succeeded"
	ig_assert_eq "$(ck r429)" 0 "requests answered 429 (drop must not answer)"
	ig_assert_eq "$(ck connects)" 3 "connections (one per client: nothing closed them)"
	dur=$(ck dur)
	# 7 requests past the burst at 2/s, less one for the bucket's edges
	min=$(ig_calc "(9 - 2 - 1) / 2")
	ig_fcmp "$dur >= $min" || ig_fail "9 requests took ${dur}s, under ${min}s: over-limit ones got through"
	# a dropped request costs at least one retransmission timeout (200 ms)
	ig_fcmp "$(ck lat_max) >= 0.2" || ig_fail "slowest request took $(ck lat_max)s: nothing was delayed"
	ig_assert_eq "$(api 'j["requests"]')" 9 "requests the backend saw"
	status_note
	assert_no_leftovers
	echo "measured: drop, 2/s burst 2, 3 clients x 3: all 9 served in $(secs "$dur")s," \
		"slowest $(secs "$(ck lat_max)")s; $(jq_py 'j["samples"]' "$poll") /stats samples within the bucket"
}

# The request unit through the fair-share hierarchy: a port-wide level
# (1/s, burst 4) above generous per-source buckets. Two addresses share the
# port's 4 + t; every refusal is a 429 counted at level "port".
t_port_level() {
	local lo hi ok2 total by_port
	setup --rate 100/s --burst 100 --port-rate 1/s --port-burst 4 --unit request --action reject
	curl_keepalive "http://$S4:$PORT/v1/chat/completions" 6 "$C4" 1
	echo "client 1: $CK dur=${CK_DUR}s"
	curl_keepalive "http://$S4:$PORT/v1/chat/completions" 6 "$C4B" 1
	echo "client 2: $CK dur=${CK_DUR}s"
	ok2=$(ck ok)
	total=$(api 'j["requests"]')
	read -r lo hi <<<"$(ig_expect_window 4 1 "$(ig_calc "$CK_DUR * 2")")"
	ig_assert_range "$total" "$lo" "$((hi + 1))" "requests the backend saw from both addresses"
	ig_assert_range "$ok2" 0 2 "requests of the second address once the port's burst is spent"
	by_port=$(ig_json 'port('"$PORT"')["refused_by_level"]["port"]')
	ig_assert_eq "$by_port" "$((12 - total))" "refusals counted at level port"
	ig_assert_eq "$(ig_json "reason($PORT, 'tcp', 'reject_429')")" "$((12 - total))" \
		"refusals answered 429"
	echo "measured: port level 1/s burst 4, 2 addresses x 6 requests: backend saw $total," \
		"$by_port refused at level port"
}

# Dry run: nothing is refused, what would have been is counted.
t_dry() {
	local lo hi would
	setup --rate 1/s --burst 3 --unit request --action reject --dry-run
	curl_keepalive "http://$S4:$PORT/v1/chat/completions" 10 "$C4" 1
	echo "client 1: $CK dur=${CK_DUR}s"
	ig_assert_eq "$(ck ok)" 10 "requests served on a dry-run port"
	ig_assert_eq "$(api 'j["requests"]')" 10 "requests the backend saw"
	would=$(ig_json "reason($PORT, 'tcp', 'would_reject')")
	read -r lo hi <<<"$(ig_expect_window 3 1 "$CK_DUR")"
	ig_assert_range "$would" "$((10 - hi))" "$((10 - lo))" "requests counted would_reject"
	echo "measured: dry run 1/s burst 3: 10 of 10 served, $would would have been refused"
}

# --unit conn --action 429: each new connection over the limit gets a real
# 429 (its SYN a SYN cookie, its request the 429) and the backend never sees
# it: neither the request nor the connection.
t_cookie() { # FAMILY
	local host src i codes=() ok=0 n429=0 other=0 code
	setup --rate 1/s --burst 2 --unit conn --action 429
	if [ "$1" = 6 ]; then host="[$S6]" src=$C6; else host=$S4 src=$C4; fi
	for ((i = 0; i < 8; i++)); do
		code=$(ig_cli curl -q -s -o /dev/null --noproxy '*' --http1.1 --interface "$src" \
			--connect-timeout 2 -m 5 -w '%{http_code}|%header{retry-after-ms}' \
			-H 'Content-Type: application/json' -d "$REQ_JSON" \
			"http://$host:$PORT/v1/chat/completions" || true)
		codes+=("$code")
		case $code in
		200*) ok=$((ok + 1)) ;;
		429\|[1-9]*) n429=$((n429 + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
	done
	echo "codes: ${codes[*]}"
	ig_assert_range "$ok" 2 3 "new connections admitted (burst 2 at 1/s)"
	ig_assert_eq "$other" 0 "answers that were neither 200 nor 429 with retry-after-ms"
	# the backend counts connections it accepted; this query is one of them
	ig_assert_eq "$(api "j.get('connections', -1)")" "$((ok + 1))" \
		"connections the backend accepted (+1: this query)"
	ig_assert_eq "$(api 'j["requests"]')" "$ok" "requests the backend saw"
	ig_assert_eq "$(ig_json "reason($PORT, 'tcp', 'synack_cookie')")" "$n429" "SYNs answered with a cookie"
	ig_assert_eq "$(ig_json "reason($PORT, 'tcp', 'reject_429')")" "$n429" "requests answered 429"
	status_note
	assert_no_leftovers
	echo "measured: action 429 on a conn port, IPv$1, 1/s burst 2: $ok of 8 connections admitted," \
		"$n429 answered 429 without reaching the server"
}

t_curl4() { t_curl 4; }
t_cookie4() { t_cookie 4; }
t_cookie6() { t_cookie 6; }
t_curl6() { t_curl 6; }
t_python6() { t_python 6; }

for HOOK in xdp tc; do
	run_test "$HOOK/request-curl4-keepalive" t_curl4
	run_test "$HOOK/request-curl6-keepalive" t_curl6
	run_test "$HOOK/request-python6-keepalive" t_python6
	run_test "$HOOK/request-sdk-burst" t_sdk_burst
	run_test "$HOOK/request-sdk-retry6" t_sdk_retry
	run_test "$HOOK/request-sdk-per-minute" t_sdk_per_minute
	run_test "$HOOK/request-sdk-fixed-window" t_sdk_fixed_window
	run_test "$HOOK/request-sdk-sliding-window" t_sdk_sliding_window
	run_test "$HOOK/request-sdk-leaky-bucket" t_sdk_leaky_bucket
	run_test "$HOOK/request-token-debt" t_token_debt
	run_test "$HOOK/request-drop" t_drop
	run_test "$HOOK/request-port-level" t_port_level
	run_test "$HOOK/request-dry-run" t_dry
	run_test "$HOOK/conn-429-cookie4" t_cookie4
	run_test "$HOOK/conn-429-cookie6" t_cookie6
done
