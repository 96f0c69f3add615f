/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Active health probes with libcurl's multi interface: an HTTP GET of a URL
 * (healthy: a 2xx or 3xx answer within the timeout) or a bare TCP connect.
 * Probes of all breakers run concurrently inside the agent's one loop; none
 * blocks it for longer than the time to the next tick.
 */
#ifndef IG_PROBE_H
#define IG_PROBE_H

#include <linux/types.h>
#include "lib/config.h"

struct ig_probe {
	void *easy;       /* CURL *, while a probe is in flight */
	char errbuf[256];
	/* a fetch (ig_probe_fetch) keeps the body, up to body_cap bytes */
	char *body;
	size_t body_len, body_cap;
	/* how it ended, kept for an owner that does not read ig_prober_done
	 * itself (the breakers drain it; adaptive admission reads these) */
	int finished, ok;
};

struct ig_prober {
	void *multi;      /* CURLM * */
};

int ig_prober_init(struct ig_prober *pr);
void ig_prober_free(struct ig_prober *pr);
/* Start a probe (pr must outlive it); -errno when it cannot be started. */
int ig_probe_start(struct ig_prober *pr, struct ig_probe *p, enum ig_probe_kind kind,
		   const char *target, __u64 timeout_ms);
/* A GET of url whose body is kept (up to max_body bytes, the rest
 * dropped); the end is marked in p->finished and p->ok (a 2xx), for the
 * owner to take with ig_probe_take_body(). */
int ig_probe_fetch(struct ig_prober *pr, struct ig_probe *p, const char *url, __u64 timeout_ms,
		   size_t max_body);
/* Forget a finished probe's result and body (keeps the buffer). */
void ig_probe_reset(struct ig_probe *p);
/* Free a fetch's buffer (after ig_probe_cancel). */
void ig_probe_free(struct ig_probe *p);
static inline int ig_probe_busy(const struct ig_probe *p)
{
	return p->easy != 0;
}
/* Abandon a probe in flight (no-op when idle). */
void ig_probe_cancel(struct ig_prober *pr, struct ig_probe *p);
/* Run transfers; wait up to timeout_ms for something to happen, or for input
 * on one of the nfds extra fds (at most IG_PROBER_EXTRA_FDS). */
#define IG_PROBER_EXTRA_FDS 32
int ig_prober_wait(struct ig_prober *pr, int timeout_ms, const int *fds, int nfds);
/* A finished probe, or NULL. `success` and `detail` ("HTTP 200", "timeout
 * after 1000 ms", "Connection refused") say how it went. */
struct ig_probe *ig_prober_done(struct ig_prober *pr, int *success, char *detail, size_t len);

#endif
