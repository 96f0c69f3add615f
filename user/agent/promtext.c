// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* An engine's /metrics read for adaptive admission: see promtext.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "agent/promtext.h"

enum field { F_QUEUE, F_RUNNING, F_KV, F_COMPLETED };

static const struct {
	const char *name;
	enum ig_engine_kind kind;
	enum field field;
} known[] = {
	{ "vllm:num_requests_waiting", IG_ENGINE_VLLM, F_QUEUE },
	{ "vllm:num_requests_running", IG_ENGINE_VLLM, F_RUNNING },
	{ "vllm:kv_cache_usage_perc", IG_ENGINE_VLLM, F_KV },
	{ "vllm:gpu_cache_usage_perc", IG_ENGINE_VLLM, F_KV },
	{ "vllm:request_success_total", IG_ENGINE_VLLM, F_COMPLETED },
	{ "tgi_queue_size", IG_ENGINE_TGI, F_QUEUE },
	{ "tgi_batch_current_size", IG_ENGINE_TGI, F_RUNNING },
	{ "nv_inference_pending_request_count", IG_ENGINE_TRITON, F_QUEUE },
};

static void add(double *acc, double v, int max)
{
	if (isnan(*acc))
		*acc = v;
	else if (max)
		*acc = v > *acc ? v : *acc;
	else
		*acc += v;
}

/* One sample line "name{labels} value [timestamp]" (no newline inside). */
static void line(const char *s, const char *end, struct ig_engine_sample *out)
{
	const char *p = s, *v;
	size_t n;
	double val;
	char num[64], *e;

	while (p < end && *p != '{' && *p != ' ' && *p != '\t')
		p++;
	n = (size_t)(p - s);
	if (p < end && *p == '{') { /* labels: skip to the closing brace, quotes respected */
		int quoted = 0;

		for (p++; p < end && (quoted || *p != '}'); p++) {
			if (quoted && *p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = !quoted;
		}
		if (p == end)
			return;
		p++;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	v = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	if (p == v || (size_t)(p - v) >= sizeof(num))
		return;
	memcpy(num, v, (size_t)(p - v));
	num[p - v] = '\0';
	val = strtod(num, &e);
	if (*e || isnan(val) || isinf(val) || val < 0) /* a gauge of NaN says nothing */
		return;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strlen(known[i].name) != n || memcmp(known[i].name, s, n))
			continue;
		if (out->kind == IG_ENGINE_UNKNOWN)
			out->kind = known[i].kind;
		else if (out->kind != known[i].kind)
			return; /* two engines' names on one endpoint: the first one wins */
		switch (known[i].field) {
		case F_QUEUE: add(&out->queue, val, 0); break;
		case F_RUNNING: add(&out->running, val, 0); break;
		case F_KV: add(&out->kv, val, 1); break;
		case F_COMPLETED: add(&out->completed, val, 0); break;
		}
		return;
	}
}

int ig_prom_parse(const char *text, size_t len, struct ig_engine_sample *out)
{
	const char *p = text, *end = text + len;

	out->kind = IG_ENGINE_UNKNOWN;
	out->queue = out->running = out->kv = out->completed = NAN;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		if (p < le && *p != '#')
			line(p, le > p && le[-1] == '\r' ? le - 1 : le, out);
		p = nl ? nl + 1 : end;
	}
	/* the KV gauge is a fraction; an engine that wrote percents is read as one */
	if (out->kv > 1.0 && out->kv <= 100.0)
		out->kv /= 100.0;
	return out->kind == IG_ENGINE_UNKNOWN ? -ENOENT : 0;
}

const char *ig_engine_kind_name(enum ig_engine_kind k)
{
	static const char *const n[] = { "unknown", "vllm", "tgi", "triton" };

	return (unsigned int)k <= IG_ENGINE_TRITON ? n[k] : "?";
}
