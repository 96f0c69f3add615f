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
};

struct ig_prober {
	void *multi;      /* CURLM * */
};

int ig_prober_init(struct ig_prober *pr);
void ig_prober_free(struct ig_prober *pr);
/* Start a probe (pr must outlive it); -errno when it cannot be started. */
int ig_probe_start(struct ig_prober *pr, struct ig_probe *p, enum ig_probe_kind kind,
		   const char *target, __u64 timeout_ms);
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
