/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A small HTTP client (libcurl) for the command line's talks with the agent. */
#ifndef IG_LIB_HTTP_H
#define IG_LIB_HTTP_H

#include <stddef.h>
#include <stdio.h>

/* GET url, the body written to out as it arrives. 0 when an answer came, its
 * status in *status; -ECONNREFUSED, -ETIMEDOUT or -EIO when none did, and
 * -ENOMEM when libcurl cannot start: libcurl's reason in err either way. */
int ig_http_get(const char *url, long timeout_ms, FILE *out, long *status, char *err,
		size_t errlen);

#endif
