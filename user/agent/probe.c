// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "agent/probe.h"
#include "lib/log.h"

int ig_prober_init(struct ig_prober *pr)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		ig_err("cannot initialise libcurl");
		return -ENOMEM;
	}
	pr->multi = curl_multi_init();
	if (!pr->multi) {
		ig_err("cannot initialise libcurl's multi interface");
		curl_global_cleanup();
		return -ENOMEM;
	}
	return 0;
}

void ig_prober_free(struct ig_prober *pr)
{
	if (!pr->multi)
		return;
	curl_multi_cleanup(pr->multi);
	pr->multi = NULL;
	curl_global_cleanup();
}

static size_t discard(char *ptr, size_t size, size_t n, void *user)
{
	(void)ptr;
	(void)user;
	return size * n;
}

static size_t keep(char *ptr, size_t size, size_t n, void *user)
{
	struct ig_probe *p = user;
	size_t len = size * n, room = p->body_cap - p->body_len;

	/* past the cap the rest is dropped, not an error: what fits is parsed */
	memcpy(p->body + p->body_len, ptr, len < room ? len : room);
	p->body_len += len < room ? len : room;
	return len;
}

int ig_probe_fetch(struct ig_prober *pr, struct ig_probe *p, const char *url, __u64 timeout_ms,
		   size_t max_body)
{
	int err;

	if (!p->body || p->body_cap != max_body) {
		char *b = realloc(p->body, max_body);

		if (!b) {
			ig_err("cannot fetch %s: out of memory", url);
			return -ENOMEM;
		}
		p->body = b;
		p->body_cap = max_body;
	}
	ig_probe_reset(p);
	err = ig_probe_start(pr, p, IG_PROBE_HTTP, url, timeout_ms);
	if (!err) {
		curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, keep);
		curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
		curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "infergate-adaptive");
	}
	return err;
}

void ig_probe_reset(struct ig_probe *p)
{
	p->body_len = 0;
	p->finished = p->ok = 0;
}

void ig_probe_free(struct ig_probe *p)
{
	free(p->body);
	p->body = NULL;
	p->body_cap = p->body_len = 0;
}

int ig_probe_start(struct ig_prober *pr, struct ig_probe *p, enum ig_probe_kind kind,
		   const char *target, __u64 timeout_ms)
{
	char url[600];
	CURL *e;

	if (kind == IG_PROBE_TCP)
		snprintf(url, sizeof(url), "http://%s/", target); /* connect only, below */
	else
		snprintf(url, sizeof(url), "%s", target);
	e = curl_easy_init();
	if (!e) {
		ig_err("cannot start a probe of %s: out of memory", target);
		return -ENOMEM;
	}
	p->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "infergate-probe");
	/* a fresh connection each time: a reused one says little about the
	 * server's ability to accept */
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	if (kind == IG_PROBE_TCP)
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	if (curl_multi_add_handle(pr->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		ig_err("cannot start a probe of %s", target);
		return -EIO;
	}
	p->easy = e;
	return 0;
}

void ig_probe_cancel(struct ig_prober *pr, struct ig_probe *p)
{
	if (!p->easy)
		return;
	curl_multi_remove_handle(pr->multi, p->easy);
	curl_easy_cleanup(p->easy);
	p->easy = NULL;
}

int ig_prober_wait(struct ig_prober *pr, int timeout_ms, const int *fds, int nfds)
{
	struct curl_waitfd w[IG_PROBER_EXTRA_FDS] = {};
	int running;

	if (nfds > IG_PROBER_EXTRA_FDS)
		nfds = IG_PROBER_EXTRA_FDS;
	for (int i = 0; i < nfds; i++) {
		w[i].fd = fds[i];
		w[i].events = CURL_WAIT_POLLIN;
	}
	if (curl_multi_perform(pr->multi, &running) != CURLM_OK)
		return -EIO;
	if (curl_multi_poll(pr->multi, nfds > 0 ? w : NULL, (unsigned int)(nfds > 0 ? nfds : 0),
			    timeout_ms > 0 ? timeout_ms : 0, NULL) != CURLM_OK)
		return -EIO;
	return curl_multi_perform(pr->multi, &running) == CURLM_OK ? 0 : -EIO;
}

struct ig_probe *ig_prober_done(struct ig_prober *pr, int *success, char *detail, size_t len)
{
	struct ig_probe *p = NULL;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(pr->multi, &left))) {
		long code = 0;
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		p = (struct ig_probe *)priv;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (m->data.result == CURLE_OK && code == 0) {
			*success = 1; /* connect-only probe: connected */
			snprintf(detail, len, "connected");
		} else if (m->data.result == CURLE_OK) {
			*success = code >= 200 && code < 400;
			snprintf(detail, len, "HTTP %ld", code);
		} else {
			*success = 0;
			snprintf(detail, len, "%s", p->errbuf[0] ? p->errbuf :
				 curl_easy_strerror(m->data.result));
		}
		curl_multi_remove_handle(pr->multi, m->easy_handle);
		curl_easy_cleanup(m->easy_handle);
		p->easy = NULL;
		p->finished = 1;
		p->ok = p->body ? (code >= 200 && code < 300 && m->data.result == CURLE_OK) : *success;
		break;
	}
	return p;
}
