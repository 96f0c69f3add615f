/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An inference engine's /metrics (Prometheus text format), read for adaptive
 * admission (issue 15): the engine recognised by its metric names, and the
 * few numbers the controller needs. Pure: a buffer in, numbers out.
 */
#ifndef IG_PROMTEXT_H
#define IG_PROMTEXT_H

#include <stddef.h>

enum ig_engine_kind {
	IG_ENGINE_UNKNOWN = 0,
	IG_ENGINE_VLLM,   /* vllm:num_requests_waiting, _running, kv_cache_usage_perc,
			   * (older) gpu_cache_usage_perc, request_success_total */
	IG_ENGINE_TGI,    /* tgi_queue_size, tgi_batch_current_size */
	IG_ENGINE_TRITON, /* nv_inference_pending_request_count */
};

/*
 * What a scrape says. Counts are summed over label sets (one engine serving
 * several models, or several engines behind one endpoint: their queues add
 * up); KV-cache use is the largest of them (the fullest cache is the one that
 * preempts). NAN: the engine does not export it (or sent NaN).
 */
struct ig_engine_sample {
	enum ig_engine_kind kind;
	double queue;     /* requests waiting */
	double running;   /* requests being decoded */
	double kv;        /* KV-cache use, 0..1 */
	double completed; /* requests finished so far (a counter) */
};

/* 0, or -ENOENT when no line names a metric of a known engine (an empty or
 * garbage body: the scrape counts as failed). Malformed lines are skipped. */
int ig_prom_parse(const char *text, size_t len, struct ig_engine_sample *out);

const char *ig_engine_kind_name(enum ig_engine_kind k);

#endif
