// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stddef.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "agent/metrics.h"
#include "pure/timing.h"
#include "lib/adaptive_cfg.h"
#include "agent/fleet.h"
#include "lib/tiers.h"
#include "lib/tokens.h"
#include "lib/args.h"
#include "lib/breakers.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/policy.h"
#include "lib/status.h"
#include "pure/steer.h"
#include "agent/top.h"

#define IG_METRICS_MAX_PORTS 1024

struct port_counts {
	__u16 port;
	__u64 transitions[IG_CAUSE_MAX];
	__u64 probes[2]; /* failure, success */
};

struct ig_metrics {
	struct MHD_Daemon *daemon;
	const struct ig_instance *in;
	pthread_mutex_t lock;
	struct ig_top *top;
	int nports;
	struct port_counts ports[IG_METRICS_MAX_PORTS];
	int has_fleet;
	struct ig_fleet_stats fleet;
};

/* The states each cause moves between (a cause implies both). */
static const enum ig_brk_state cause_from[IG_CAUSE_MAX] = {
	[IG_CAUSE_FAILURE_RATE] = IG_BRK_CLOSED, [IG_CAUSE_PROBES] = IG_BRK_CLOSED,
	[IG_CAUSE_OPEN_ELAPSED] = IG_BRK_OPEN, [IG_CAUSE_RECOVERED] = IG_BRK_HALF_OPEN,
	[IG_CAUSE_RELAPSED] = IG_BRK_HALF_OPEN, [IG_CAUSE_SLOW_CALLS] = IG_BRK_CLOSED,
};
static const enum ig_brk_state cause_to[IG_CAUSE_MAX] = {
	[IG_CAUSE_FAILURE_RATE] = IG_BRK_OPEN, [IG_CAUSE_PROBES] = IG_BRK_OPEN,
	[IG_CAUSE_OPEN_ELAPSED] = IG_BRK_HALF_OPEN, [IG_CAUSE_RECOVERED] = IG_BRK_CLOSED,
	[IG_CAUSE_RELAPSED] = IG_BRK_OPEN, [IG_CAUSE_SLOW_CALLS] = IG_BRK_OPEN,
};

/* The counters of `port`, made on first use; NULL when the table is full. */
static struct port_counts *counts_of(struct ig_metrics *m, __u16 port)
{
	for (int i = 0; i < m->nports; i++)
		if (m->ports[i].port == port)
			return &m->ports[i];
	if (m->nports == IG_METRICS_MAX_PORTS)
		return NULL;
	memset(&m->ports[m->nports], 0, sizeof(m->ports[0]));
	m->ports[m->nports].port = port;
	return &m->ports[m->nports++];
}

void ig_metrics_set_top(struct ig_metrics *m, struct ig_top *top)
{
	if (m)
		m->top = top; /* set before any scrape can want it: at start */
}

void ig_metrics_fleet(struct ig_metrics *m, const struct ig_fleet_stats *st)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->has_fleet = 1;
	m->fleet = *st;
	pthread_mutex_unlock(&m->lock);
}

void ig_metrics_watch(struct ig_metrics *m, __u16 port)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	counts_of(m, port);
	pthread_mutex_unlock(&m->lock);
}

void ig_metrics_transition(struct ig_metrics *m, __u16 port, enum ig_fsm_cause cause)
{
	struct port_counts *c;

	if (!m || (unsigned)cause >= IG_CAUSE_MAX)
		return;
	pthread_mutex_lock(&m->lock);
	c = counts_of(m, port);
	if (c)
		c->transitions[cause]++;
	pthread_mutex_unlock(&m->lock);
}

void ig_metrics_probe(struct ig_metrics *m, __u16 port, int success)
{
	struct port_counts *c;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	c = counts_of(m, port);
	if (c)
		c->probes[!!success]++;
	pthread_mutex_unlock(&m->lock);
}

static void head(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}


/* One Prometheus histogram per timed port: cumulative buckets in seconds. */
static void render_histogram(FILE *o, const char *name, const struct ig_port_row *r,
			     const __u64 *b, __u64 sum_ns)
{
	__u64 cum = 0;

	for (__u32 k = 0; k < IG_TIME_BUCKETS; k++) {
		cum += b[k];
		if (k + 1 < IG_TIME_BUCKETS)
			fprintf(o, "%s_bucket{port=\"%u\",proto=\"%s\",le=\"%g\"} %llu\n", name,
				r->port, ig_proto_name(r->proto), (double)ig_time_le_ms(k) / 1e3,
				(unsigned long long)cum);
		else
			fprintf(o, "%s_bucket{port=\"%u\",proto=\"%s\",le=\"+Inf\"} %llu\n", name,
				r->port, ig_proto_name(r->proto), (unsigned long long)cum);
	}
	fprintf(o, "%s_sum{port=\"%u\",proto=\"%s\"} %.6f\n", name, r->port,
		ig_proto_name(r->proto), (double)sum_ns / 1e9);
	fprintf(o, "%s_count{port=\"%u\",proto=\"%s\"} %llu\n", name, r->port,
		ig_proto_name(r->proto), (unsigned long long)cum);
}

/* Response times of the timed ports, measured by the kernel (issue 15). */
static void render_timing(FILE *o, const struct ig_port_row *rows, int n)
{
	static const struct {
		const char *name, *help;
		size_t buckets, sum; /* offsets in struct ig_timing */
	} h[] = {
		{ "infergate_time_to_first_token_seconds",
		  "From a request's arrival to its response's first event (streams) or first byte, measured in the kernel (1/HZ resolution).",
		  offsetof(struct ig_timing, ttft), offsetof(struct ig_timing, ttft_sum_ns) },
		{ "infergate_request_duration_seconds",
		  "From a request's arrival to its response's last byte where the framing says where that is, measured in the kernel.",
		  offsetof(struct ig_timing, dur), offsetof(struct ig_timing, dur_sum_ns) },
	};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		head(o, h[i].name, "histogram", h[i].help);
		for (int k = 0; k < n; k++) {
			const char *t = (const char *)&rows[k].tm;

			if (rows[k].pol.flags & IG_POL_F_TIMED)
				render_histogram(o, h[i].name, &rows[k], (const __u64 *)(t + h[i].buckets),
						 *(const __u64 *)(t + h[i].sum));
		}
	}
	head(o, "infergate_slow_calls_total", "counter",
	     "Responses of a port with a slow-call breaker rule that took slow_call_duration or more.");
	for (int k = 0; k < n; k++)
		if (rows[k].pol.flags & IG_POL_F_TIMED)
			fprintf(o, "infergate_slow_calls_total{port=\"%u\",proto=\"%s\"} %llu\n",
				rows[k].port, ig_proto_name(rows[k].proto),
				(unsigned long long)rows[k].tm.slow);
}

/* Adaptive admission (issue 15): the rate it set and what it set it from. */
static void render_adaptive(FILE *o, const struct ig_port_row *rows, int n)
{
	static const struct {
		const char *name, *help;
		size_t off;
		double scale;
	} g[] = {
		{ "infergate_adaptive_rate", "Port rate adaptive admission set, units per second.",
		  offsetof(struct ig_adaptive, rate), 0 },
		{ "infergate_adaptive_static_rate", "The configured port rate it falls back to.",
		  offsetof(struct ig_adaptive, static_rate), 0 },
		{ "infergate_adaptive_queue", "The engine's waiting requests at the last decision.",
		  offsetof(struct ig_adaptive, queue_milli), 1e3 },
		{ "infergate_adaptive_running", "The engine's running requests at the last decision.",
		  offsetof(struct ig_adaptive, running_milli), 1e3 },
		{ "infergate_adaptive_kv_cache", "The engine's KV-cache use (0..1) at the last decision.",
		  offsetof(struct ig_adaptive, kv_milli), 1e3 },
		{ "infergate_adaptive_capacity", "The engine's capacity estimated for adaptive_headroom, "
		  "requests per second (0: not known).", offsetof(struct ig_adaptive, capacity_milli), 1e3 },
		{ "infergate_adaptive_ttft_p99_seconds", "Kernel-measured TTFT p99 over the last interval.",
		  offsetof(struct ig_adaptive, ttft_p99_us), 1e6 },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		head(o, g[i].name, "gauge", g[i].help);
		for (int k = 0; k < n; k++) {
			const char *f = (const char *)&rows[k].ad + g[i].off;
			double v = g[i].scale ? *(const __u32 *)f / g[i].scale
					      : (double)*(const __u64 *)f;

			if (rows[k].ad.mode != IG_AD_OFF)
				fprintf(o, "%s{port=\"%u\",proto=\"%s\"} %g\n", g[i].name, rows[k].port,
					ig_proto_name(rows[k].proto), v);
		}
	}
	head(o, "infergate_adaptive_state", "gauge",
	     "1 for the state adaptive admission is in (tracking, frozen: inputs older than 1 s, static: older than 5 s or none).");
	for (int k = 0; k < n; k++)
		for (int s = 0; rows[k].ad.mode != IG_AD_OFF && s < IG_AS_STATE_MAX; s++)
			fprintf(o, "infergate_adaptive_state{port=\"%u\",proto=\"%s\",mode=\"%s\",state=\"%s\"} %d\n",
				rows[k].port, ig_proto_name(rows[k].proto),
				ig_adaptive_mode_name(rows[k].ad.mode),
				ig_adaptive_state_name((enum ig_adaptive_state)s), rows[k].ad.state == (__u32)s);
}

static int render_ports(struct ig_metrics *m, FILE *o)
{
	struct ig_port_row *rows = NULL;
	struct ig_stats other;
	__u64 exhausted = 0;
	int n = 0, err;

	err = ig_ports_read(m->in, &rows, &n);
	if (!err)
		err = ig_stats_read(m->in, 0, &other);
	if (err)
		goto out;
	for (int k = 0; k < n; k++)
		exhausted += rows[k].st.packets[IG_R_DROP_BUDGET];
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "infergate_bytes_total" : "infergate_packets_total";

		head(o, name, "counter", bytes ?
		     "Bytes (from the Ethernet header) the ingress data path saw on a limited port, by reason." :
		     "Packets the ingress data path saw on a limited port, by reason.");
		for (int k = 0; k < n; k++)
			for (int r = 0; r < IG_R_MAX; r++)
				fprintf(o, "%s{port=\"%u\",proto=\"%s\",reason=\"%s\"} %llu\n", name,
					rows[k].port, ig_proto_name(rows[k].proto),
					ig_reason_name((enum ig_reason)r),
					(unsigned long long)(bytes ? rows[k].st.bytes[r] :
								     rows[k].st.packets[r]));
	}
	head(o, "infergate_other_packets_total", "counter",
	     "Packets for no limited port (breaker ports without a limit included), by reason.");
	for (int r = 0; r < IG_R_MAX; r++)
		if (other.packets[r] || r <= IG_R_PASS_FRAGMENT)
			fprintf(o, "infergate_other_packets_total{reason=\"%s\"} %llu\n",
				ig_reason_name((enum ig_reason)r), (unsigned long long)other.packets[r]);
	head(o, "infergate_port_rate", "gauge",
	     "Configured limit per source: units per period_seconds, as written (rate=\"3/min\").");
	for (int k = 0; k < n; k++)
		fprintf(o, "infergate_port_rate{port=\"%u\",proto=\"%s\",unit=\"%s\",period_seconds=\"%llu\","
			   "rate=\"%s\"} %llu\n",
			rows[k].port, ig_proto_name(rows[k].proto), ig_unit_name(rows[k].pol.unit),
			(unsigned long long)ig_rate_period(rows[k].pol.rate, 1),
			ig_rate_s(rows[k].pol.rate), (unsigned long long)ig_rate_n(rows[k].pol.rate));
	head(o, "infergate_refused_by_level_total", "counter",
	     "Units refused per fair-share level (dry_run=\"true\": would have been refused).");
	for (int k = 0; k < n; k++)
		for (int l = 0; l < IG_L_MAX; l++)
			if (rows[k].ls.refused[l] || l == IG_L_SOURCE)
				fprintf(o, "infergate_refused_by_level_total{port=\"%u\",proto=\"%s\","
					   "level=\"%s\",dry_run=\"%s\"} %llu\n", rows[k].port,
					ig_proto_name(rows[k].proto), ig_level_name((enum ig_level)l),
					rows[k].pol.flags & IG_POL_F_DRY_RUN ? "true" : "false",
					(unsigned long long)rows[k].ls.refused[l]);
	if (!ig_tokens_count(m->in, rows, n)) {
		head(o, "infergate_token_debtors", "gauge",
		     "Clients of a port with a token budget whose new connections are refused (in debt).");
		for (int k = 0; k < n; k++)
			if (rows[k].lim.tokens_per_min)
				fprintf(o, "infergate_token_debtors{port=\"%u\",proto=\"%s\"} %llu\n",
					rows[k].port, ig_proto_name(rows[k].proto),
					(unsigned long long)rows[k].token_debtors);
	}
	/* every rule of every token port, zeros too: a port that changes rule
	 * keeps its series (each rule's count stays) */
	for (int tokens = 0; tokens < 2; tokens++) {
		const char *name = tokens ? "infergate_tokens_charged_total" :
					    "infergate_token_responses_total";

		head(o, name, "counter", tokens ?
		     "LLM tokens the replies of a port with a token budget finally cost, by the rule that counted them (counted when a reply ends, its usage's correction included)." :
		     "Replies of a port with a token budget whose count ended, by the rule that counted them.");
		for (int k = 0; k < n; k++)
			for (int c = 0; rows[k].lim.tokens_per_min && c < IG_TC_MAX; c++)
				fprintf(o, "%s{port=\"%u\",proto=\"%s\",rule=\"%s\"} %llu\n", name,
					rows[k].port, ig_proto_name(rows[k].proto),
					ig_token_count_name((enum ig_token_count)c),
					(unsigned long long)(tokens ? rows[k].tr.tokens[c] :
								      rows[k].tr.responses[c]));
	}
	render_timing(o, rows, n);
	render_adaptive(o, rows, n);
	{
		int tiers = ig_tiers_count(m->in);

		head(o, "infergate_tier_prefixes", "gauge", "Prefixes in the tier trie.");
		fprintf(o, "infergate_tier_prefixes %d\n", tiers > 0 ? tiers : 0);
	}
	head(o, "infergate_reject_budget_exhausted_total", "counter",
	     "Over-limit packets that wanted a reply (RST, ICMP) when the host-wide budget was spent.");
	fprintf(o, "infergate_reject_budget_exhausted_total %llu\n", (unsigned long long)exhausted);
out:
	free(rows);
	return err;
}

static int render_breakers(struct ig_metrics *m, FILE *o)
{
	__u16 *ports = calloc(65536, sizeof(*ports));
	struct ig_breaker *b = NULL;
	struct ig_health *h = NULL;
	int n, err = 0;

	if (!ports)
		return -ENOMEM;
	n = ig_breaker_list(m->in, ports, 65536);
	if (n < 0) {
		err = n;
		goto out;
	}
	b = calloc((size_t)n + 1, sizeof(*b));
	h = calloc((size_t)n + 1, sizeof(*h));
	if (!b || !h) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n && !err; i++) {
		err = ig_breaker_get(m->in, ports[i], &b[i]);
		if (!err)
			err = ig_health_read(m->in, ports[i], &h[i]);
	}
	if (err)
		goto out;
	head(o, "infergate_breaker_state", "gauge",
	     "1 for the state the data path obeys (forced or the agent's), 0 for the others.");
	for (int i = 0; i < n; i++)
		for (int s = 0; s < IG_BRK_STATE_MAX; s++)
			fprintf(o, "infergate_breaker_state{port=\"%u\",state=\"%s\"} %d\n", ports[i],
				ig_brk_state_name((enum ig_brk_state)s),
				ig_brk_effective(&b[i]) == (enum ig_brk_state)s);
	head(o, "infergate_breaker_forced", "gauge", "1 while an operator forces the breaker's state.");
	for (int i = 0; i < n; i++)
		fprintf(o, "infergate_breaker_forced{port=\"%u\"} %d\n", ports[i],
			b[i].force != IG_FORCE_AUTO);
	head(o, "infergate_backend_responses_total", "counter",
	     "HTTP/1.x status lines the primary sent, by class (passive health).");
	for (int i = 0; i < n; i++)
		for (int c = 0; c < IG_HTTP_MAX; c++)
			fprintf(o, "infergate_backend_responses_total{port=\"%u\",class=\"%s\"} %llu\n",
				ports[i], ig_http_class_name((enum ig_http_class)c), (unsigned long long)h[i].http[c]);
	head(o, "infergate_backend_resets_total", "counter",
	     "TCP RSTs the primary sent (refused or aborted connections).");
	for (int i = 0; i < n; i++)
		fprintf(o, "infergate_backend_resets_total{port=\"%u\"} %llu\n", ports[i],
			(unsigned long long)h[i].rst);
	head(o, "infergate_breaker_connections_total", "counter",
	     "New connections to a breaker port, by where they were sent.");
	for (int i = 0; i < n; i++)
		for (int r = 0; r < IG_ROUTE_MAX; r++)
			fprintf(o, "infergate_breaker_connections_total{port=\"%u\",route=\"%s\"} %llu\n",
				ports[i], ig_route_name((enum ig_route)r), (unsigned long long)h[i].conns[r]);
	head(o, "infergate_breaker_refused_total", "counter",
	     "New connections refused with a RST (open, no fallback).");
	for (int i = 0; i < n; i++)
		fprintf(o, "infergate_breaker_refused_total{port=\"%u\"} %llu\n", ports[i],
			(unsigned long long)h[i].refused);
out:
	free(h);
	free(b);
	free(ports);
	return err;
}

static void render_agent(struct ig_metrics *m, FILE *o)
{
	pthread_mutex_lock(&m->lock);
	head(o, "infergate_breaker_transitions_total", "counter",
	     "State changes the agent made, by cause.");
	for (int i = 0; i < m->nports; i++)
		for (int c = 0; c < IG_CAUSE_MAX; c++)
			fprintf(o, "infergate_breaker_transitions_total{port=\"%u\",from=\"%s\",to=\"%s\","
				   "cause=\"%s\"} %llu\n", m->ports[i].port,
				ig_brk_state_name(cause_from[c]), ig_brk_state_name(cause_to[c]),
				ig_fsm_cause_name((enum ig_fsm_cause)c),
				(unsigned long long)m->ports[i].transitions[c]);
	head(o, "infergate_health_probes_total", "counter", "Active health probes, by result.");
	for (int i = 0; i < m->nports; i++)
		for (int r = 0; r < 2; r++)
			fprintf(o, "infergate_health_probes_total{port=\"%u\",result=\"%s\"} %llu\n",
				m->ports[i].port, r ? "success" : "failure",
				(unsigned long long)m->ports[i].probes[r]);
	if (m->has_fleet) {
		const struct ig_fleet_stats *f = &m->fleet;

		const struct {
			const char *name, *type, *help;
			double v;
		} rows[] = {
			{ "infergate_fleet_up", "gauge",
			  "1 while Redis answers; 0: local limits only, reconnecting.", f->up },
			{ "infergate_fleet_syncs_total", "counter", "Completed syncs with Redis.",
			  (double)f->syncs },
			{ "infergate_fleet_errors_total", "counter", "Failed syncs and connects.",
			  (double)f->errors },
			{ "infergate_fleet_sent_bytes_total", "counter",
			  "Bytes of requests sent to Redis.", (double)f->bytes_sent },
			{ "infergate_fleet_blocks_total", "counter",
			  "Times a source was blocked for being over its fleet budget.",
			  (double)f->blocks },
			{ "infergate_fleet_sync_seconds", "gauge", "How long the last sync took.",
			  (double)f->last_sync_us / 1e6 },
		};

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			head(o, rows[i].name, rows[i].type, rows[i].help);
			fprintf(o, "%s %.17g\n", rows[i].name, rows[i].v);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

int ig_metrics_render(struct ig_metrics *m, FILE *o)
{
	__u64 tracked = 0;
	int err;

	head(o, "infergate_build_info", "gauge", "The agent's version.");
	fprintf(o, "infergate_build_info{version=\"%s\"} 1\n", IG_VERSION);
	err = render_ports(m, o);
	if (!err)
		err = render_breakers(m, o);
	if (!err)
		err = ig_sources_count(m->in, NULL, &tracked);
	if (err)
		return err;
	head(o, "infergate_tracked_sources", "gauge",
	     "(source, port) pairs holding bucket state in the source table.");
	fprintf(o, "infergate_tracked_sources %llu\n", (unsigned long long)tracked);
	head(o, "infergate_source_table_capacity", "gauge", "Ways of the source table.");
	fprintf(o, "infergate_source_table_capacity %llu\n",
		(unsigned long long)m->in->max_sources);
	err = ig_flows_count(m->in, &tracked);
	if (err)
		return err;
	head(o, "infergate_flow_entries", "gauge",
	     "Entries of the breakers' flow table (a steered connection has two).");
	fprintf(o, "infergate_flow_entries %llu\n", (unsigned long long)tracked);
	head(o, "infergate_flow_table_capacity", "gauge", "Entries the flow table holds (LRU).");
	fprintf(o, "infergate_flow_table_capacity %u\n", m->in->max_flows);
	render_agent(m, o);
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int code, const char *type,
			       char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **req)
{
	struct ig_metrics *m = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *o;
	int err;

	(void)version;
	(void)data;
	(void)data_len;
	(void)req;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			       strdup("GET /metrics\n"), 13);
	if (m->top && (!strcmp(url, "/top") || !strcmp(url, "/top.json"))) {
		const char *nv = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
		int n = nv ? atoi(nv) : 10, json = !strcmp(url, "/top.json");

		o = open_memstream(&body, &len);
		if (!o)
			return MHD_NO;
		err = ig_top_render(m->top, n > 0 && n <= 1000 ? n : 10, json, o);
		fclose(o);
		if (err) {
			free(body);
			body = strdup("infergate: cannot read the pinned maps\n");
			return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", body,
				       body ? strlen(body) : 0);
		}
		return respond(c, MHD_HTTP_OK, json ? "application/json" : "text/plain", body, len);
	}
	if (strcmp(url, "/metrics")) {
		body = strdup("infergate: metrics are at /metrics, top sources at /top\n");
		return respond(c, strcmp(url, "/") ? MHD_HTTP_NOT_FOUND : MHD_HTTP_OK, "text/plain",
			       body, body ? strlen(body) : 0);
	}
	o = open_memstream(&body, &len);
	if (!o)
		return MHD_NO;
	err = ig_metrics_render(m, o);
	fclose(o);
	if (err) {
		free(body);
		body = strdup("infergate: cannot read the pinned maps\n");
		return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", body,
			       body ? strlen(body) : 0);
	}
	return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len);
}

int ig_metrics_parse_addr(const char *addr, void *ss_out, unsigned int *len)
{
	struct sockaddr_storage *ss = ss_out;
	char host[64];
	const char *colon;
	__u64 port;
	char m[256];
	int bad;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	ig_args_capture(m, sizeof(m));
	bad = ig_parse_count(colon + 1, "port", 1, 65535, &port);
	ig_args_capture(NULL, 0);
	if (bad)
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		size_t hl = strlen(host);

		if (hl < 3 || host[hl - 1] != ']')
			return -EINVAL;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((__u16)port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((__u16)port);
		*len = sizeof(*s4);
	}
	return 0;
}

int ig_metrics_start(struct ig_metrics **out, const char *addr, const struct ig_instance *in)
{
	struct sockaddr_storage ss;
	struct ig_metrics *m;
	unsigned int len, flags = MHD_USE_INTERNAL_POLLING_THREAD;

	if (ig_metrics_parse_addr(addr, &ss, &len)) {
		ig_err("invalid metrics address '%s': expected HOST:PORT (IPv4 or [IPv6])", addr);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->in = in;
	pthread_mutex_init(&m->lock, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)10, MHD_OPTION_END);
	if (!m->daemon) {
		ig_err("cannot serve metrics on %s (address in use, or not an address of this host?)",
		       addr);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -EADDRNOTAVAIL;
	}
	ig_info("metrics on http://%s/metrics", addr);
	*out = m;
	return 0;
}

void ig_metrics_stop(struct ig_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->daemon);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
