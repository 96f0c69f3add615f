#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The agent's Prometheus endpoint: the exposition passes `promtool check
# metrics`, its numbers agree with `infergate status`, and a real Prometheus
# (Debian's) scrapes it and answers queries. All of it inside the server
# namespace: its own loopback, nothing on the machine's.
. "$(dirname "$0")/../lib/netns.sh"

METRICS=127.0.0.1:9464

scrape() { ig_srv curl -q -s --noproxy '*' -m 5 "http://$METRICS/metrics"; }

scrape_has() { local out; out=$(scrape) && grep -q -- "$1" <<<"$out"; }

# The value of one exposition line (exact metric{labels}).
metric() { # FILE SERIES
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' "$1"
}

t_metrics_promtool_and_status_agree() {
	local admitted rejected
	command -v promtool >/dev/null || ig_skip "promtool not installed (Debian package prometheus)"
	ig_make_pair
	ig_start_backend primary 8000
	ig_start_backend fallback 8001
	cat >"$IG_TMP/agent.conf" <<-CONF
	[agent]
	interface = $VS
	tick = 50ms
	metrics = $METRICS
	[port 8000]
	rate = 2/s
	burst = 5
	action = reject
	fallback = 8001
	health_url = http://127.0.0.1:8000/health
	probe_interval = 200ms
	probe_timeout = 200ms
	CONF
	ig_start_agent
	ig_curl_run 12 "http://$S4:8000/" 2
	echo "clients: $(ig_curl_summary)"
	ig_wait_for 5 "a probe result" \
		scrape_has 'infergate_health_probes_total{port="8000",result="success"} [1-9]'

	scrape >"$IG_TMP/metrics.txt"
	promtool check metrics <"$IG_TMP/metrics.txt" || ig_fail "promtool check metrics failed"
	admitted=$(metric "$IG_TMP/metrics.txt" 'infergate_packets_total{port="8000",proto="tcp",reason="admitted"}')
	rejected=$(metric "$IG_TMP/metrics.txt" 'infergate_packets_total{port="8000",proto="tcp",reason="reject"}')
	ig_assert_eq "$admitted" "$(ig_json 'reason(8000,"tcp","admitted")')" "admitted: metrics vs status"
	ig_assert_eq "$rejected" "$(ig_json 'reason(8000,"tcp","reject")')" "rejected: metrics vs status"
	ig_assert_eq "$((admitted + rejected))" 12 "every connection attempt counted once"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" 'infergate_breaker_state{port="8000",state="closed"}')" 1 \
		"breaker closed"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" 'infergate_backend_responses_total{port="8000",class="2xx"}')" \
		"$CURL_OK" "2xx answers counted by the egress program"
	metric "$IG_TMP/metrics.txt" 'infergate_tracked_sources' >/dev/null || ig_fail "no tracked sources"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" 'infergate_flow_table_capacity')" 262144 "flow table size"
	ig_assert_eq "$(metric "$IG_TMP/metrics.txt" 'infergate_flow_entries')" "$(ig_json 'j["flow_entries"]')" \
		"flow entries: metrics vs status"

	# a forced state shows, and the same scrape still passes promtool
	ig breaker 8000 open
	scrape >"$IG_TMP/metrics2.txt"
	promtool check metrics <"$IG_TMP/metrics2.txt" || ig_fail "promtool (forced) failed"
	ig_assert_eq "$(metric "$IG_TMP/metrics2.txt" 'infergate_breaker_forced{port="8000"}')" 1 "forced"
	ig_assert_eq "$(metric "$IG_TMP/metrics2.txt" 'infergate_breaker_state{port="8000",state="open"}')" 1 \
		"forced open shows as open"
	ig_assert_eq "$(ig_srv curl -q -s -o /dev/null -w '%{http_code}' "http://$METRICS/nope")" 404 "other paths"
}

prom_query() { # EXPR -> the first result's value, or nothing
	ig_srv curl -q -s --noproxy '*' -m 5 -G "http://127.0.0.1:9090/api/v1/query" \
		--data-urlencode "query=$1" | "$IG_PY" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

prom_has() { [ "$(prom_query "$1")" = "$2" ]; }

t_prometheus_scrapes_the_agent() {
	command -v prometheus >/dev/null || ig_skip "prometheus not installed (Debian package prometheus)"
	ig_make_pair
	ig_start_backend primary 8000
	cat >"$IG_TMP/agent.conf" <<-CONF
	[agent]
	interface = $VS
	metrics = $METRICS
	[port 8000]
	rate = 100/s
	fallback = 8001
	CONF
	ig_start_agent
	ig_curl_run 7 "http://$S4:8000/" 2
	ig_assert_eq "$CURL_OK" 7 "requests served"

	cat >"$IG_TMP/prometheus.yml" <<-CONF
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: infergate
	    static_configs:
	      - targets: ['$METRICS']
	CONF
	nsenter --net="/run/netns/$SRV" prometheus --config.file="$IG_TMP/prometheus.yml" \
		--storage.tsdb.path="$IG_TMP/prom" --web.listen-address=127.0.0.1:9090 \
		>"$IG_TMP/prometheus.log" 2>&1 &
	IG_PIDS+=($!)
	ig_wait_for 30 "prometheus to be ready" ig_srv curl -q -sf -m 2 http://127.0.0.1:9090/-/ready
	ig_wait_for 30 "prometheus to scrape the agent" prom_has 'up{job="infergate"}' 1
	ig_wait_for 10 "the admitted count in prometheus" \
		prom_has 'infergate_packets_total{port="8000",reason="admitted"}' 7
	ig_assert_eq "$(prom_query 'sum(infergate_breaker_state{port="8000",state="closed"})')" 1 \
		"breaker state via PromQL"
}

run_test metrics-promtool-and-status-agree t_metrics_promtool_and_status_agree
run_test prometheus-scrapes-the-agent t_prometheus_scrapes_the_agent
