#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The protection bench (part of `make bench`): a real HTTP server under attack,
# end to end. nginx serves a 32 KB text file gzip'ed at level 9 on every
# request (a small CPU-bound handler: ~0.5 ms of CPU each). Legitimate
# clients (wrk, 8 keep-alive connections, 20 requests/s each, from one IPv4
# address) measure success and latency, while an abusive source (wrk, 64
# connections, a new connection per request, as fast as it is answered) and a
# spoofed SYN flood from 2^20 IPv6 sources (tests/bench/veth/vethgen, ~3 Mpps)
# attack from a second namespace. Scenarios, interleaved round by round:
#   baseline    no attack, no protection (the latency reference)
#   none        attack, no protection
#   limit_req   attack, nginx limit_req (200 requests/s per address, burst 200)
#   infergate   attack, infergate in XDP on both of the server's interfaces
#               (20 new connections/s per source, burst 40, reject; new
#               sources at most 200/s port-wide)
# Each tool is configured in its own unit (nginx limits requests, infergate
# connections); the abusive source is ~100x over infergate's limit.
# Then the keep-alive abuser (ka_*): one source on 64 keep-alive connections
# sending requests as fast as they are answered, no flood; both tools limit
# requests, 200/s per address, burst 200 (the legitimate clients send 160/s):
#   ka_none       no protection
#   ka_limit_req  nginx limit_req (429 from nginx)
#   ka_infergate  infergate --unit request --action reject in XDP (429 from
#                 the kernel; the server never sees a refused request)
# The nginx worker's CPU time over each run is read from /proc.
# Output: $BUILD/bench/protect.{md,csv}. Everything lives in namespaces made
# here and is removed on exit.
set -eEuo pipefail
build=${1:-build}
GEN=$build/tests/bench/vethgen
IG=$(cd "$build" && pwd)/infergate
OUT=$build/bench
ROUNDS=${IG_PROTECT_ROUNDS:-3}
DUR=${IG_PROTECT_SECONDS:-8}
# shellcheck disable=SC2206 # a list of words
SCENARIOS=(${IG_PROTECT_SCENARIOS:-baseline none limit_req infergate ka_none ka_limit_req ka_infergate})
# The generator and the abusive client stand for the attackers' machines: they
# get a CPU of their own (refused at once, the abusive client reconnects in a
# tight loop and would otherwise take the server's CPU time, which no real
# attacker can); server and legitimate clients run on the others. The receiving side of the flood (XDP
# or the stack) runs where the generator runs, as a NIC queue's interrupt would.
FLOOD_CPU=$(($(nproc) - 1))
HOST_CPUS=0-$((FLOOD_CPU > 0 ? FLOOD_CPU - 1 : 0))

[ "$(id -u)" -eq 0 ] || { echo "protect bench: needs root" >&2; exit 1; }
for t in nginx wrk taskset ethtool; do
	command -v "$t" >/dev/null || { echo "protect bench: $t missing (make deps installs it)" >&2; exit 1; }
done

S=igpb-s$$ C=igpb-c$$ A=igpb-a$$ VS=igpbs$$ VC=igpbc$$ VSA=igpbt$$ VA=igpba$$
PIN=/sys/fs/bpf/igpb-$$ TMP=$(mktemp -d)
PIDS=()
cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null
	for ns in "$S" "$C" "$A"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inS() { nsenter --net="/run/netns/$S" "$@"; }
inC() { nsenter --net="/run/netns/$C" "$@"; }
inA() { nsenter --net="/run/netns/$A" "$@"; }
wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || { echo "protect bench: timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}

ip netns add "$S"
ip netns add "$C"
ip netns add "$A"
ip link add "$VS" netns "$S" type veth peer name "$VC" netns "$C"
ip link add "$VSA" netns "$S" type veth peer name "$VA" netns "$A"
for ns in "$S" "$C" "$A"; do nsenter --net="/run/netns/$ns" ip link set lo up; done
inS ip addr add 198.18.200.1/24 dev "$VS"
inC ip addr add 198.18.200.2/24 dev "$VC"
inS ip -6 addr add fd00:f1::1/64 dev "$VSA" nodad
inA ip -6 addr add fd00:f1::2/64 dev "$VA" nodad
inS ip link set "$VS" up
inS ip link set "$VSA" up
inC ip link set "$VC" up
inA ip link set "$VA" up
# RSTs sent with XDP_TX reach the peers through GRO
inC ethtool -K "$VC" gro on >/dev/null
inA ethtool -K "$VA" gro on >/dev/null
link_up() { nsenter --net="/run/netns/$1" ip link show dev "$2" | grep LOWER_UP >/dev/null; }
for l in "$S $VS" "$S $VSA" "$C $VC" "$A $VA"; do
	# shellcheck disable=SC2086 # NS DEV
	wait_for 5 link_up $l
done
MAC=$(inS ip -br link show "$VSA" | awk '{print $3}')

mkdir -p "$TMP/www" "$OUT"
"$(command -v python3)" -c '
import random, sys
random.seed(7)
words = ["token", "model", "inference", "latency", "batch", "prompt", "cache", "gpu", "tensor",
         "stream", "decode", "kv", "attention", "layer", "weights", "shard"]
out = []
while sum(len(w) + 1 for w in out) < 32768:
    out.append(random.choice(words) + str(random.randint(0, 99999)))
open(sys.argv[1], "w").write(" ".join(out)[:32768])' "$TMP/www/index.txt"

write_nginx() { # LIMIT_REQ(0|1)
	local zone="" lim=""
	if [ "$1" = 1 ]; then
		zone="limit_req_zone \$binary_remote_addr zone=per:10m rate=200r/s; limit_req_status 429;"
		lim="limit_req zone=per burst=200 nodelay;"
	fi
	cat >"$TMP/nginx.conf" <<-EOF
	user root;
	worker_processes 1;
	pid $TMP/nginx.pid;
	error_log $TMP/nginx.err warn;
	events { worker_connections 4096; }
	http {
		access_log off;
		client_body_temp_path $TMP/body;
		proxy_temp_path $TMP/proxy;
		fastcgi_temp_path $TMP/fcgi;
		uwsgi_temp_path $TMP/uwsgi;
		scgi_temp_path $TMP/scgi;
		keepalive_requests 100000;
		$zone
		server {
			listen 8080 backlog=4096;
			listen [::]:8080 backlog=4096;
			root $TMP/www;
			location / {
				$lim
				default_type text/plain;
				gzip on;
				gzip_comp_level 9;
				gzip_min_length 0;
				gzip_types text/plain;
				try_files /index.txt =404;
			}
		}
	}
	EOF
}

start_nginx() { # LIMIT_REQ
	write_nginx "$1"
	inS taskset -c "$HOST_CPUS" nginx -c "$TMP/nginx.conf" -p "$TMP" -g 'daemon on;'
	wait_for 5 test -s "$TMP/nginx.pid"
	wait_for 5 inC curl -sf -o /dev/null http://198.18.200.1:8080/
}

stop_nginx() {
	local pid
	pid=$(cat "$TMP/nginx.pid")
	kill "$pid"
	wait_for 5 bash -c "! kill -0 $pid"
	rm -f "$TMP/nginx.pid"
}

cat >"$TMP/legit.lua" <<'EOF'
-- 20 requests/s per connection; a JSON line at the end
wrk.headers["Accept-Encoding"] = "gzip"
function delay() return 50 end
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('{"requests":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
		'"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n', summary.requests, e.connect,
		e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
		latency:percentile(99)))
end
EOF
cat >"$TMP/abuse.lua" <<'EOF'
wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["Connection"] = "close"
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('{"requests":%d,"connect":%d,"status":%d,"timeout":%d}\n',
		summary.requests, e.connect, e.status, e.timeout))
end
EOF
# the keep-alive abuser: as abuse.lua, without Connection: close (wrk
# reconnects when the server closes, as after a 429 from the kernel)
grep -v '"Connection"' "$TMP/abuse.lua" >"$TMP/abuse_ka.lua"

setup_infergate() { # SCENARIO
	inS "$IG" --pin-dir "$PIN" attach "$VS" --hook xdp --xdp-mode native >/dev/null
	inS "$IG" --pin-dir "$PIN" attach "$VSA" --hook xdp --xdp-mode native >/dev/null
	if [ "$1" = ka_infergate ]; then
		inS "$IG" --pin-dir "$PIN" limit 8080 --unit request --rate 200/s --burst 200 \
			--action reject >/dev/null
	else
		inS "$IG" --pin-dir "$PIN" limit 8080 --rate 20/s --burst 40 --action reject \
			--newcomer-rate 200/s --newcomer-burst 200 >/dev/null
	fi
}

# CPU time (ticks) of the nginx worker(s) so far
nginx_ticks() {
	local m w t=0
	m=$(cat "$TMP/nginx.pid")
	for w in $(cat "/proc/$m/task/$m/children" 2>/dev/null); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$w/stat")))
	done
	echo "$t"
}
teardown_infergate() {
	inS "$IG" --pin-dir "$PIN" detach "$VS" >/dev/null
	inS "$IG" --pin-dir "$PIN" detach "$VSA" --purge >/dev/null
}

run_scenario() { # ROUND SCENARIO
	local r=$1 sc=$2 attack=1 gen_pid="" ab_pid="" legit abuse t0 ticks refused
	[ "$sc" = baseline ] && attack=0
	case "$sc" in
	limit_req | ka_limit_req) start_nginx 1 ;;
	*) start_nginx 0 ;;
	esac
	case "$sc" in infergate | ka_infergate) setup_infergate "$sc" ;; esac
	t0=$(nginx_ticks)
	if [ "${sc#ka_}" != "$sc" ]; then
		attack=0
		inA taskset -c "$FLOOD_CPU" wrk -t1 -c64 -d"${DUR}s" --timeout 1s -s "$TMP/abuse_ka.lua" \
			"http://[fd00:f1::1]:8080/" >"$TMP/abuse.out" 2>&1 &
		ab_pid=$!
		PIDS+=("$ab_pid")
	fi
	if [ "$attack" = 1 ]; then
		inA timeout $((DUR + 10)) taskset -c "$FLOOD_CPU" "$GEN" gen "$VA" "$MAC" fd00:f1::1 8080 \
			1048576 fd00:bad::1:0 $((DUR * 5000000)) >"$TMP/gen.out" 2>&1 &
		gen_pid=$!
		PIDS+=("$gen_pid")
		inA taskset -c "$FLOOD_CPU" wrk -t1 -c64 -d"${DUR}s" --timeout 1s -s "$TMP/abuse.lua" \
			"http://[fd00:f1::1]:8080/" >"$TMP/abuse.out" 2>&1 &
		ab_pid=$!
		PIDS+=("$ab_pid")
	fi
	inC taskset -c "$HOST_CPUS" wrk -t1 -c8 -d"${DUR}s" --timeout 2s -s "$TMP/legit.lua" \
		http://198.18.200.1:8080/ >"$TMP/legit.out" 2>&1
	if [ -n "$ab_pid" ]; then
		wait "$ab_pid" || true
		kill "$gen_pid" 2>/dev/null || true
		wait "$gen_pid" 2>/dev/null || true
	fi
	legit=$(grep '^{' "$TMP/legit.out" | tail -n1)
	abuse=$( [ -n "$ab_pid" ] && grep '^{' "$TMP/abuse.out" | tail -n1 || echo '{}')
	[ -n "$legit" ] || { echo "protect bench: wrk gave no result:"; cat "$TMP/legit.out"; exit 1; } >&2
	ticks=$(($(nginx_ticks) - t0))
	# what the data path refused (the 429s, and past the reply budget, drops):
	# the abuser's attempts wrk does not count (each 429 closes its connection)
	refused=0
	if [ "$sc" = ka_infergate ]; then
		refused=$(inS "$IG" --pin-dir "$PIN" status --json | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["ports"] if p["port"] == 8080][0]["reasons"]
print("protect bench: ka_infergate:", {k: v for k, v in p.items() if v}, file=sys.stderr)
print(sum(p.get(k, 0) for k in ("reject_429", "drop_budget", "drop_limit", "drop_no_reply")))')
	fi
	case "$sc" in infergate | ka_infergate) teardown_infergate ;; esac
	stop_nginx
	python3 -c '
import json, sys
r, sc, legit, abuse, dur = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4] or "{}"), float(sys.argv[5])
fail = legit["connect"] + legit["read"] + legit["write"] + legit["status"] + legit["timeout"]
print("%s,%s,%d,%d,%d,%d,%d,%d,%d,%s,%s" % (r, sc, legit["requests"], fail, legit["p50_us"], legit["p90_us"],
      legit["p99_us"], abuse.get("requests", 0), abuse.get("requests", 0) - abuse.get("status", 0), sys.argv[6],
      sys.argv[7]))
' "$r" "$sc" "$legit" "$abuse" "$DUR" "$ticks" "$refused" >>"$csv"
}

csv=$OUT/protect.csv
echo "round,scenario,legit_requests,legit_failed,p50_us,p90_us,p99_us,abusive_requests,abusive_2xx,nginx_ticks,kernel_refused" >"$csv"
echo "protect bench: ${#SCENARIOS[@]} scenarios x $ROUNDS rounds x ${DUR} s" >&2
for ((r = 1; r <= ROUNDS; r++)); do
	for sc in "${SCENARIOS[@]}"; do
		run_scenario "$r" "$sc"
	done
	echo "protect bench: round $r/$ROUNDS done" >&2
done
python3 "$(dirname "$0")/protect_report.py" "$csv" "$OUT/protect.md" "$DUR"
