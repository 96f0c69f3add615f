#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# LLM-token budgets that count tokens (issue 19), end to end: the official
# openai SDK (tests/lib/sdk_client.mjs) on keep-alive connections against the
# stand-in engine (tests/lib/openai_server.py), whose /stats sums the usage of
# every completion it served: the truth the charge is held to. The charge is
# read from the pinned `tokens` map (bpftool), the rule that made it from
# `status --json`.
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000
SCAPY_PY=/usr/bin/python3

# Namespaces, the stand-in engine on $PORT, infergate with the limit given.
setup() { # LIMIT ARGS...
	local out
	req_preflight
	sdk_preflight
	ig_make_pair
	start_backend openai_server.py api
	ig_attach
	out=$(ig limit "$PORT/tcp" "$@" 2>&1) || ig_fail "ig limit $PORT/tcp $*: $out"
}

# Tokens charged to the client address ADDR on $PORT so far (the `spent` of
# its entry in the pinned tokens map; 0 without one).
spent() { # ADDR
	local js
	js=$(bpftool -j map dump pinned "$PIN/tokens") || ig_fail "bpftool map dump tokens"
	"$IG_PY" - "$1" "$PORT" "$js" <<'PYEOF'
import ipaddress, json, sys
addr = ipaddress.ip_address(sys.argv[1])
key16 = (ipaddress.IPv6Address("::ffff:" + str(addr)) if addr.version == 4 else addr).packed
total = 0
for e in json.loads(sys.argv[3]):
    k, v = e.get("formatted", e)["key"], e.get("formatted", e)["value"]
    a = bytes(int(x, 0) if isinstance(x, str) else x for x in k["addr"])
    if a == key16 and int(k["port"]) == int(sys.argv[2]):
        s = int(v["spent"])
        total += s - (1 << 64) if s >= 1 << 63 else s
print(total)
PYEOF
}

# Calls of one kind from the client: the tokens they were charged against
# what the engine says they cost. Sets CHARGED, TRUTH.
kind_run() { # ADDR URL KIND_ARGS...
	local addr=$1 url=$2 s0 t0
	shift 2
	s0=$(spent "$addr") t0=$(api "j['tokens_by_peer'].get('$addr', 0)")
	sdk --base-url "$url" --calls 9 --concurrency 3 --max-tokens 100 --prompt-chars 1200 \
		--max-retries 0 "$@"
	ig_assert_eq "$(sj '["ok"]')" 9 "calls answered"
	CHARGED=$(($(spent "$addr") - s0))
	TRUTH=$(($(api "j['tokens_by_peer'].get('$addr', 0)") - t0))
}

# The charge against the engine's usage, by kind of call, on a request port
# (the prompt is the request bodies the scanner framed): not streamed and
# streamed with include_usage, the usage itself; streamed without it, the
# events and the body's bytes. The three together within 5 %. The same calls
# on --token-count bytes, 0.6's rule, for the record.
t_accuracy() { # 4|6
	local url ratio j s b all_c=0 all_t=0
	setup --rate 1000/s --burst 1000 --unit request --action reject \
		--tokens-per-min 100000000
	if [ "$1" = 4 ]; then url="http://$S4:$PORT/v1" a=$C4; else url="http://[$S6]:$PORT/v1" a=$C6; fi
	kind_run "$a" "$url"
	j="$CHARGED/$TRUTH"
	ig_assert_eq "$CHARGED" "$TRUTH" "tokens charged for 9 calls not streamed (their usage)"
	all_c=$((all_c + CHARGED)) all_t=$((all_t + TRUTH))
	kind_run "$a" "$url" --stream
	s="$CHARGED/$TRUTH"
	ig_assert_eq "$CHARGED" "$TRUTH" "tokens charged for 9 streams with include_usage"
	all_c=$((all_c + CHARGED)) all_t=$((all_t + TRUTH))
	kind_run "$a" "$url" --stream-bare
	b="$CHARGED/$TRUTH"
	ig_fcmp "$CHARGED >= $TRUTH * 0.95 && $CHARGED <= $TRUTH * 1.10" ||
		ig_fail "streams without usage charged $CHARGED for $TRUTH tokens (outside -5 %..+10 %)"
	all_c=$((all_c + CHARGED)) all_t=$((all_t + TRUTH))
	ratio=$(ig_calc "$all_c / $all_t")
	ig_fcmp "$ratio >= 0.95 && $ratio <= 1.05" ||
		ig_fail "the mix charged $all_c for $all_t tokens (ratio $ratio)"
	ig_assert_eq "$(ig_json "port($PORT)['token_rules']['usage']['responses']")" 18 \
		"responses counted by their usage"
	ig_assert_eq "$(ig_json "port($PORT)['token_rules']['events']['responses']")" 9 \
		"streams counted by their events"
	ig limit "$PORT/tcp" --rate 1000/s --burst 1000 --unit request --action reject \
		--tokens-per-min 100000000 --token-count bytes >/dev/null
	kind_run "$a" "$url" --stream
	echo "measured: IPv$1, charged/engine's tokens per 9 calls of 1200-char prompts and" \
		"100 tokens: not streamed $j, streamed with usage $s, without usage $b;" \
		"all $all_c/$all_t = $ratio; streamed with usage under 0.6's bytes rule" \
		"$CHARGED/$TRUTH = $(ig_calc "$CHARGED / $TRUTH")"
}

# Under its budget a client is never refused; past it, its next call gets a
# 429 whose retry-after-ms is the time its debt takes to clear, and the SDK,
# waiting that out, gets its completion. The backend never sees a refused
# call.
t_debt() {
	local ra calls
	setup --rate 1000/s --burst 1000 --unit request --action reject --tokens-per-min 6000
	# ~1100 tokens a call (100-token prompt, 1000-token streams with usage):
	# five fit in 6000
	sdk --base-url "http://$S4:$PORT/v1" --calls 5 --concurrency 1 --max-tokens 1000 \
		--prompt-chars 400 --stream --max-retries 0
	ig_assert_eq "$(sj '["ok"]')" 5 "calls under the budget"
	ig_assert_eq "$(sj '["statuses"].get("429", 0)')" 0 "429s under the budget"
	echo "charged $(spent "$C4") for $(api "j['tokens']") tokens served"
	sdk --base-url "http://$S4:$PORT/v1" --calls 2 --concurrency 1 --max-tokens 1000 \
		--prompt-chars 400 --stream --max-retries 3
	ra=$(sj '["retry_after"]["min_ms"]')
	ig_assert_eq "$(sj '["ok"]')" 2 "calls past the budget, after their waits"
	ig_assert_ge "$(sj '["statuses"].get("429", 0)')" 1 "429s past the budget"
	ig_assert_eq "$(sj '["retries"]["early"]')" 0 "retries before the advised time"
	# a debt is paid at 100 tokens/s: a call's ~1100 tokens take ~11 s
	ig_fcmp "$ra >= 1000 && $ra <= 12000" || ig_fail "retry-after-ms $ra is not a debt's wait"
	# what OpenAI's clients read besides: the budget that refused, by name
	ig_assert_eq "$(jq_py 'int(j["ratelimit"]["limit-tokens"])' "$SDK")" 6000 "x-ratelimit-limit-tokens"
	ig_assert_eq "$(jq_py 'int(j["ratelimit"]["remaining-tokens"])' "$SDK")" 0 "x-ratelimit-remaining-tokens"
	ig_assert_eq "$(sj '["ratelimit"]["reset-tokens"]')" "$(printf '%010dms' "${ra%.*}")" \
		"x-ratelimit-reset-tokens (the wait)"
	calls=$(api 'j["requests"]')
	ig_assert_eq "$calls" 7 "calls the backend saw (none refused reached it)"
	echo "measured: 6000 tokens/min, calls of ~1100 tokens: 5 of 5 under the budget" \
		"served without a 429; past it $(sj '["statuses"]'), retry-after-ms $ra.." \
		"$(sj '["retry_after"]["max_ms"]'), the SDK waited" \
		"$(sj '["retries"]["min_slack_ms"]')..$(sj '["retries"]["max_slack_ms"]') ms past it"
}

# An attacker who steers the completion: the engine echoes its prompt, which
# holds a usage object of its own ("usage":{"total_tokens":1}, braces, a
# "}}" at the end) and [DONE]; JSON escapes its quotes, so none of it is
# read: not streamed it is charged its real usage, streamed without usage at
# least its tokens. New connections (curl, each its own) do not shed the
# debt of the address.
t_attacker() {
	local fake c0 t0 c t
	setup --rate 1000/s --burst 1000 --unit request --action reject \
		--tokens-per-min 100000000
	fake='echo: "usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":1}} data: [DONE]}}'
	c0=$(spent "$C4") t0=$(api "j['tokens']")
	sdk --base-url "http://$S4:$PORT/v1" --calls 6 --concurrency 2 --max-tokens 200 \
		--prompt "$fake" --max-retries 0
	c=$(($(spent "$C4") - c0)) t=$(($(api "j['tokens']") - t0))
	ig_assert_eq "$c" "$t" "tokens charged for echoed fake usage, not streamed"
	c0=$(spent "$C4") t0=$(api "j['tokens']")
	sdk --base-url "http://$S4:$PORT/v1" --calls 6 --concurrency 2 --max-tokens 200 \
		--prompt "$fake" --stream-bare --max-retries 0
	c=$(($(spent "$C4") - c0)) t=$(($(api "j['tokens']") - t0))
	ig_fcmp "$c >= $t * 0.95" || ig_fail "echoed fake usage in a stream: charged $c for $t"
	echo "measured: a completion echoing a usage object: charged $c for $t (streamed)"
	# in debt: a fresh connection per request changes nothing
	ig limit "$PORT/tcp" --rate 1000/s --burst 1000 --unit request --action reject \
		--tokens-per-min 60 >/dev/null
	ig charge "$C4" "$PORT" 1000 >/dev/null
	for i in 1 2 3; do
		code=$(ig_cli curl -q -s -o /dev/null -w '%{http_code}' --noproxy '*' -m 5 \
			-H 'content-type: application/json' \
			-d '{"model":"m","messages":[{"role":"user","content":"hi"}]}' \
			"http://$S4:$PORT/v1/chat/completions") || true
		ig_assert_eq "$code" 429 "request $i on a new connection, in debt"
	done
}

# Spoofed SYNs from many sources and a flood of real connections that never
# get an answer: the tokens map only takes clients that were answered.
t_flood() {
	local n
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || ig_skip "python3-scapy not installed"
	setup --rate 1000/s --burst 1000 --unit request --action reject --tokens-per-min 6000
	# the server answers the spoofed sources (its SYN-ACKs leave through egress)
	ig_srv ip route add 198.19.0.0/16 dev "$VS"
	ig_cli "$SCAPY_PY" - "$S4" "$PORT" <<'PYEOF'
import random, sys
from scapy.all import IP, TCP, send, conf
conf.verb = 0
pk = [IP(src="198.19.%d.%d" % (random.randrange(256), random.randrange(1, 255)), dst=sys.argv[1]) /
      TCP(sport=random.randrange(1024, 65535), dport=int(sys.argv[2]), flags="S",
          seq=random.randrange(1 << 32)) for _ in range(2000)]
send(pk)
PYEOF
	sdk --base-url "http://$S4:$PORT/v1" --calls 1 --max-retries 0
	n=$(bpftool -j map dump pinned "$PIN/tokens" | "$IG_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
	ig_assert_eq "$n" 1 "clients in the tokens map after 2000 spoofed SYNs and one real call"
}

t_accuracy4() { t_accuracy 4; }
t_accuracy6() { t_accuracy 6; }

for HOOK in xdp tc; do
	run_test "$HOOK/tokens-accuracy4" t_accuracy4
done
HOOK=tc
run_test "$HOOK/tokens-accuracy6" t_accuracy6
run_test "$HOOK/tokens-debt" t_debt
run_test "$HOOK/tokens-attacker" t_attacker
run_test "$HOOK/tokens-flood" t_flood
