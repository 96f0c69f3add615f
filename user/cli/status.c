// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* status (this instance, or the fleet's nodes) and top (from the agent). */
#include <errno.h>
#include <stdlib.h>
#include "cli/cli.h"
#include "agent/fleet.h"
#include "agent/metrics.h"
#include "lib/algo.h"
#include "lib/args.h"
#include "lib/breakers.h"
#include "lib/cfgread.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/keys.h"
#include "lib/levels.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/proxy.h"
#include "lib/status.h"
#include "lib/timing.h"
#include "lib/adaptive_cfg.h"
#include <time.h>
#include "pure/timing.h"

#define IG_MAX_ATTACHMENTS 64

/* What status shows, read once. */
struct status {
	struct ig_instance in;
	struct ig_attachment att[IG_MAX_ATTACHMENTS];
	int natt;
	struct ig_globals g;
	struct ig_port_row *rows;
	int nrows;
	struct ig_stats other; /* slot 0: traffic for no limited port */
	__u64 tracked, flows;
	__u32 clock;
	int nkeys;                /* in `keys`; -1: an instance older than the map */
	struct ig_lpm_key *proxy; /* `proxy_from` */
	int nproxy;
};

struct totals {
	__u64 pkts, bytes;
};

static struct totals sum_reasons(const struct ig_stats *st, enum ig_verdict verdict)
{
	struct totals t = {};

	for (int r = 0; r < IG_R_MAX; r++) {
		if (ig_reason_verdict((enum ig_reason)r) == verdict) {
			t.pkts += st->packets[r];
			t.bytes += st->bytes[r];
		}
	}
	return t;
}

static void json_totals(struct ig_json *j, const char *name, struct totals t)
{
	ig_json_key(j, name);
	ig_json_obj_open(j);
	ig_json_ku64(j, "packets", t.pkts);
	ig_json_ku64(j, "bytes", t.bytes);
	ig_json_obj_close(j);
}


static void json_levels(struct ig_json *j, const struct ig_port_row *r)
{
	const struct ig_limits *l = &r->lim;

	ig_json_key(j, "levels");
	ig_json_obj_open(j);
	ig_json_rate(j, "prefix_rate", l->prefix_rate, 1);
	ig_json_ku64(j, "prefix_burst", l->prefix_burst);
	ig_json_key(j, "prefix_len");
	ig_json_arr_open(j);
	ig_json_u64(j, l->prefix_v4 ? l->prefix_v4 : IG_DEFAULT_PREFIX_V4);
	ig_json_u64(j, l->prefix_v6 ? l->prefix_v6 : IG_DEFAULT_PREFIX_V6);
	ig_json_arr_close(j);
	ig_json_rate(j, "port_rate", l->port_rate, 1);
	ig_json_ku64(j, "port_burst", l->port_burst);
	ig_json_rate(j, "newcomer_rate", l->newcomer_rate, 1);
	ig_json_ku64(j, "newcomer_burst", l->newcomer_burst);
	ig_json_ku64(j, "max_conns", l->max_conns);
	/* a minute's worth, as before; `tokens` is the budget as written */
	ig_json_ku64(j, "tokens_per_minute",
		     ig_rate_n(l->tokens_per_min) * 60 /
			     ig_rate_period(l->tokens_per_min, IG_TOKEN_PERIOD_S));
	ig_json_rate(j, "tokens", l->tokens_per_min, IG_TOKEN_PERIOD_S);
	ig_json_kstr(j, "token_count", ig_token_count_name(ig_token_count_of(r->pol.flags)));
	ig_json_ku64(j, "bytes_per_token",
		     l->bytes_per_token ? l->bytes_per_token : IG_DEFAULT_BYTES_PER_TOKEN);
	ig_json_kbool(j, "fleet", r->pol.flags & IG_POL_F_FLEET);
	ig_json_obj_close(j);
}

/* One histogram: count, mean, p50/p90/p99 in seconds, and the buckets. */
static void json_histogram(struct ig_json *j, const char *key, const __u64 *b, __u64 sum_ns)
{
	__u64 n = ig_timing_count(b);

	ig_json_key(j, key);
	ig_json_obj_open(j);
	ig_json_ku64(j, "count", n);
	ig_json_kdouble(j, "sum_seconds", (double)sum_ns / 1e9);
	ig_json_kdouble(j, "p50_seconds", ig_time_quantile_ms(b, 0.5) / 1e3);
	ig_json_kdouble(j, "p90_seconds", ig_time_quantile_ms(b, 0.9) / 1e3);
	ig_json_kdouble(j, "p99_seconds", ig_time_quantile_ms(b, 0.99) / 1e3);
	/* by upper bound in ms, not cumulative; "inf" the rest */
	ig_json_key(j, "buckets_ms");
	ig_json_obj_open(j);
	for (__u32 k = 0; k < IG_TIME_BUCKETS; k++) {
		char le[24];

		if (k + 1 < IG_TIME_BUCKETS)
			snprintf(le, sizeof(le), "%llu", (unsigned long long)ig_time_le_ms(k));
		else
			snprintf(le, sizeof(le), "inf");
		ig_json_ku64(j, le, b[k]);
	}
	ig_json_obj_close(j);
	ig_json_obj_close(j);
}

/* Response times, on a timed port (issue 15). */
static void json_timing(struct ig_json *j, const struct ig_port_row *r)
{
	ig_json_kbool(j, "timed", !!(r->pol.flags & IG_POL_F_TIMED));
	ig_json_key(j, "timing");
	ig_json_obj_open(j);
	json_histogram(j, "time_to_first_token", r->tm.ttft, r->tm.ttft_sum_ns);
	json_histogram(j, "request_duration", r->tm.dur, r->tm.dur_sum_ns);
	ig_json_ku64(j, "slow_calls", r->tm.slow);
	ig_json_obj_close(j);
}

/* Adaptive admission's last decision (issue 15): mode off when none. */
static void json_adaptive(struct ig_json *j, const struct ig_port_row *r)
{
	const struct ig_adaptive *a = &r->ad;

	ig_json_key(j, "adaptive");
	ig_json_obj_open(j);
	ig_json_kstr(j, "mode", ig_adaptive_mode_name(a->mode));
	if (a->mode != IG_AD_OFF) {
		ig_json_kstr(j, "state", ig_adaptive_state_name(a->state));
		ig_json_ku64(j, "rate", a->rate);
		ig_json_ku64(j, "static_rate", a->static_rate);
		ig_json_ku64(j, "updated_ms", a->updated_ms);
		ig_json_kdouble(j, "queue", a->queue_milli / 1000.0);
		ig_json_kdouble(j, "running", a->running_milli / 1000.0);
		ig_json_kdouble(j, "kv_cache", a->kv_milli / 1000.0);
		ig_json_kdouble(j, "ttft_p50_seconds", a->ttft_p50_us / 1e6);
		ig_json_kdouble(j, "ttft_p99_seconds", a->ttft_p99_us / 1e6);
		if (a->capacity_milli)
			ig_json_kdouble(j, "capacity", a->capacity_milli / 1000.0);
	}
	ig_json_obj_close(j);
}

static void print_adaptive(const struct ig_port_row *r, FILE *out)
{
	const struct ig_adaptive *a = &r->ad;
	struct timespec ts;
	long long age;

	if (a->mode == IG_AD_OFF)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	age = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (long long)a->updated_ms;
	fprintf(out, "%u/%s adaptive (%s): %s, port rate %llu/s (static %llu/s)", r->port,
		ig_proto_name(r->proto), ig_adaptive_mode_name(a->mode),
		ig_adaptive_state_name(a->state), (unsigned long long)a->rate,
		(unsigned long long)a->static_rate);
	if (a->mode == IG_AD_ENGINE)
		fprintf(out, "; queue %.1f, running %.1f, KV %.0f%%", a->queue_milli / 1000.0,
			a->running_milli / 1000.0, a->kv_milli / 10.0);
	if (a->capacity_milli)
		fprintf(out, "; capacity %.1f/s", a->capacity_milli / 1000.0);
	fprintf(out, "; TTFT p50 %.1f ms p99 %.1f ms; decided %.1f s ago\n", a->ttft_p50_us / 1e3,
		a->ttft_p99_us / 1e3, age / 1e3);
}

/* Who a port's client is (issue 16). */
static void json_client(struct ig_json *j, const struct ig_port_row *r)
{
	unsigned int mode = IG_POL_KEY(r->pol.flags);

	ig_json_key(j, "client");
	ig_json_obj_open(j);
	ig_json_kstr(j, "key", ig_key_mode_name(mode));
	if (mode == IG_KEY_API) {
		/* null: requests without a known key pay the port's rate */
		if (r->kp.flags & IG_KP_F_ANON) {
			ig_json_rate(j, "anonymous_rate", r->kp.anon_rate, 1);
		} else {
			ig_json_key(j, "anonymous_rate");
			ig_json_null(j);
		}
		ig_json_key(j, "anonymous_burst");
		if (r->kp.flags & IG_KP_F_ANON)
			ig_json_u64(j, r->kp.anon_burst);
		else
			ig_json_null(j);
		ig_json_kbool(j, "any_key", !!(r->pol.flags & IG_POL_F_ANY_KEY));
	}
	ig_json_obj_close(j);
}

static void print_client(const struct ig_port_row *r, FILE *out)
{
	unsigned int mode = IG_POL_KEY(r->pol.flags);

	if (mode == IG_KEY_SOURCE)
		return;
	fprintf(out, "%u/%s client: %s", r->port, ig_proto_name(r->proto), ig_key_mode_name(mode));
	if (mode == IG_KEY_API && !(r->kp.flags & IG_KP_F_ANON))
		fprintf(out, "; without a known key: the port's rate per source");
	else if (mode == IG_KEY_API && !r->kp.anon_rate)
		fprintf(out, "; without a known key: refused");
	else if (mode == IG_KEY_API)
		fprintf(out, "; without a known key: %s burst %llu per source",
			ig_rate_s(r->kp.anon_rate), (unsigned long long)r->kp.anon_burst);
	if (r->pol.flags & IG_POL_F_ANY_KEY)
		fprintf(out, "; any key is a client of its own");
	fputc('\n', out);
}

/* A port not counted by the token bucket says how, in the table's terms. */
static void print_algo(const struct ig_port_row *r, FILE *out)
{
	__u32 algo = IG_POL_ALGO(r->pol.flags);
	__u64 n = ig_rate_n(r->pol.rate), per = ig_rate_period(r->pol.rate, 1);

	if (algo == IG_ALGO_TOKEN_BUCKET)
		return;
	fprintf(out, "%u/%s counted by %s: ", r->port, ig_proto_name(r->proto),
		ig_algo_name(algo));
	if (algo == IG_ALGO_LEAKY_BUCKET)
		fprintf(out, "one %s every %.6g s, no burst\n", ig_unit_name(r->pol.unit),
			(double)per / (double)n);
	else
		fprintf(out, "at most %llu per %s%llus window\n", (unsigned long long)n,
			algo == IG_ALGO_FIXED_WINDOW ? "aligned " : "sliding ",
			(unsigned long long)per);
}

static void json_port(struct ig_json *j, const struct ig_port_row *r)
{
	ig_json_obj_open(j);
	ig_json_ku64(j, "port", r->port);
	ig_json_kstr(j, "proto", ig_proto_name(r->proto));
	ig_json_rate(j, "rate", r->pol.rate, 1);
	ig_json_ku64(j, "burst", r->pol.burst);
	ig_json_kstr(j, "algorithm", ig_algo_name(IG_POL_ALGO(r->pol.flags)));
	ig_json_kstr(j, "unit", ig_unit_name(r->pol.unit));
	ig_json_kstr(j, "action", ig_action_name(r->pol.action));
	ig_json_kbool(j, "enforce", !(r->pol.flags & IG_POL_F_DRY_RUN));
	ig_json_ku64(j, "slot", r->pol.slot);
	ig_json_ku64(j, "sources", r->sources);
	json_totals(j, "passed", sum_reasons(&r->st, IG_V_PASS));
	json_totals(j, "dropped", sum_reasons(&r->st, IG_V_DROP));
	json_totals(j, "rejected", sum_reasons(&r->st, IG_V_TX));
	ig_json_key(j, "reasons");
	ig_json_obj_open(j);
	for (int k = IG_R_PASS_FREE; k < IG_R_MAX; k++)
		ig_json_ku64(j, ig_reason_name((enum ig_reason)k), r->st.packets[k]);
	ig_json_obj_close(j);
	json_levels(j, r);
	/* on a dry-run port, what would have been refused */
	ig_json_key(j, "refused_by_level");
	ig_json_obj_open(j);
	for (int l = 0; l < IG_L_MAX; l++)
		ig_json_ku64(j, ig_level_name((enum ig_level)l), r->ls.refused[l]);
	ig_json_obj_close(j);
	/* requests in flight: max 0 is no cap */
	ig_json_key(j, "inflight");
	ig_json_obj_open(j);
	ig_json_ku64(j, "now", r->inflight);
	ig_json_ku64(j, "max", r->cap.max);
	ig_json_ku64(j, "per_client", r->cap.per_client);
	ig_json_ku64(j, "timeout_s", r->cap.max ? (r->cap.timeout_s ? r->cap.timeout_s
								      : IG_INFLIGHT_TIMEOUT_S)
						: 0);
	ig_json_obj_close(j);
	ig_json_ku64(j, "token_clients", r->token_clients);
	ig_json_ku64(j, "token_debtors", r->token_debtors);
	/* which rule counted the replies (a port changes rule at a re-limit:
	 * each keeps what it counted) */
	ig_json_key(j, "token_rules");
	ig_json_obj_open(j);
	for (int c = 0; c < IG_TC_MAX; c++) {
		ig_json_key(j, ig_token_count_name((enum ig_token_count)c));
		ig_json_obj_open(j);
		ig_json_ku64(j, "responses", r->tr.responses[c]);
		ig_json_ku64(j, "tokens", r->tr.tokens[c]);
		ig_json_obj_close(j);
	}
	ig_json_obj_close(j);
	json_timing(j, r);
	json_adaptive(j, r);
	json_client(j, r);
	ig_json_obj_close(j);
}

static int print_json(const struct status *s, FILE *out)
{
	struct ig_json j;
	int err;

	ig_json_init(&j, out, 0);
	ig_json_obj_open(&j);
	ig_json_kstr(&j, "pin_dir", s->in.pin_dir);
	ig_json_kstr(&j, "clock", ig_clock_name((enum ig_clock)s->clock));
	ig_json_key(&j, "attachments");
	ig_json_arr_open(&j);
	for (int i = 0; i < s->natt; i++) {
		ig_json_obj_open(&j);
		ig_json_kstr(&j, "ifname", s->att[i].ifname);
		ig_json_kstr(&j, "hook", ig_hook_name(s->att[i].hook));
		ig_json_kstr(&j, "mode", s->att[i].mode);
		ig_json_ku64(&j, "prog_id", s->att[i].prog_id);
		ig_json_obj_close(&j);
	}
	ig_json_arr_close(&j);
	ig_json_key(&j, "reject_budget");
	ig_json_obj_open(&j);
	ig_json_rate(&j, "rate", s->g.reject_rate, 1);
	ig_json_ku64(&j, "burst", s->g.reject_burst);
	ig_json_obj_close(&j);
	ig_json_ku64(&j, "max_sources", s->in.max_sources);
	ig_json_ku64(&j, "tracked_sources", s->tracked);
	ig_json_ku64(&j, "flow_entries", s->flows);
	ig_json_ku64(&j, "max_flows", s->in.max_flows);
	/* null: an instance older than the maps (attach upgrades it) */
	ig_json_key(&j, "keys");
	if (s->nkeys >= 0)
		ig_json_u64(&j, (__u64)s->nkeys);
	else
		ig_json_null(&j);
	ig_json_key(&j, "proxy_from");
	ig_json_arr_open(&j);
	for (int i = 0; i < s->nproxy; i++) {
		char cidr[IG_ADDR_STRLEN];

		ig_format_cidr(&s->proxy[i], cidr, sizeof(cidr));
		ig_json_str(&j, cidr);
	}
	ig_json_arr_close(&j);
	ig_json_key(&j, "ports");
	ig_json_arr_open(&j);
	for (int i = 0; i < s->nrows; i++)
		json_port(&j, &s->rows[i]);
	ig_json_arr_close(&j);
	ig_json_key(&j, "unprotected");
	ig_json_obj_open(&j);
	ig_json_ku64(&j, "pass_other", s->other.packets[IG_R_PASS_OTHER]);
	ig_json_ku64(&j, "pass_unparsed", s->other.packets[IG_R_PASS_UNPARSED]);
	ig_json_ku64(&j, "pass_fragment", s->other.packets[IG_R_PASS_FRAGMENT]);
	/* and what else happened to it: the parser's drops (deep, fragment,
	 * unread, v4mapped) land here too */
	ig_json_key(&j, "reasons");
	ig_json_obj_open(&j);
	for (int k = 0; k < IG_R_MAX; k++)
		ig_json_ku64(&j, ig_reason_name((enum ig_reason)k), s->other.packets[k]);
	ig_json_obj_close(&j);
	ig_json_obj_close(&j);
	ig_json_key(&j, "breakers");
	err = ig_cli_breakers_json(&s->in, &j);
	ig_json_obj_close(&j);
	ig_json_end(&j);
	return err;
}

/* What each counting rule charged on a port with a token budget (or that
 * had one: its counts stay until the slot is handed to another port). */
static void print_token_rules(const struct ig_port_row *r, FILE *out)
{
	__u64 any = 0;

	for (int c = 0; c < IG_TC_MAX; c++)
		any |= r->tr.responses[c] | r->tr.tokens[c];
	if (!r->lim.tokens_per_min && !any)
		return;
	fprintf(out, "%u/%s tokens by rule:", r->port, ig_proto_name(r->proto));
	for (int c = 0; c < IG_TC_MAX; c++)
		fprintf(out, "%s %s %llu responses %llu tokens", c ? ";" : "",
			ig_token_count_name((enum ig_token_count)c),
			(unsigned long long)r->tr.responses[c], (unsigned long long)r->tr.tokens[c]);
	fputc('\n', out);
}

/* Response times, on a timed port that has answered anything. */
static void print_timing(const struct ig_port_row *r, FILE *out)
{
	__u64 nt = ig_timing_count(r->tm.ttft), nd = ig_timing_count(r->tm.dur);

	if (!nt && !nd)
		return;
	fprintf(out, "%u/%s times: first token p50 %.0f ms p99 %.0f ms (%llu); "
		     "duration p50 %.0f ms p99 %.0f ms (%llu)",
		r->port, ig_proto_name(r->proto), ig_time_quantile_ms(r->tm.ttft, 0.5),
		ig_time_quantile_ms(r->tm.ttft, 0.99), (unsigned long long)nt,
		ig_time_quantile_ms(r->tm.dur, 0.5), ig_time_quantile_ms(r->tm.dur, 0.99),
		(unsigned long long)nd);
	if (r->tm.slow)
		fprintf(out, "; %llu slow", (unsigned long long)r->tm.slow);
	fputc('\n', out);
}

/* A port's fair-share levels and what they refused, when it has any. */
static void print_levels(const struct ig_port_row *r, FILE *out)
{
	const struct ig_limits *l = &r->lim;
	int any = 0;

	if (ig_limits_any(l) || (r->pol.flags & IG_POL_F_FLEET) || r->cap.max) {
		char tok[IG_RATE_STR];

		fprintf(out, "%u/%s levels:", r->port, ig_proto_name(r->proto));
		if (l->prefix_rate)
			fprintf(out, " prefix /%u,/%u %s burst %llu;",
				l->prefix_v4 ? l->prefix_v4 : IG_DEFAULT_PREFIX_V4,
				l->prefix_v6 ? l->prefix_v6 : IG_DEFAULT_PREFIX_V6,
				ig_rate_s(l->prefix_rate), (unsigned long long)l->prefix_burst);
		if (l->port_rate)
			fprintf(out, " port %s burst %llu;", ig_rate_s(l->port_rate),
				(unsigned long long)l->port_burst);
		if (l->newcomer_rate)
			fprintf(out, " newcomers %s burst %llu;", ig_rate_s(l->newcomer_rate),
				(unsigned long long)l->newcomer_burst);
		if (l->max_conns)
			fprintf(out, " max-conns %u;", l->max_conns);
		if (l->tokens_per_min)
			fprintf(out, " tokens %s at %u B/token (%llu clients, %llu in debt), "
				     "counted by %s;",
				ig_rate_str(l->tokens_per_min, IG_TOKEN_PERIOD_S, tok, sizeof(tok)),
				l->bytes_per_token ? l->bytes_per_token : IG_DEFAULT_BYTES_PER_TOKEN,
				(unsigned long long)r->token_clients, (unsigned long long)r->token_debtors,
				ig_token_count_name(ig_token_count_of(r->pol.flags)));
		if (r->pol.flags & IG_POL_F_FLEET)
			fprintf(out, " fleet-wide limit (agent, Redis);");
		if (r->cap.max)
			fprintf(out, " in flight %u of at most %u%s;", r->inflight, r->cap.max,
				r->cap.per_client ? " (a share per client)" : "");
		fputc('\n', out);
	}
	for (int k = 0; k < IG_L_MAX; k++) {
		if (!r->ls.refused[k])
			continue;
		if (!any++)
			fprintf(out, "%u/%s %s by level:", r->port, ig_proto_name(r->proto),
				r->pol.flags & IG_POL_F_DRY_RUN ? "would have refused" : "refused");
		fprintf(out, " %s %llu", ig_level_name((enum ig_level)k),
			(unsigned long long)r->ls.refused[k]);
	}
	if (any)
		fputc('\n', out);
	print_token_rules(r, out);
	print_timing(r, out);
	print_adaptive(r, out);
	print_client(r, out);
}

static int print_table(const struct status *s, FILE *out)
{
	const struct ig_stats *other = &s->other;

	fprintf(out, "instance   %s (clock: %s)\n", s->in.pin_dir,
		ig_clock_name((enum ig_clock)s->clock));
	if (!s->natt)
		fprintf(out, "attached   nowhere\n");
	for (int i = 0; i < s->natt; i++)
		fprintf(out, "attached   %s: %s (%s), prog %u\n", s->att[i].ifname,
			ig_hook_name(s->att[i].hook), s->att[i].mode, s->att[i].prog_id);
	fprintf(out, "replies    at most %s, burst %llu\n", ig_rate_s(s->g.reject_rate),
		(unsigned long long)s->g.reject_burst);
	fprintf(out, "sources    %llu tracked of %llu\n", (unsigned long long)s->tracked,
		(unsigned long long)s->in.max_sources);
	fprintf(out, "flows      %llu entries of %u (breaker ports' connections)\n",
		(unsigned long long)s->flows, s->in.max_flows);
	if (s->nkeys >= 0)
		fprintf(out, "keys       %d API key(s) loaded\n", s->nkeys);
	else
		fprintf(out, "keys       none: the instance predates them (attach upgrades it)\n");
	for (int i = 0; i < s->nproxy; i++) {
		char cidr[IG_ADDR_STRLEN];

		ig_format_cidr(&s->proxy[i], cidr, sizeof(cidr));
		fprintf(out, "%s%s", i ? ", " : "proxy from ", cidr);
	}
	fprintf(out, "%s\n", s->nproxy ? " (PROXY headers believed)\n" : "");
	fprintf(out, "%-11s %12s %10s %-6s %-10s %8s %12s %12s %12s\n", "PORT", "RATE", "BURST",
		"UNIT", "ACTION", "SOURCES", "PASSED", "DROPPED", "REJECTED");
	if (!s->nrows)
		fprintf(out, "(no port is limited: infergate limit PORT --rate N/PERIOD)\n");
	for (int i = 0; i < s->nrows; i++) {
		const struct ig_port_row *r = &s->rows[i];
		char name[16], action[24];

		snprintf(name, sizeof(name), "%u/%s", r->port, ig_proto_name(r->proto));
		snprintf(action, sizeof(action), "%s%s", ig_action_name(r->pol.action),
			 r->pol.flags & IG_POL_F_DRY_RUN ? " (dry)" : "");
		fprintf(out, "%-11s %12s %10llu %-6s %-10s %8llu %12llu %12llu %12llu\n", name,
			ig_rate_s(r->pol.rate), (unsigned long long)r->pol.burst,
			ig_unit_name(r->pol.unit), action, (unsigned long long)r->sources,
			(unsigned long long)sum_reasons(&r->st, IG_V_PASS).pkts,
			(unsigned long long)sum_reasons(&r->st, IG_V_DROP).pkts,
			(unsigned long long)sum_reasons(&r->st, IG_V_TX).pkts);
	}
	for (int i = 0; i < s->nrows; i++)
		print_algo(&s->rows[i], out);
	for (int i = 0; i < s->nrows; i++)
		print_levels(&s->rows[i], out);
	for (int i = 0; i < s->nrows; i++)
		if (s->rows[i].pol.flags & IG_POL_F_DRY_RUN)
			fprintf(out, "%u/%s is a dry run: %llu would have been dropped, %llu rejected "
				     "(counted as passed)\n", s->rows[i].port,
				ig_proto_name(s->rows[i].proto),
				(unsigned long long)s->rows[i].st.packets[IG_R_DRY_DROP],
				(unsigned long long)s->rows[i].st.packets[IG_R_DRY_REJECT]);
	fprintf(out, "\nother traffic: %llu passed (%llu not for a limited port, %llu unparsed, "
		     "%llu fragments)\n",
		(unsigned long long)sum_reasons(other, IG_V_PASS).pkts,
		(unsigned long long)other->packets[IG_R_PASS_OTHER],
		(unsigned long long)other->packets[IG_R_PASS_UNPARSED],
		(unsigned long long)other->packets[IG_R_PASS_FRAGMENT]);
	if (sum_reasons(other, IG_V_DROP).pkts) {
		fprintf(out, "other traffic dropped: %llu (",
			(unsigned long long)sum_reasons(other, IG_V_DROP).pkts);
		for (int k = 0, first = 1; k < IG_R_MAX; k++) {
			if (ig_reason_verdict((enum ig_reason)k) != IG_V_DROP || !other->packets[k])
				continue;
			fprintf(out, "%s%s %llu", first ? "" : ", ", ig_reason_name((enum ig_reason)k),
				(unsigned long long)other->packets[k]);
			first = 0;
		}
		fputs(")\n", out);
	}
	fputc('\n', out);
	return ig_breakers_print(&s->in, out);
}

/* Everything status shows, from the open instance. */
static int status_read(struct status *s)
{
	__u64 *sources;
	__u64 tick;
	int err;

	s->natt = ig_list_attachments(ig_cli_pin_dir, s->att, IG_MAX_ATTACHMENTS);
	if (s->natt < 0)
		s->natt = 0;
	/* the recorded clock; an instance made by an older version has none
	 * yet (its next attach records it): shown as the guess */
	if (ig_instance_clock(&s->in, &s->clock, &tick))
		ig_pick_clock(&s->clock, &tick);
	err = ig_globals_get(&s->in, &s->g);
	if (!err)
		err = ig_ports_read(&s->in, &s->rows, &s->nrows);
	s->nkeys = s->in.fd[IG_MAP_KEYS] >= 0 ? 0 : -1;
	if (!err && s->nkeys >= 0) {
		s->nkeys = ig_keys_count(&s->in);
		err = s->nkeys < 0 ? s->nkeys : 0;
	}
	if (!err)
		err = ig_proxy_from_read(&s->in, &s->proxy, &s->nproxy);
	if (!err)
		err = ig_stats_read(&s->in, 0, &s->other);
	if (err)
		return err;
	sources = calloc(IG_POLICY_ENTRIES, sizeof(*sources));
	if (!sources)
		return -ENOMEM;
	err = ig_sources_count(&s->in, sources, &s->tracked);
	if (!err)
		err = ig_flows_count(&s->in, &s->flows);
	for (int i = 0; !err && i < s->nrows; i++)
		s->rows[i].sources = sources[IG_PORT_INDEX(s->rows[i].proto, s->rows[i].port)];
	free(sources);
	return err ? err : ig_tokens_count(&s->in, s->rows, s->nrows);
}

/* The fleet's nodes, from the Redis given or the one of a config's [cluster]. */
static int fleet_status(const char *redis, const char *config, int json)
{
	struct ig_cfg_file *cfg;
	char msg[600];
	int err;

	if (redis)
		return ig_cli_exit(ig_fleet_print_nodes(redis, NULL, json));
	if (!config)
		return ig_cli_usage("status", "%s", "--fleet needs --redis ADDR or --config FILE");
	err = ig_config_read(config, &cfg, msg, sizeof(msg));
	if (err) {
		ig_err("%s", msg);
		return 1;
	}
	if (!cfg->has_cluster)
		err = -EINVAL, ig_err("%s has no [cluster] section", config);
	else
		err = ig_fleet_print_nodes(cfg->cluster.redis, cfg->cluster.password, json);
	free(cfg);
	return ig_cli_exit(err);
}

struct status_cfg {
	int json, fleet;
	const char *redis, *config;
};

static const struct ig_opt status_opts[] = {
	IG_OPT("json", IG_OPT_BOOL, struct status_cfg, json, .help = "one JSON object, for scripts"),
	IG_OPT("fleet", IG_OPT_BOOL, struct status_cfg, fleet,
	       .help = "instead, every node of the fleet as it last published itself\n"
		       "to Redis (its breakers and its sync), from any host"),
	IG_OPT("redis", IG_OPT_STRING, struct status_cfg, redis, .metavar = "ADDR",
	       .help = "the fleet's Redis: HOST:PORT or unix:/path"),
	IG_OPT("config", IG_OPT_STRING, struct status_cfg, config, .metavar = "FILE",
	       .complete = IG_COMPLETE_FILE,
	       .help = "or take it (and its password) from FILE's [cluster]"),
	{}
};

static int cmd_status(const void *cfg, int argc, char **argv)
{
	const struct status_cfg *c = cfg;
	struct status *s;
	int err;

	(void)argc, (void)argv;
	if ((c->redis || c->config) && !c->fleet)
		return ig_cli_usage("status", "%s", "--redis and --config go with --fleet");
	if (c->fleet)
		return fleet_status(c->redis, c->config, c->json);
	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	err = ig_cli_open(&s->in);
	if (err) {
		free(s);
		return 1;
	}
	err = status_read(s);
	if (!err)
		err = c->json ? print_json(s, stdout) : print_table(s, stdout);
	free(s->rows);
	free(s->proxy);
	ig_instance_close(&s->in);
	free(s);
	return ig_cli_exit(err);
}

struct top_cfg {
	__u64 n;
	const char *metrics;
	int json;
};

static const struct ig_opt top_opts[] = {
	IG_OPT(NULL, IG_OPT_COUNT, struct top_cfg, n, .short_name = 'n', .metavar = "N",
	       .min = 1, .max = 1000, .help = "sources per port (default 10)"),
	IG_OPT("metrics", IG_OPT_STRING, struct top_cfg, metrics, .metavar = "ADDR",
	       .help = "where the agent serves metrics (default " IG_DEFAULT_METRICS_ADDR ")"),
	IG_OPT("json", IG_OPT_BOOL, struct top_cfg, json, .help = "as JSON"),
	{}
};

/* The agent renders top (agent/top.c); this asks it over HTTP. */
static int cmd_top(const void *cfg, int argc, char **argv)
{
	const struct top_cfg *c = cfg;
	char url[256], why[256];
	long code;
	int err;

	(void)argc, (void)argv;
	snprintf(url, sizeof(url), "http://%s/top%s?n=%llu", c->metrics, c->json ? ".json" : "",
		 (unsigned long long)c->n);
	err = ig_http_get(url, 5000, stdout, &code, why, sizeof(why));
	if (err == -ENOMEM) {
		ig_err("%s", why);
		return 1;
	}
	if (err) {
		ig_err("no agent answering on %s (%s): top needs `infergate run` with metrics on",
		       c->metrics, why);
		return 1;
	}
	if (code && code != 200) {
		ig_err("the agent on %s answered HTTP %ld", c->metrics, code);
		return 1;
	}
	return 0;
}

const struct ig_cmd ig_status_cmds[] = {
	IG_CMD("status", cmd_status, status_opts, struct status_cfg,
	       .doc = "Show attachments, limits, counters and tracked sources."),
	IG_CMD("top", cmd_top, top_opts, struct top_cfg,
	       .defaults = &(const struct top_cfg){ .n = 10, .metrics = IG_DEFAULT_METRICS_ADDR },
	       .doc = "Per port, the sources with the most drops and the fewest tokens left, from the\n"
		      "running agent (infergate run), which samples the data path's drops (at most one\n"
		      "per CPU per millisecond, so counts are samples, not totals: the per-port totals\n"
		      "are in status and /metrics) and reads each source's bucket."),
	{}
};
