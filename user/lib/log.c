// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

static enum ig_log_level log_level = IG_LOG_INFO;

void ig_log_set_level(enum ig_log_level level)
{
	log_level = level;
}

enum ig_log_level ig_log_get_level(void)
{
	return log_level;
}

static void ig_vlog(enum ig_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	FILE *out = level <= IG_LOG_WARN ? stderr : stdout;

	if (level > log_level)
		return;
	if (prefix)
		fputs(prefix, out);
	vfprintf(out, fmt, ap);
}

void ig_log(enum ig_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ig_vlog(level, level == IG_LOG_ERROR ? "infergate: " :
		       level == IG_LOG_WARN ? "infergate: warning: " : NULL, fmt, ap);
	va_end(ap);
	if (level <= IG_LOG_WARN)
		fputc('\n', stderr);
	else if (level <= log_level)
		fputc('\n', stdout);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum ig_log_level need = level == LIBBPF_DEBUG ? IG_LOG_TRACE : IG_LOG_DEBUG;

	/* libbpf's warnings (the verifier log among them) only with -v: the
	 * caller already prints the one line that says what failed. */
	if (log_level < need)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void ig_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
