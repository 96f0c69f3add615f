#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The step test of issue 15 (part of `make bench`): admission that follows the
# GPU. The stand-in engine (tests/lib/engine.py: 4 slots, 20 ms prefill, 16
# tokens x 20 ms, ~11.8 requests/s) in a namespace "server"; two open-loop
# load generators (tests/lib/loadgen.py, streamed completions, Poisson
# arrivals, or evenly spaced with IG_STEP_ARRIVALS=constant) from two source
# addresses of a client namespace, equal demand each; together 0.5x the engine's capacity for 10 s, 3x for 20 s, 0.5x for
# 10 s. Scenarios (IG_STEP_SCENARIOS, default all six), each on fresh
# namespaces and a fresh engine:
#   none     nothing in front of the engine
#   static   infergate (agent, XDP, --unit request, reject: 429) with a
#            per-source rate and a static port_rate at the engine's capacity
#   engine   the same with `adaptive = engine`: the port rate follows the
#            engine's /metrics (queue, KV cache)
#   headroom `adaptive = engine` with `adaptive_headroom = 0.05`: the rate
#            held at 95 % of the capacity the engine's counters show, and
#            bursts (port and per source) of the engine's slots, what it can
#            start at once
#   inflight `adaptive = engine` with `max_inflight = auto`: at most the
#            engine's slots (as the agent measures them) in flight, none
#            waiting in its queue (max_inflight_per_client = fair held the
#            shares within 2 % but cost 4 points of goodput: 87 % against
#            90-91 %; the per-source rates keep them within 10 % already)
#   latency  the same with `adaptive = latency`: it follows the kernel-measured
#            time to first token
# engine and latency are skipped, with the agent's own words, while the agent
# refuses the config (an agent without adaptive admission). Extra config
# lines for a scenario: IG_STEP_CONF_<scenario>="key = value;key = value".
# Sampled every 250 ms: the engine's queue (/stats); from the generators'
# rows, over the last second: offered, admitted (200s/s, by completion) and
# refused rates and the TTFT p99 of the completions; with adaptive admission,
# the port rate the agent set (its infergate_adaptive_rate).
# First, unloaded: 2 requests/s evenly spaced for 5 s, the reference TTFT.
# Output in OUTDIR: step-SCENARIO.csv (the samples), step-SCENARIO-{a,b}.csv
# (every request), step.md (the summary), step.png (four panels over time:
# offered load, admitted rate, engine queue, TTFT p99, a line per scenario;
# a fifth, the port rate adaptive admission set, when a scenario had one).
#   tests/bench/step.sh BUILD OUTDIR
set -eEuo pipefail
build=${1:-build}
OUT=${2:-$build/bench}
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$(cd "$HERE/../lib" && pwd)
IG=$(cd "$build" && pwd)/infergate
PASS_OBJ=$(cd "$build" && pwd)/tests/xdp_pass.bpf.o
PY=$(python3 -c 'import sys; print(sys.executable)')
# shellcheck disable=SC2206 # a list of words
SCENARIOS=(${IG_STEP_SCENARIOS:-none static engine headroom inflight latency})
PORT=8000
# the engine's shape (IG_STEP_SLOTS etc. for a bigger one: the scenarios'
# rates follow its capacity)
SLOTS=${IG_STEP_SLOTS:-4} PREFILL_MS=${IG_STEP_PREFILL_MS:-20}
TOKEN_MS=${IG_STEP_TOKEN_MS:-20} MAX_TOKENS=${IG_STEP_MAX_TOKENS:-16}
export IG_STEP_SHAPE="$SLOTS slots, $PREFILL_MS ms prefill, $MAX_TOKENS tokens x $TOKEN_MS ms"
CAP=$(awk -v s="$SLOTS" -v p="$PREFILL_MS" -v t="$TOKEN_MS" -v m="$MAX_TOKENS" \
	'BEGIN { printf "%.4f", s / ((p + m * t) / 1000) }')
LOW=$(awk -v c="$CAP" 'BEGIN { printf "%.4f", c * 0.5 / 2 }')   # per client
HIGH=$(awk -v c="$CAP" 'BEGIN { printf "%.4f", c * 3 / 2 }')
SCHEDULE="$LOW:10,$HIGH:20,$LOW:10"
TIMEOUT=${IG_STEP_TIMEOUT:-30}   # a client gives up on a request after this
CONNS=600                        # each generator's pool: never all busy here
# Poisson by default: two evenly spaced clients started together lock in
# phase with a shared bucket's refills (one of them got 85 % of a port rate)
ARRIVALS=${IG_STEP_ARRIVALS:-poisson}

[ "$(id -u)" -eq 0 ] || { echo "step bench: needs root" >&2; exit 1; }
for t in gnuplot curl bpftool nsenter; do
	command -v "$t" >/dev/null || { echo "step bench: $t missing (make deps installs it)" >&2; exit 1; }
done
if [ ! -x "$IG" ] || [ ! -e "$PASS_OBJ" ]; then
	echo "step bench: build first (make)" >&2
	exit 1
fi
grep -q '^bpf /sys/fs/bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf

TMP=$(mktemp -d)
PIDS=() NETNS=() PINS=()
cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for d in "${PINS[@]}"; do
		case "$d" in /sys/fs/bpf/igst-*) rm -rf "$d" ;; esac
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || { echo "step bench: timed out: $*" >&2; return 1; }
		sleep 0.05
	done
}
# Background processes are started with nsenter itself, never through these
# functions: $! must be the process, or killing it leaves the process behind.
inS() { nsenter --net="/run/netns/$S" "$@"; }
inC() { nsenter --net="/run/netns/$C" "$@"; }
listening() { [ -n "$(inS ss -Hltn "sport = :$PORT")" ]; }
link_up() { nsenter --net="/run/netns/$1" ip link show dev "$2" | grep -q LOWER_UP; }

# Fresh namespaces for scenario number N: server S ($VS, 198.18.220.1), client
# C ($VC, 198.18.220.2 and .3), the client end with an XDP_PASS program so
# that the 429s the server's XDP program sends with XDP_TX are received.
make_hosts() { # N
	local id="$$x$1"
	S=igst-s$id C=igst-c$id VS=igst${id}s VC=igst${id}c
	PIN=/sys/fs/bpf/igst-$id
	SA=198.18.220.1 CA=198.18.220.2 CB=198.18.220.3
	ip netns add "$S"
	NETNS+=("$S")
	ip netns add "$C"
	NETNS+=("$C")
	ip link add "$VS" netns "$S" type veth peer name "$VC" netns "$C"
	inS ip link set lo up
	inC ip link set lo up
	inS ip addr add "$SA/24" dev "$VS"
	inC ip addr add "$CA/24" dev "$VC"
	inC ip addr add "$CB/24" dev "$VC"
	inC ethtool -K "$VC" gro on >/dev/null 2>&1 || true
	PINS+=("$PIN-peer")
	mkdir "$PIN-peer"
	bpftool prog load "$PASS_OBJ" "$PIN-peer/prog" type xdp
	inC bpftool net attach xdpdrv pinned "$PIN-peer/prog" dev "$VC"
	PINS+=("$PIN")
	inS ip link set "$VS" up
	inC ip link set "$VC" up
	wait_for 5 link_up "$S" "$VS"
	wait_for 5 link_up "$C" "$VC"
}

drop_hosts() {
	ip netns del "$S"
	ip netns del "$C"
	rm -rf "$PIN" "$PIN-peer"
}

start_engine() {
	nsenter --net="/run/netns/$S" "$PY" "$LIB/engine.py" "$PORT" --slots "$SLOTS" --prefill-ms "$PREFILL_MS" \
		--token-ms "$TOKEN_MS" --max-tokens "$MAX_TOKENS" >"$TMP/engine.log" 2>&1 &
	ENGINE_PID=$!
	PIDS+=("$ENGINE_PID")
	wait_for 5 listening
}

# The agent with the scenario's config; returns 3 when the agent refused it.
start_agent() { # SCENARIO
	local sc=$1 per port_rate extra i burst port_burst
	per=$(awk -v c="$CAP" 'BEGIN { printf "%d", c + 0.5 }')        # per source: all of it
	port_rate=$(awk -v c="$CAP" 'BEGIN { printf "%d", c + 0.5 }')  # the static port limit
	burst=$per port_burst=$port_rate
	[ "$sc" != headroom ] || burst=$SLOTS port_burst=$SLOTS
	{
		echo "[agent]"
		echo "interface = $VS"
		echo "hook = xdp"
		echo "tick = 50ms"
		echo "metrics = 127.0.0.1:9464"
		echo "control = off"
		echo "[port $PORT]"
		echo "unit = request"
		echo "action = reject"
		echo "rate = $per/s"
		echo "burst = $burst"
		echo "port_rate = $port_rate/s"
		echo "port_burst = $port_burst"
		case "$sc" in
		engine | headroom | inflight)
			echo "adaptive = engine"
			echo "engine_metrics = http://127.0.0.1:$PORT/metrics"
			echo "adaptive_interval = 250ms"
			[ "$sc" != headroom ] || echo "adaptive_headroom = 0.05"
			[ "$sc" != inflight ] || echo "max_inflight = auto"
			;;
		latency)
			echo "adaptive = latency"
			echo "adaptive_interval = 250ms"
			;;
		esac
		extra=IG_STEP_CONF_$sc
		tr ';' '\n' <<<"${!extra:-}"
	} >"$TMP/agent.conf"
	nsenter --net="/run/netns/$S" "$IG" --pin-dir "$PIN" run --config "$TMP/agent.conf" \
		--pid-file "$TMP/agent.pid" \
		>"$TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q "running on $VS" "$TMP/agent.log" && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || return 3
		sleep 0.05
	done
	echo "step bench: the agent did not start: $(tail -n3 "$TMP/agent.log")" >&2
	return 1
}

stop_pid() { # PID
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# The engine's /stats every 250 ms until FILE.stop appears: epoch, waiting,
# running, kv, completed, the engine's own TTFT p99 over the last second; and
# with the agent, the port rate adaptive admission set (its /metrics).
sampler() { # OUTFILE [AGENT_METRICS_URL]
	nsenter --net="/run/netns/$S" "$PY" - "http://127.0.0.1:$PORT/stats" "$1" "${2:-}" <<'PYEOF' &
import json, os, sys, time, urllib.request
url, out, agent = sys.argv[1], sys.argv[2], sys.argv[3]
f = open(out, "w")
f.write("epoch,waiting,running,kv,completed,engine_ttft_p99_1s,port_rate\n")
nxt = time.time()
end = nxt + 600
while not os.path.exists(out + ".stop") and time.time() < end:
    t = time.time()
    try:
        s = json.load(urllib.request.urlopen(url, timeout=1))
        p = s.get("ttft_p99_1s")
        rate = ""
        if agent:
            try:
                for l in urllib.request.urlopen(agent, timeout=0.2).read().decode().splitlines():
                    if l.startswith("infergate_adaptive_rate{"):
                        rate = l.split()[-1]
            except Exception:
                pass
        f.write("%.3f,%d,%d,%.4f,%d,%s,%s\n" % (t, s["waiting"], s["running"], s["kv"],
                                                s["completed"], "" if p is None else p, rate))
        f.flush()
    except Exception:
        pass
    nxt += 0.25
    time.sleep(max(0, nxt - time.time()))
PYEOF
	SAMPLER_PID=$!
	PIDS+=("$SAMPLER_PID")
}

run_scenario() { # N SCENARIO
	local n=$1 sc=$2 rc=0 start
	make_hosts "$n"
	start_engine
	if [ "$sc" != none ]; then
		start_agent "$sc" || rc=$?
		if [ "$rc" = 3 ]; then
			echo "the agent refused its config: $(grep -v '^ *$' "$TMP/agent.log" | tail -n1)" \
				>"$OUT/step-$sc.skip"
			echo "step bench: skip $sc: $(cat "$OUT/step-$sc.skip")" >&2
			stop_pid "$ENGINE_PID"
			drop_hosts
			return 0
		fi
		[ "$rc" = 0 ] || exit 1
	fi
	rm -f "$OUT/step-$sc.skip"
	if [ "$sc" = none ]; then
		sampler "$OUT/step-$sc-samples.csv"
	else
		sampler "$OUT/step-$sc-samples.csv" http://127.0.0.1:9464/metrics
	fi
	start=$("$PY" -c 'import time; print("%.3f" % (time.time() + 1.5))')
	echo "$start" >"$OUT/step-$sc.start"
	local c addr seed pids=() how=()
	[ "$ARRIVALS" = poisson ] && how=(--poisson)
	for c in a b; do
		if [ "$c" = a ]; then addr=$CA seed=1; else addr=$CB seed=2; fi
		nsenter --net="/run/netns/$C" timeout $((40 + TIMEOUT + 30)) "$PY" "$LIB/loadgen.py" \
			"http://$SA:$PORT" --stream \
			--schedule "$SCHEDULE" --bind "$addr" --conns $CONNS --timeout "$TIMEOUT" \
			--label "$c" --start-at "$start" --out "$OUT/step-$sc-$c.csv" "${how[@]}" --seed "$seed" \
			>"$OUT/step-$sc-$c.json" &
		pids+=($!)
		PIDS+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || { echo "step bench: loadgen failed ($sc)" >&2; exit 1; }; done
	# the engine drains (aborting what the clients gave up on) before the
	# sampler stops, so the queue is seen to empty
	wait_for 35 inS "$PY" -c "
import json, sys, urllib.request
s = json.load(urllib.request.urlopen('http://127.0.0.1:$PORT/stats', timeout=1))
sys.exit(s['waiting'] + s['running'] != 0)" || true
	sleep 0.5
	touch "$OUT/step-$sc-samples.csv.stop"
	wait "$SAMPLER_PID" 2>/dev/null || true
	rm -f "$OUT/step-$sc-samples.csv.stop"
	if [ "$sc" != none ]; then
		inS curl -q -s --noproxy '*' -m 2 http://127.0.0.1:9464/metrics >"$OUT/step-$sc-agent-metrics.txt" || true
		cp "$TMP/agent.conf" "$OUT/step-$sc-agent.conf"
		stop_pid "$AGENT_PID"
		cp "$TMP/agent.log" "$OUT/step-$sc-agent.log"
	fi
	inS curl -q -s --noproxy '*' -m 2 "http://127.0.0.1:$PORT/stats" >"$OUT/step-$sc-engine.json" || true
	stop_pid "$ENGINE_PID"
	drop_hosts
}

# Unloaded: 2 requests/s evenly spaced for 5 s from one client, nothing in
# front (the reference the scenarios' TTFT is held to).
calibrate() {
	make_hosts 0
	start_engine
	inC timeout 30 "$PY" "$LIB/loadgen.py" "http://$SA:$PORT" --stream --schedule 2:5 \
		--bind "$CA" --conns 8 --timeout 10 --label unloaded --out "$OUT/step-unloaded.csv" \
		>"$OUT/step-unloaded.json"
	stop_pid "$ENGINE_PID"
	drop_hosts
}

mkdir -p "$OUT"
echo "step bench: engine capacity $CAP req/s; per client $LOW/s for 10 s, $HIGH/s for 20 s," \
	"$LOW/s for 10 s; scenarios: ${SCENARIOS[*]}" >&2
calibrate
i=0
for sc in "${SCENARIOS[@]}"; do
	case "$sc" in none | static | engine | headroom | inflight | latency) ;; *)
		echo "step bench: unknown scenario $sc" >&2
		exit 2
		;;
	esac
	i=$((i + 1))
	echo "step bench: scenario $sc" >&2
	run_scenario "$i" "$sc"
done
"$PY" "$HERE/step_report.py" "$OUT" "$CAP" "${SCENARIOS[@]}"
