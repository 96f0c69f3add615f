// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent/top.h"
#include "lib/rate.h"
#include "lib/util.h"
#include "lib/cidr.h"
#include "lib/json.h"
#include "lib/keys.h"
#include "lib/names.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/timing.h"
#include "lib/adaptive_cfg.h"
#include "pure/timing.h"
#include "pure/sources.h"

#define IG_TOP_SLOTS 4096 /* sources remembered; beyond, new ones are not */
#define IG_TOP_FORGET_MS (10 * 60 * 1000)

struct offender {
	__u8 used;
	__u8 proto;
	__u8 reason; /* the last one */
	__u8 level;  /* ... and the level that refused it */
	__u16 port;
	__u8 addr[16];
	__u64 drops;          /* sampled, since first seen */
	__u64 interval_drops; /* sampled, since the last log summary */
	__u64 last_ms;
};

struct ig_top {
	const struct ig_instance *in;
	struct ring_buffer *rb;
	pthread_mutex_t lock;
	struct offender slot[IG_TOP_SLOTS];
	__u64 interval_events, untracked, last_log_ms;
};

static __u32 slot_hash(const __u8 *addr, __u16 port, __u8 proto)
{
	return (__u32)ig_source_hash(addr, port, proto, 0x70b) & (IG_TOP_SLOTS - 1);
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct ig_event *ev = data;
	struct ig_top *t = ctx;
	__u32 h, i;

	if (len < sizeof(*ev))
		return 0;
	h = slot_hash(ev->source, ev->port, ev->proto);
	pthread_mutex_lock(&t->lock);
	t->interval_events++;
	for (i = 0; i < IG_TOP_SLOTS; i++) {
		struct offender *o = &t->slot[(h + i) & (IG_TOP_SLOTS - 1)];

		if (o->used && (o->port != ev->port || o->proto != ev->proto ||
				memcmp(o->addr, ev->source, 16)))
			continue;
		if (!o->used) {
			memset(o, 0, sizeof(*o));
			o->used = 1;
			o->port = ev->port;
			o->proto = ev->proto;
			memcpy(o->addr, ev->source, 16);
		}
		o->drops++;
		o->interval_drops++;
		o->reason = ev->reason;
		o->level = ev->level;
		o->last_ms = ig_mono_ms();
		break;
	}
	if (i == IG_TOP_SLOTS)
		t->untracked++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int ig_top_open(struct ig_top **out, const struct ig_instance *in)
{
	struct ig_top *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->in = in;
	pthread_mutex_init(&t->lock, NULL);
	t->rb = ring_buffer__new(in->fd[IG_MAP_EVENTS], on_event, t, NULL);
	if (!t->rb) {
		int err = -errno;

		ig_err("cannot read map events: %s", strerror(-err));
		pthread_mutex_destroy(&t->lock);
		free(t);
		return err;
	}
	t->last_log_ms = ig_mono_ms();
	*out = t;
	return 0;
}

void ig_top_close(struct ig_top *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int ig_top_poll(struct ig_top *t)
{
	return ring_buffer__consume(t->rb);
}

void ig_top_log(struct ig_top *t, __u64 now_ms)
{
	struct offender *best[3] = {};
	char line[512];
	size_t off;
	int sources = 0;

	if (now_ms - t->last_log_ms < IG_TOP_LOG_INTERVAL_MS)
		return;
	pthread_mutex_lock(&t->lock);
	t->last_log_ms = now_ms;
	for (int i = 0; i < IG_TOP_SLOTS; i++) {
		struct offender *o = &t->slot[i];

		if (!o->used)
			continue;
		if (now_ms - o->last_ms > IG_TOP_FORGET_MS) {
			o->used = 0;
			continue;
		}
		if (!o->interval_drops)
			continue;
		sources++;
		for (int k = 0; k < 3; k++)
			if (!best[k] || o->interval_drops > best[k]->interval_drops) {
				memmove(&best[k + 1], &best[k], sizeof(best[0]) * (size_t)(2 - k));
				best[k] = o;
				break;
			}
	}
	if (t->interval_events) {
		off = (size_t)snprintf(line, sizeof(line),
				       "drops sampled in the last %d s: %llu event(s) from %d source(s)",
				       IG_TOP_LOG_INTERVAL_MS / 1000,
				       (unsigned long long)t->interval_events, sources);
		for (int k = 0; k < 3 && best[k] && off < sizeof(line); k++) {
			char a[IG_ADDR_STRLEN];

			ig_client_format(t->in, best[k]->addr, a, sizeof(a));
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s %s -> %u/%s %llu (%s)",
						k ? "," : "; most:", a, best[k]->port,
						ig_proto_name((enum ig_proto)best[k]->proto),
						(unsigned long long)best[k]->interval_drops,
						ig_reason_name((enum ig_reason)best[k]->reason));
		}
		ig_info("%s", line);
	}
	for (int i = 0; i < IG_TOP_SLOTS; i++)
		t->slot[i].interval_drops = 0;
	t->interval_events = 0;
	pthread_mutex_unlock(&t->lock);
}

/* Tokens left in a source's bucket now, from the source table (what the data
 * path will decide by); the burst when the table holds nothing for it. */
static double tokens_left(const struct ig_top *t, const struct ig_policy *pol, __u64 seed,
			  __u64 now, const struct offender *o)
{
	__u64 h = ig_source_hash(o->addr, o->port, o->proto, seed);
	__u64 ident = ig_source_ident(h, o->port, o->proto);
	__u32 idx = (__u32)h & (t->in->sets - 1);
	struct ig_source_set set;

	if (!pol->rate || bpf_map_lookup_elem(t->in->fd[IG_MAP_SOURCES], &idx, &set))
		return (double)pol->burst;
	for (int w = 0; w < IG_WAYS; w++) {
		__u64 id;

		memcpy(&id, &set.way[w], sizeof(id));
		if (id == ident) {
			double used = set.way[w].tat > now ?
				(double)(set.way[w].tat - now) * ig_rate_per_s(pol->rate, 1) / 1e9 : 0;

			return used >= (double)pol->burst ? 0 : (double)pol->burst - used;
		}
	}
	return (double)pol->burst;
}

struct row {
	const struct offender *o;
	double tokens;
	__u64 burst;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->o->proto != y->o->proto)
		return x->o->proto - y->o->proto;
	if (x->o->port != y->o->port)
		return x->o->port - y->o->port;
	if (x->o->drops != y->o->drops)
		return x->o->drops > y->o->drops ? -1 : 1;
	return x->tokens < y->tokens ? -1 : x->tokens > y->tokens;
}

/* The first n rows of each port (rows sorted by port, then drops). */
static int shown(const struct row *rows, int i, int n, int *k)
{
	const struct offender *o = rows[i].o;
	int first = !i || rows[i - 1].o->port != o->port || rows[i - 1].o->proto != o->proto;

	if (first)
		*k = 0;
	return (*k)++ < n;
}

static void render_json(const struct ig_instance *in, const struct row *rows, int nr, int n,
			__u64 ms, FILE *out)
{
	char a[IG_ADDR_STRLEN], sampling[64], key_name[IG_KEY_NAME_LEN];
	struct ig_json j;
	int k = 0, open = 0;

	ig_json_init(&j, out, 0);
	ig_json_obj_open(&j);
	ig_json_key(&j, "ports");
	ig_json_arr_open(&j);
	for (int i = 0; i < nr; i++) {
		const struct offender *o = rows[i].o;

		if (!shown(rows, i, n, &k))
			continue;
		if (k == 1) { /* a port's first source */
			if (open) {
				ig_json_arr_close(&j);
				ig_json_obj_close(&j);
			}
			open = 1;
			ig_json_obj_open(&j);
			ig_json_ku64(&j, "port", o->port);
			ig_json_kstr(&j, "proto", ig_proto_name((enum ig_proto)o->proto));
			ig_json_key(&j, "sources");
			ig_json_arr_open(&j);
		}
		/* an API key's client: "key:<hash>", and its name apart */
		ig_client_format(NULL, o->addr, a, sizeof(a));
		ig_json_obj_open(&j);
		ig_json_kstr(&j, "source", a);
		if (!ig_client_key_name(in, o->addr, key_name, sizeof(key_name)))
			ig_json_kstr(&j, "key_name", key_name);
		ig_json_ku64(&j, "sampled_drops", o->drops);
		ig_json_kdouble(&j, "tokens_left", rows[i].tokens);
		ig_json_ku64(&j, "burst", rows[i].burst);
		ig_json_ku64(&j, "last_seen_ms_ago", ms - o->last_ms);
		ig_json_kstr(&j, "last_reason", ig_reason_name((enum ig_reason)o->reason));
		ig_json_kstr(&j, "last_level", ig_level_name((enum ig_level)o->level));
		ig_json_obj_close(&j);
	}
	if (open) {
		ig_json_arr_close(&j);
		ig_json_obj_close(&j);
	}
	ig_json_arr_close(&j);
	snprintf(sampling, sizeof(sampling), "one drop per CPU per %llu us",
		 (unsigned long long)(IG_EVENT_INTERVAL_NS / 1000));
	ig_json_kstr(&j, "sampling", sampling);
	ig_json_obj_close(&j);
	ig_json_end(&j);
}

static void render_text(const struct ig_instance *in, const struct row *rows, int nr, int n,
			__u64 ms, FILE *out)
{
	char a[IG_ADDR_STRLEN], name[16];
	int k = 0;

	fprintf(out, "%-11s %-39s %10s %12s %8s %s\n", "PORT", "SOURCE", "DROPS~", "TOKENS LEFT",
		"AGO", "LAST REASON");
	for (int i = 0; i < nr; i++) {
		const struct offender *o = rows[i].o;

		if (!shown(rows, i, n, &k))
			continue;
		ig_client_format(in, o->addr, a, sizeof(a));
		snprintf(name, sizeof(name), "%u/%s", o->port, ig_proto_name((enum ig_proto)o->proto));
		fprintf(out, "%-11s %-39s %10llu %12.1f %7.1fs %s (%s)\n", name, a,
			(unsigned long long)o->drops, rows[i].tokens, (double)(ms - o->last_ms) / 1000.0,
			ig_reason_name((enum ig_reason)o->reason), ig_level_name((enum ig_level)o->level));
	}
	if (!nr)
		fprintf(out, "(no drops sampled yet)\n");
	else
		fprintf(out, "DROPS~ are sampled: at most one drop per CPU per %llu us is seen.\n",
			(unsigned long long)(IG_EVENT_INTERVAL_NS / 1000));
}

/* The timed ports' response times above the offenders (text): what the
 * server itself is going through while they are refused. Since each port was
 * limited; status --json has the buckets. */
static void render_times(const struct ig_top *t, const struct ig_policy *all, FILE *out)
{
	for (__u32 i = 0; i < IG_POLICY_ENTRIES; i++) {
		struct ig_timing tm;
		__u64 n;

		if (!(all[i].flags & IG_POL_F_TIMED) || !all[i].slot || all[i].slot >= IG_MAX_SLOTS ||
		    ig_timing_read(t->in, all[i].slot, &tm))
			continue;
		n = ig_timing_count(tm.dur);
		fprintf(out, "%u/%s times: first token p50 %.0f ms p99 %.0f ms; duration p50 %.0f ms "
			     "p99 %.0f ms; %llu calls, %llu slow\n",
			i & 0xffff, ig_proto_name((enum ig_proto)(i >> 16)),
			ig_time_quantile_ms(tm.ttft, 0.5), ig_time_quantile_ms(tm.ttft, 0.99),
			ig_time_quantile_ms(tm.dur, 0.5), ig_time_quantile_ms(tm.dur, 0.99),
			(unsigned long long)n, (unsigned long long)tm.slow);
	}
	/* adaptive admission's rate next to the times it answers to */
	for (__u32 i = 0; i < IG_POLICY_ENTRIES; i++) {
		struct ig_adaptive ad;

		if (!all[i].slot || all[i].slot >= IG_MAX_SLOTS ||
		    ig_adaptive_get(t->in, all[i].slot, &ad) || ad.mode == IG_AD_OFF)
			continue;
		fprintf(out, "%u/%s adaptive (%s): %s, port rate %llu/s (static %llu/s); queue %.1f, "
			     "KV %.0f%%; first token p99 %.0f ms\n",
			i & 0xffff, ig_proto_name((enum ig_proto)(i >> 16)),
			ig_adaptive_mode_name(ad.mode), ig_adaptive_state_name(ad.state),
			(unsigned long long)ad.rate, (unsigned long long)ad.static_rate,
			ad.queue_milli / 1000.0, ad.kv_milli / 10.0, ad.ttft_p99_us / 1000.0);
	}
}

int ig_top_render(struct ig_top *t, int n, int json, FILE *out)
{
	struct row *rows = calloc(IG_TOP_SLOTS, sizeof(*rows));
	struct ig_policy *all = NULL;
	struct ig_seed seed = {};
	__u32 zero = 0;
	__u64 now = 0, ms = ig_mono_ms();
	int nr = 0, err;

	if (!rows)
		return -ENOMEM;
	err = ig_policy_read_all(t->in, &all);
	if (!err && bpf_map_lookup_elem(t->in->fd[IG_MAP_SEED], &zero, &seed))
		err = -errno;
	if (!err)
		err = ig_datapath_now(t->in, &now);
	if (err)
		goto out;
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < IG_TOP_SLOTS; i++) {
		const struct offender *o = &t->slot[i];
		const struct ig_policy *pol;

		if (!o->used || o->proto >= IG_PROTO_MAX)
			continue;
		pol = &all[IG_PORT_INDEX(o->proto, o->port)];
		rows[nr].o = o;
		rows[nr].burst = pol->burst;
		rows[nr].tokens = pol->slot ? tokens_left(t, pol, seed.value, now, o) : 0;
		nr++;
	}
	qsort(rows, (size_t)nr, sizeof(*rows), row_cmp);
	if (json)
		render_json(t->in, rows, nr, n, ms, out);
	else
		render_text(t->in, rows, nr, n, ms, out);
	pthread_mutex_unlock(&t->lock);
	if (!json)
		render_times(t, all, out);
out:
	free(all);
	free(rows);
	return err;
}
