# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers of the per-request suites (request.sh, request_attack.slow.sh, request_h2.slow.sh):
# sourced after netns.sh, never run. They use $PORT (the limited port) and
# the per-test names netns.sh sets.
# shellcheck shell=bash

# The unit is named on the --unit line of the help ("request" alone also
# appears in --tokens-per-min's text).
req_preflight() {
	local help
	help=$("$IG_BIN" limit --help 2>&1 || true)
	grep -Eq -- '--unit [^ ]*request' <<<"$help" ||
		ig_skip "infergate limit --help names no --unit request (not built yet)"
}

# A python expression over j = the JSON document given.
jq_py() { # EXPR JSON
	"$IG_PY" -c '
import json, sys
j = json.loads(sys.argv[2])
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"
}

# The port's per-reason packet counters as one JSON object; reason NAME [JSON].
reasons() { ig_json "port($PORT)['reasons']"; }
reason() { jq_py "j['$1']" "${2:-$(reasons)}"; }
# NAME: the counter's growth since REASONS0 (set by mark)
mark() { REASONS0=$(reasons); }
grown() { echo $(($(reason "$1") - $(reason "$1" "$REASONS0"))); }

# No established or close-wait socket left on the server's port (2 s).
assert_no_leftovers() {
	local end left
	end=$(($(ig_now_us) + 2000000))
	while :; do
		left=$(ig_srv ss -Htn state established state close-wait "( sport = :$PORT )") ||
			ig_fail "ss failed in the server namespace"
		[ -n "$left" ] || break
		[ "$(ig_now_us)" -lt "$end" ] ||
			ig_fail "sockets left on the server's port after 2 s: $(tr '\n' ';' <<<"$left")"
		sleep 0.02
	done
}

mac_of() { # ig_cli|ig_srv DEV
	"$1" ip -o link show dev "$2" | awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }'
}

# The openai SDK client (tests/lib/sdk_client.mjs) can run.
sdk_preflight() {
	command -v node >/dev/null || ig_skip "node not installed (make deps)"
	[ -e "$IG_LIB/node_modules/openai/package.json" ] ||
		ig_skip "the openai SDK is not installed: make deps (npm ci --prefix tests/lib)"
}

# What the stand-in API (openai_server.py) saw: a python expression over
# j = GET /stats, asked over the server namespace's loopback (no limiter there).
api() { # EXPR
	local js
	js=$(ig_srv curl -q -s --noproxy '*' -m 5 "http://127.0.0.1:$PORT/stats") ||
		ig_fail "GET /stats failed"
	jq_py "$1" "$js"
}

# One run of the SDK client from the client namespace; its JSON line in SDK.
sdk() { # ARGS...
	SDK=$(ig_cli node "$IG_LIB/sdk_client.mjs" "$@") || ig_fail "sdk_client.mjs failed: $SDK"
	echo "sdk $*: $SDK"
}

sj() { jq_py "j$1" "$SDK"; }

# A backend script of tests/lib on [::]:$PORT in the server namespace (with
# ARGS), its output in $IG_TMP/NAME.log, stopped with the test.
start_backend() { # SCRIPT NAME [ARGS...]
	local script=$1 name=$2
	shift 2
	nsenter --net="/run/netns/$SRV" "$IG_PY" "$IG_LIB/$script" "$PORT" "$@" \
		>"$IG_TMP/$name.log" 2>&1 &
	IG_PIDS+=("$!")
	ig_wait_for 5 "$script on port $PORT" ig_listening -Hltn "$PORT"
}
