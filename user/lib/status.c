// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/status.h"
#include "lib/breakers.h"
#include "lib/loader.h"
#include "lib/instance.h"
#include "lib/policy.h"
#include "lib/levels.h"
#include "lib/args.h"
#include "lib/log.h"

#define IG_MAX_ATTACHMENTS 64

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

/* Tracked sources per (proto, port): the used ways. */
struct count_ctx {
	__u64 *per_index, total;
};

static int count_set(__u32 index, struct ig_source_set *set, void *ctx)
{
	struct count_ctx *c = ctx;

	(void)index;
	for (int w = 0; w < IG_WAYS; w++) {
		const struct ig_source *s = &set->way[w];

		if (!s->used)
			continue;
		if (c->per_index && s->proto < IG_PROTO_MAX)
			c->per_index[IG_PORT_INDEX(s->proto, s->port)]++;
		c->total++;
	}
	return 0;
}

int ig_sources_count(const struct ig_instance *in, __u64 *per_index, __u64 *total)
{
	struct count_ctx c = { .per_index = per_index };
	int err = ig_sources_walk(in, count_set, &c);

	*total = c.total;
	return err;
}

/* A JSON string: interface names and paths may hold quotes or backslashes. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_totals(FILE *out, const char *name, struct totals t)
{
	fprintf(out, "\"%s\":{\"packets\":%llu,\"bytes\":%llu}", name, (unsigned long long)t.pkts,
		(unsigned long long)t.bytes);
}

static void print_json(FILE *out, const struct ig_instance *in, const struct ig_attachment *att,
		       int natt, const struct ig_globals *g, const struct ig_port_row *rows, int nrows,
		       const struct ig_stats *other, __u64 tracked, __u64 flows, __u32 clock)
{
	fputs("{\"pin_dir\":", out);
	json_str(out, in->pin_dir);
	fprintf(out, ",\"clock\":\"%s\",\"attachments\":[", ig_clock_name((enum ig_clock)clock));
	for (int i = 0; i < natt; i++) {
		fprintf(out, "%s{\"ifname\":", i ? "," : "");
		json_str(out, att[i].ifname);
		fprintf(out, ",\"hook\":\"%s\",\"mode\":\"%s\",\"prog_id\":%u}",
			ig_hook_name(att[i].hook), att[i].mode, att[i].prog_id);
	}
	fprintf(out, "],\"reject_budget\":{\"rate\":%llu,\"burst\":%llu},",
		(unsigned long long)g->reject_rate, (unsigned long long)g->reject_burst);
	fprintf(out, "\"max_sources\":%llu,\"tracked_sources\":%llu,\"flow_entries\":%llu,"
		     "\"max_flows\":%u,\"ports\":[", (unsigned long long)in->max_sources,
		(unsigned long long)tracked, (unsigned long long)flows, in->max_flows);
	for (int i = 0; i < nrows; i++) {
		const struct ig_port_row *r = &rows[i];

		fprintf(out,
			"%s{\"port\":%u,\"proto\":\"%s\",\"rate\":%llu,\"burst\":%llu,\"unit\":\"%s\","
			"\"action\":\"%s\",\"enforce\":%s,\"slot\":%u,\"sources\":%llu,",
			i ? "," : "", r->port, ig_proto_name(r->proto),
			(unsigned long long)r->pol.rate, (unsigned long long)r->pol.burst,
			ig_unit_name(r->pol.unit), ig_action_name(r->pol.action),
			r->pol.flags & IG_POL_F_DRY_RUN ? "false" : "true", r->pol.slot,
			(unsigned long long)r->sources);
		json_totals(out, "passed", sum_reasons(&r->st, IG_V_PASS));
		fputc(',', out);
		json_totals(out, "dropped", sum_reasons(&r->st, IG_V_DROP));
		fputc(',', out);
		json_totals(out, "rejected", sum_reasons(&r->st, IG_V_TX));
		fputs(",\"reasons\":{", out);
		for (int k = IG_R_PASS_FREE, first = 1; k < IG_R_MAX; k++, first = 0)
			fprintf(out, "%s\"%s\":%llu", first ? "" : ",",
				ig_reason_name((enum ig_reason)k), (unsigned long long)r->st.packets[k]);
		fprintf(out, "},\"levels\":{\"prefix_rate\":%llu,\"prefix_burst\":%llu,"
			     "\"prefix_len\":[%u,%u],\"port_rate\":%llu,\"port_burst\":%llu,"
			     "\"newcomer_rate\":%llu,\"newcomer_burst\":%llu,\"max_conns\":%u,"
			     "\"tokens_per_minute\":%llu,\"bytes_per_token\":%u,\"fleet\":%s},",
			(unsigned long long)r->lim.prefix_rate, (unsigned long long)r->lim.prefix_burst,
			r->lim.prefix_v4 ? r->lim.prefix_v4 : IG_DEFAULT_PREFIX_V4,
			r->lim.prefix_v6 ? r->lim.prefix_v6 : IG_DEFAULT_PREFIX_V6,
			(unsigned long long)r->lim.port_rate, (unsigned long long)r->lim.port_burst,
			(unsigned long long)r->lim.newcomer_rate,
			(unsigned long long)r->lim.newcomer_burst, r->lim.max_conns,
			(unsigned long long)r->lim.tokens_per_min,
			r->lim.bytes_per_token ? r->lim.bytes_per_token : IG_DEFAULT_BYTES_PER_TOKEN,
			r->pol.flags & IG_POL_F_FLEET ? "true" : "false");
		/* on a dry-run port, what would have been refused */
		fputs("\"refused_by_level\":{", out);
		for (int l = 0; l < IG_L_MAX; l++)
			fprintf(out, "%s\"%s\":%llu", l ? "," : "", ig_level_name((enum ig_level)l),
				(unsigned long long)r->ls.refused[l]);
		fprintf(out, "},\"token_clients\":%llu,\"token_debtors\":%llu}",
			(unsigned long long)r->token_clients, (unsigned long long)r->token_debtors);
	}
	fprintf(out, "],\"unprotected\":{\"pass_other\":%llu,\"pass_unparsed\":%llu,"
		     "\"pass_fragment\":%llu}",
		(unsigned long long)other->packets[IG_R_PASS_OTHER],
		(unsigned long long)other->packets[IG_R_PASS_UNPARSED],
		(unsigned long long)other->packets[IG_R_PASS_FRAGMENT]);
}

static void print_table(FILE *out, const struct ig_instance *in, const struct ig_attachment *att,
			int natt, const struct ig_globals *g, const struct ig_port_row *rows, int nrows,
			const struct ig_stats *other, __u64 tracked, __u64 flows, __u32 clock)
{
	fprintf(out, "instance   %s (clock: %s)\n", in->pin_dir, ig_clock_name((enum ig_clock)clock));
	if (!natt)
		fprintf(out, "attached   nowhere\n");
	for (int i = 0; i < natt; i++)
		fprintf(out, "attached   %s: %s (%s), prog %u\n", att[i].ifname,
			ig_hook_name(att[i].hook), att[i].mode, att[i].prog_id);
	fprintf(out, "replies    at most %llu/s, burst %llu\n", (unsigned long long)g->reject_rate,
		(unsigned long long)g->reject_burst);
	fprintf(out, "sources    %llu tracked of %llu\n", (unsigned long long)tracked,
		(unsigned long long)in->max_sources);
	fprintf(out, "flows      %llu entries of %u (breaker ports' connections)\n\n",
		(unsigned long long)flows, in->max_flows);
	fprintf(out, "%-11s %12s %10s %-6s %-10s %8s %12s %12s %12s\n", "PORT", "RATE/s", "BURST",
		"UNIT", "ACTION", "SOURCES", "PASSED", "DROPPED", "REJECTED");
	if (!nrows)
		fprintf(out, "(no port is limited: infergate limit PORT --rate N/s)\n");
	for (int i = 0; i < nrows; i++) {
		const struct ig_port_row *r = &rows[i];
		char name[16], action[24];

		snprintf(name, sizeof(name), "%u/%s", r->port, ig_proto_name(r->proto));
		snprintf(action, sizeof(action), "%s%s", ig_action_name(r->pol.action),
			 r->pol.flags & IG_POL_F_DRY_RUN ? " (dry)" : "");
		fprintf(out, "%-11s %12llu %10llu %-6s %-10s %8llu %12llu %12llu %12llu\n", name,
			(unsigned long long)r->pol.rate, (unsigned long long)r->pol.burst,
			ig_unit_name(r->pol.unit), action,
			(unsigned long long)r->sources,
			(unsigned long long)sum_reasons(&r->st, IG_V_PASS).pkts,
			(unsigned long long)sum_reasons(&r->st, IG_V_DROP).pkts,
			(unsigned long long)sum_reasons(&r->st, IG_V_TX).pkts);
	}
	for (int i = 0; i < nrows; i++) {
		const struct ig_port_row *r = &rows[i];
		const struct ig_limits *l = &r->lim;
		int any = 0;

		if (ig_limits_any(l) || (r->pol.flags & IG_POL_F_FLEET)) {
			fprintf(out, "%u/%s levels:", r->port, ig_proto_name(r->proto));
			if (l->prefix_rate)
				fprintf(out, " prefix /%u,/%u %llu/s burst %llu;",
					l->prefix_v4 ? l->prefix_v4 : IG_DEFAULT_PREFIX_V4,
					l->prefix_v6 ? l->prefix_v6 : IG_DEFAULT_PREFIX_V6,
					(unsigned long long)l->prefix_rate,
					(unsigned long long)l->prefix_burst);
			if (l->port_rate)
				fprintf(out, " port %llu/s burst %llu;", (unsigned long long)l->port_rate,
					(unsigned long long)l->port_burst);
			if (l->newcomer_rate)
				fprintf(out, " newcomers %llu/s burst %llu;",
					(unsigned long long)l->newcomer_rate,
					(unsigned long long)l->newcomer_burst);
			if (l->max_conns)
				fprintf(out, " max-conns %u;", l->max_conns);
			if (l->tokens_per_min)
				fprintf(out, " tokens %llu/min at %u B/token (%llu clients, %llu in debt);",
					(unsigned long long)l->tokens_per_min,
					l->bytes_per_token ? l->bytes_per_token : IG_DEFAULT_BYTES_PER_TOKEN,
					(unsigned long long)r->token_clients,
					(unsigned long long)r->token_debtors);
			if (r->pol.flags & IG_POL_F_FLEET)
				fprintf(out, " fleet-wide limit (agent, Redis);");
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
	}
	for (int i = 0; i < nrows; i++)
		if (rows[i].pol.flags & IG_POL_F_DRY_RUN)
			fprintf(out, "%u/%s is a dry run: %llu would have been dropped, %llu rejected "
				     "(counted as passed)\n", rows[i].port, ig_proto_name(rows[i].proto),
				(unsigned long long)rows[i].st.packets[IG_R_DRY_DROP],
				(unsigned long long)rows[i].st.packets[IG_R_DRY_REJECT]);
	fprintf(out, "\nother traffic: %llu passed (%llu not for a limited port, %llu unparsed, "
		     "%llu fragments)\n",
		(unsigned long long)sum_reasons(other, IG_V_PASS).pkts,
		(unsigned long long)other->packets[IG_R_PASS_OTHER],
		(unsigned long long)other->packets[IG_R_PASS_UNPARSED],
		(unsigned long long)other->packets[IG_R_PASS_FRAGMENT]);
}

int ig_status(const char *pin_dir, int json, FILE *out)
{
	struct ig_attachment att[IG_MAX_ATTACHMENTS];
	struct ig_port_row *rows = NULL;
	__u64 *sources = NULL, tracked = 0, flows = 0;
	struct ig_instance in;
	struct ig_globals g;
	struct ig_stats other;
	int natt, nrows = 0, err;
	__u32 clock;
	__u64 tick;

	err = ig_env_check(pin_dir);
	if (err)
		return err;
	err = ig_instance_open(&in, pin_dir);
	if (err)
		return err;
	natt = ig_list_attachments(pin_dir, att, IG_MAX_ATTACHMENTS);
	if (natt < 0)
		natt = 0;
	ig_pick_clock(&clock, &tick);

	err = ig_globals_get(&in, &g);
	if (!err)
		err = ig_ports_read(&in, &rows, &nrows);
	if (!err)
		err = ig_stats_read(&in, 0, &other);
	if (err)
		goto out;
	sources = calloc(IG_POLICY_ENTRIES, sizeof(*sources));
	if (!sources) {
		err = -ENOMEM;
		goto out;
	}
	err = ig_sources_count(&in, sources, &tracked);
	if (!err)
		err = ig_flows_count(&in, &flows);
	if (err)
		goto out;
	for (int i = 0; i < nrows; i++)
		rows[i].sources = sources[IG_PORT_INDEX(rows[i].proto, rows[i].port)];
	err = ig_tokens_count(&in, rows, nrows);
	if (err)
		goto out;
	if (json) {
		print_json(out, &in, att, natt, &g, rows, nrows, &other, tracked, flows, clock);
		fputs(",\"breakers\":", out);
		err = ig_breakers_print(&in, 1, out);
		fputs("}\n", out);
	} else {
		print_table(out, &in, att, natt, &g, rows, nrows, &other, tracked, flows, clock);
		fputc('\n', out);
		err = ig_breakers_print(&in, 0, out);
	}
out:
	free(rows);
	free(sources);
	ig_instance_close(&in);
	return err;
}
