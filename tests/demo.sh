#!/usr/bin/env bash
# `sudo make demo`: infergate end to end in throwaway namespaces. A toy
# inference backend (port 8000) and a fallback (8001) in a "server" namespace,
# a polite client (2 requests/s) and an abusive one (flat out, from a second
# address) in a "client" namespace, one veth between. The agent runs with an
# embedded config: 5 new connections/s and burst 10 per source (RST beyond),
# and a breaker on 8000. The backend is failed (503) and healed while a live
# line shows what happens. Everything it creates is removed on exit, however
# it exits.
set -eEu
build=${1:-build}
IG_BIN=$(cd "$build" && pwd)/infergate
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"

[ "$(id -u)" -eq 0 ] || { echo "the demo needs root: sudo make demo" >&2; exit 1; }
grep -q '^bpf /sys/fs/bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf

IG_PIDS=() IG_NETNS=() IG_PINS=()
IG_TMP=$(mktemp -d)
IG_N=1
trap ig_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ig_make_pair
say "two hosts, one veth: server $S4 (backend :8000, fallback :8001), clients $C4 and a second address"
ig_start_backend primary 8000
ig_start_backend fallback 8001
ABUSER=198.18.$((IG_N % 250 + 1)).3
ig_cli ip addr add "$ABUSER/24" dev "$VC"

cat >"$IG_TMP/agent.conf" <<CONF
[agent]
interface = $VS
tick = 50ms
metrics = 127.0.0.1:9464
[port 8000]
rate = 5/s
burst = 10
action = reject
fallback = 8001
window = 2s
min_requests = 4
failure_rate = 50%
open_time = 2s
half_open_probes = 2
health_url = http://127.0.0.1:8000/health
probe_interval = 500ms
probe_timeout = 300ms
CONF
say "infergate run --config (embedded): 8000/tcp 5 conn/s, burst 10, reject; breaker -> 8001"
sed 's/^/    /' "$IG_TMP/agent.conf"
ig_start_agent

tally() { echo "${*:2}" >"$IG_TMP/$1.tmp" && mv "$IG_TMP/$1.tmp" "$IG_TMP/$1"; }
polite() { # 2 requests/s until told to stop (at most 200)
	local pri=0 fb=0 bad=0 out
	for ((i = 0; i < 200; i++)); do
		[ -e "$IG_TMP/stop" ] && break
		out=$(ig_cli curl -s --connect-timeout 2 -m 2 -w ' %{http_code}' "http://$S4:8000/") || true
		out=${out//$'\n'/}
		case "$out" in
		"primary 200") pri=$((pri + 1)) ;;
		"fallback 200") fb=$((fb + 1)) ;;
		*) bad=$((bad + 1)) ;;
		esac
		tally polite "$pri" "$fb" "$bad"
		sleep 0.5
	done
}
abusive() { # back to back from the second address until told to stop (at most 5000)
	local ok=0 no=0
	for ((i = 0; i < 5000; i++)); do
		[ -e "$IG_TMP/stop" ] && break
		if ig_cli curl -s -o /dev/null --connect-timeout 2 -m 2 --interface "$ABUSER" \
			"http://$S4:8000/"; then ok=$((ok + 1)); else no=$((no + 1)); fi
		tally abusive "$ok" "$no"
	done
}
line() { # the live status line: what the clients saw, and what infergate counted
	local pri fb bad ao an adm dro st
	read -r pri fb bad <"$IG_TMP/polite"; read -r ao an <"$IG_TMP/abusive"
	read -r adm dro st < <(ig status --json 2>/dev/null | "$IG_PY" -c '
import json, sys
j = json.load(sys.stdin)
p = [e for e in j["ports"] if e["port"] == 8000][0]
b = [e for e in j["breakers"] if e["port"] == 8000][0]
print(p["reasons"]["admitted"], p["dropped"]["packets"] + p["rejected"]["packets"], b["effective"])' ||
		echo "? ? ?")
	printf '\r  polite %3d primary %3d fallback %2d failed | abusive %3d ok %4d RST | infergate %4s in %4s out | breaker %-9s' \
		"$pri" "$fb" "$bad" "$ao" "$an" "$adm" "$dro" "$st"
	STATE=$st
}
watch_until() { # SECONDS [STATE]: show the line for SECONDS, or until the breaker is in STATE
	local end=$(($(ig_now_us) + $1 * 1000000))
	while [ "$(ig_now_us)" -lt "$end" ]; do
		line
		[ -n "${2:-}" ] && [ "$STATE" = "$2" ] && return 0
		sleep 0.25
	done
}

tally polite 0 0 0; tally abusive 0 0
polite & pp=$!; IG_PIDS+=($pp)
abusive & ap=$!; IG_PIDS+=($ap)
say "healthy backend: the polite client is served, the abusive one is held to 5/s + 10"
echo "  (clients: answers they got; infergate: connections it let in / refused; breaker state)"
watch_until 5; echo
say "the backend starts answering 503: the breaker opens, new connections go to the fallback"
ig_set_mode 8000 503
watch_until 10 open; watch_until 3; echo
say "the backend heals: after the open time, probes go through (half-open), then closed"
ig_set_mode 8000 ok
watch_until 15 closed; watch_until 2; echo
touch "$IG_TMP/stop"
wait "$pp" "$ap" 2>/dev/null || true
line; echo

say "what the agent logged"
grep -E "breaker 8000/tcp:.*->|drops sampled" "$IG_TMP/agent.log" | sed 's/^/  /' || true
say "infergate status"
ig status
say "infergate top"
ig top -n 3 || true

read -r pri fb bad <"$IG_TMP/polite"; read -r ao an <"$IG_TMP/abusive"
say "summary"
echo "  polite client: $pri answers from the backend, $fb from the fallback while the backend failed,"
echo "  $bad failed (503s before the breaker opened, and in half-open). Abusive client: $ao served, $an refused"
echo "  at once by a RST from XDP (its burst of 10, then 5 per second). Metrics were on"
echo "  http://127.0.0.1:9464/metrics inside the server namespace. Cleaning up."
