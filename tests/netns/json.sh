#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Every show command's --json, from a realistic instance, against its schema
# in user/schema/ (documented in user/json.md). The schemas close their
# objects (additionalProperties false), so a key the code starts writing
# without the schema knowing it fails here.
. "$(dirname "$0")/../lib/netns.sh"

SCHEMAS=$(cd "$(dirname "$0")/../../user/schema" && pwd)
# Debian's python3-jsonschema: IG_PY may be a pyenv python without it.
VPY=/usr/bin/python3

json_preflight() {
	"$VPY" -c 'import jsonschema' 2>/dev/null ||
		ig_skip "python3-jsonschema not installed (make deps)"
}

# Validates FILE against SCHEMA (a name in user/schema/); every error printed.
json_valid() { # SCHEMA FILE
	"$VPY" - "$SCHEMAS/$1.schema.json" "$2" <<-'PY'
	import json, sys, jsonschema
	schema = json.load(open(sys.argv[1]))
	jsonschema.Draft202012Validator.check_schema(schema)
	doc = json.load(open(sys.argv[2]))
	errs = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
	for e in errs:
	    print("%s: at /%s: %s" % (sys.argv[2].rsplit("/", 1)[-1],
	          "/".join(map(str, e.absolute_path)), e.message), file=sys.stderr)
	sys.exit(1 if errs else 0)
	PY
}

# Runs the CLI with ARGS into $IG_TMP/NAME.json and validates it as SCHEMA.
check() { # SCHEMA NAME ARGS...
	local schema=$1 name=$2
	shift 2
	ig "$@" >"$IG_TMP/$name.json"
	head -c 600 "$IG_TMP/$name.json"
	echo
	json_valid "$schema" "$IG_TMP/$name.json" || ig_fail "$name: not a valid $schema"
}

# A python expression over j (FILE's document) that must hold.
holds() { # FILE EXPR
	"$VPY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || ig_fail "$(basename "$1"): not true: $2"
}

# An instance with what each show command has to show: limits of several
# units, algorithms and actions (one dry run, one with levels and a token
# budget, one keyed by API key), tiers, a key, proxy-from, a breaker with a
# fallback, and traffic through them.
setup_instance() {
	ig_make_pair
	ig_attach
	ig_start_server tcp 8000
	ig_start_server tcp 8080
	ig_start_server tcp 8081
	ig_start_server udp 5353
	ig limit 8000/tcp --rate 2/s --burst 3 --action reject
	ig limit 5353/udp --rate 10/min --unit packet --algorithm fixed-window
	ig limit 8001/tcp --rate 60/min --unit request --action reject --algorithm sliding-window \
		--key api-key --anonymous-rate 1/s --anonymous-burst 2
	ig limit 8002/tcp --rate 5/s --dry-run --prefix-rate 20/s --prefix-len 24,48 \
		--port-rate 100/s --newcomer-rate 50/s --max-conns 8 --tokens-per-min 6000 \
		--token-count events
	ig limit 8003/tcp --rate 4/h --algorithm leaky-bucket
	ig limit 8005/tcp --rate 1/s --unit request --key api-key --any-key
	ig limit 8004/tcp --rate 10/s --unit request --key proxy-source --proxy-from 198.18.250.0/24,fd00:250::/64
	ig tier add 198.18.251.0/24 premium >/dev/null
	ig tier add fd00:251::/48 deny >/dev/null
	ig tier add 198.18.252.7/32 allow >/dev/null
	ig tier set premium 8000 --rate 100/min --burst 20 >/dev/null
	printf 'sk-json-0123456789\n' >"$IG_TMP/key.alice"
	ig key add alice --token-file "$IG_TMP/key.alice" --tier premium >/dev/null
	ig key add mallory --hash 0123456789abcdef --deny >/dev/null
	ig breaker 8080 --fallback 8081 >/dev/null
	ig reject-budget --rate 500/s --burst 100 >/dev/null
	local ok failed
	read -r ok failed <<<"$(ig_attempts "$C4" 8 0.2)"
	echo "8000/tcp: $ok admitted, $failed refused"
	ig_assert_ge "$failed" 1 "refused attempts on 8000/tcp"
	ig_cli curl -q -s --noproxy '*' -m 2 "http://$S4:8080/" >/dev/null ||
		ig_fail "no answer through the breaker's port"
	ig_udp_run "$S4" 5353 3 0.3
}

t_show_commands() {
	json_preflight
	setup_instance
	check status status status --json
	holds "$IG_TMP/status.json" 'len(j["ports"]) == 7 and len(j["attachments"]) >= 1'
	holds "$IG_TMP/status.json" 'any(p["port"] == 8000 and p["rejected"]["packets"] > 0 for p in j["ports"])'
	holds "$IG_TMP/status.json" 'any(p["client"].get("anonymous_rate_text") == "1/s" for p in j["ports"])'
	holds "$IG_TMP/status.json" 'any(p["client"].get("any_key") and p["client"]["anonymous_rate"] is None for p in j["ports"])'
	holds "$IG_TMP/status.json" 'len(j["breakers"]) == 1 and j["breakers"][0]["fallback"] == 8081'
	holds "$IG_TMP/status.json" 'j["breakers"][0]["health"]["to_primary"] >= 1'
	check tier-list tiers tier list --json
	holds "$IG_TMP/tiers.json" 'len(j["prefixes"]) >= 3 and len(j["rates"]) == 1'
	check key-list keys key list --json
	holds "$IG_TMP/keys.json" 'sorted(k["name"] for k in j["keys"]) == ["alice", "mallory"]'
	holds "$IG_TMP/keys.json" 'any(k["tier"] is None for k in j["keys"])'
	check proxy-from-list proxy proxy-from list --json
	holds "$IG_TMP/proxy.json" 'len(j["proxy_from"]) == 2'
	check breaker breakers breaker --json
	holds "$IG_TMP/breakers.json" 'len(j["breakers"]) == 1'
	check breaker-one breaker-8080 breaker 8080 --json
	ig breaker 8080 open >/dev/null
	check breaker-one breaker-forced breaker 8080 --json
	holds "$IG_TMP/breaker-forced.json" 'j["force"] == "open" and j["effective"] == "open"'
	check check check-iface check --json "$VS"
	holds "$IG_TMP/check-iface.json" 'j["failed"] == 0 and any(c["name"] == "attached" for c in j["checks"])'
	check check check-host check --json
	holds "$IG_TMP/check-host.json" 'j["interface"] is None'
}

# Each schema refuses what the code does not write: a key it does not know,
# a required key missing, a value of the wrong type, an unknown enum word.
t_schemas_refuse() {
	json_preflight
	setup_instance
	ig status --json >"$IG_TMP/status.json"
	ig key list --json >"$IG_TMP/keys.json"
	ig tier list --json >"$IG_TMP/tiers.json"
	ig breaker 8080 --json >"$IG_TMP/one.json"
	json_valid status "$IG_TMP/status.json" || ig_fail "the untouched status is not valid"
	mutate() { # SCHEMA FILE WHAT PYTHON-STATEMENT
		"$VPY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(j, open(sys.argv[3], "w"))' "$2" "$4" "$IG_TMP/bad.json"
		if json_valid "$1" "$IG_TMP/bad.json" 2>"$IG_TMP/why"; then
			ig_fail "$3: accepted by the $1 schema"
		fi
		echo "$3: refused ($(head -1 "$IG_TMP/why"))"
	}
	mutate status "$IG_TMP/status.json" "an unknown top-level key" 'j["surprise"] = 1'
	mutate status "$IG_TMP/status.json" "an unknown key in a port" 'j["ports"][0]["surprise"] = 1'
	mutate status "$IG_TMP/status.json" "an unknown reason" 'j["ports"][0]["reasons"]["drop_new"] = 0'
	mutate status "$IG_TMP/status.json" "required pin_dir missing" 'del j["pin_dir"]'
	mutate status "$IG_TMP/status.json" "required levels.port_rate_text missing" \
		'del j["ports"][0]["levels"]["port_rate_text"]'
	mutate status "$IG_TMP/status.json" "a counter as a string" \
		'j["ports"][0]["passed"]["packets"] = str(j["ports"][0]["passed"]["packets"])'
	mutate status "$IG_TMP/status.json" "an unknown algorithm" 'j["ports"][0]["algorithm"] = "gcra"'
	mutate status "$IG_TMP/status.json" "api-key keys on a source-keyed port" \
		'[p for p in j["ports"] if p["client"]["key"] == "source"][0]["client"]["any_key"] = False'
	mutate status "$IG_TMP/status.json" "an api-key port without any_key" \
		'del [p for p in j["ports"] if p["client"]["key"] == "api-key"][0]["client"]["any_key"]'
	mutate status "$IG_TMP/status.json" "a null anonymous_rate with its text" \
		'[p for p in j["ports"] if p["client"].get("any_key")][0]["client"]["anonymous_rate_text"] = "0/s"'
	mutate status "$IG_TMP/status.json" "an anonymous_rate without its text" \
		'del [p for p in j["ports"] if "anonymous_rate_text" in p["client"]][0]["client"]["anonymous_rate_text"]'
	mutate status "$IG_TMP/status.json" "a decision's keys with adaptive off" \
		'j["ports"][0]["adaptive"]["rate"] = 5'
	mutate tier-list "$IG_TMP/tiers.json" "an unknown key in a tier rate" 'j["rates"][0]["window"] = 1'
	mutate key-list "$IG_TMP/keys.json" "a key's hash of 15 digits" 'j["keys"][0]["hash"] = "0" * 15'
	mutate breaker-one "$IG_TMP/one.json" "health on the one-breaker form" 'j["health"] = {}'
}

# An instance with no limits (on tc), then with nothing attached either.
t_status_idle() {
	json_preflight
	ig_make_pair
	HOOK=tc ig_attach
	check status tc status --json
	holds "$IG_TMP/tc.json" 'j["ports"] == [] and [(a["hook"], a["mode"]) for a in j["attachments"]] == [("tc", "tcx")]'
	ig detach "$VS" >/dev/null
	check status idle status --json
	holds "$IG_TMP/idle.json" 'j["ports"] == [] and j["attachments"] == [] and j["breakers"] == []'
	check tier-list idle-tiers tier list --json
	check key-list idle-keys key list --json
	check proxy-from-list idle-proxy proxy-from list --json
	check breaker idle-breakers breaker --json
}

top_has_port() { ig top -n 3 --json 2>/dev/null | grep -q '"port":8000'; }

# top --json comes from the agent's /top.json.
t_top() {
	json_preflight
	ig_make_pair
	ig_start_server tcp 8000
	printf '[agent]\ninterface = %s\nhook = %s\n[port 8000]\nrate = 1/s\nburst = 2\n' "$VS" "$HOOK" \
		>"$IG_TMP/agent.conf"
	ig_start_agent
	ig_attempts "$C4" 20 0.05 >/dev/null
	ig_wait_for 10 "top to show 8000/tcp" top_has_port
	check top top top -n 3 --json
	holds "$IG_TMP/top.json" 'j["ports"][0]["sources"][0]["sampled_drops"] >= 1'
}

redis_up() { redis-cli -s "$IG_TMP/redis.sock" ping 2>/dev/null | grep -q PONG; }
fleet_has_node() { ig status --fleet --redis "unix:$IG_TMP/redis.sock" --json 2>/dev/null | grep -q '"node":"json-a".*"up":true'; }

# status --fleet --json: what an agent published to a real redis-server.
t_fleet() {
	json_preflight
	command -v redis-server >/dev/null || ig_skip "redis-server not installed"
	command -v redis-cli >/dev/null || ig_skip "redis-cli not installed"
	ig_make_pair
	redis-server --port 0 --unixsocket "$IG_TMP/redis.sock" --unixsocketperm 600 \
		--save "" --appendonly no --daemonize no --dir "$IG_TMP" >"$IG_TMP/redis.log" 2>&1 &
	IG_PIDS+=($!)
	ig_wait_for 5 "redis-server" redis_up
	ig_start_server tcp 8000
	ig_start_server tcp 8001
	cat >"$IG_TMP/agent.conf" <<-CONF
	[agent]
	interface = $VS
	hook = $HOOK
	tick = 50ms
	[cluster]
	redis = unix:$IG_TMP/redis.sock
	node = json-a
	interval = 100ms
	[port 8000/tcp]
	rate = 5/s
	fleet_rate = 10/s
	fallback = 8001
	CONF
	ig_start_agent
	ig_wait_for 10 "the node in redis" fleet_has_node
	check status-fleet fleet status --fleet --redis "unix:$IG_TMP/redis.sock" --json
	holds "$IG_TMP/fleet.json" 'j["nodes"][0]["breakers"][0]["port"] == 8000'
}

HOOK=xdp
run_test json/show-commands t_show_commands
run_test json/schemas-refuse t_schemas_refuse
run_test json/status-idle t_status_idle
run_test json/top t_top
run_test json/status-fleet t_fleet
