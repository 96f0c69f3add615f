/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IG_LOG_H
#define IG_LOG_H

#include <stdarg.h>

#define IG_VERSION "0.14.5"

enum ig_log_level {
	IG_LOG_ERROR = 0,
	IG_LOG_WARN = 1,
	IG_LOG_INFO = 2,
	IG_LOG_DEBUG = 3, /* -v: also libbpf's warnings and info */
	IG_LOG_TRACE = 4, /* -vv: also libbpf's debug output */
};

/* Messages at or below this level are printed (default IG_LOG_INFO; -v raises it). */
void ig_log_set_level(enum ig_log_level level);
enum ig_log_level ig_log_get_level(void);

/* Errors and warnings go to stderr as "infergate: ...", info to stdout. */
void ig_log(enum ig_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Route libbpf's own messages through ig_log (its warnings only with -v:
 * our callers already say what failed in one line). */
void ig_log_setup_libbpf(void);

#define ig_err(...) ig_log(IG_LOG_ERROR, __VA_ARGS__)
#define ig_warn(...) ig_log(IG_LOG_WARN, __VA_ARGS__)
#define ig_info(...) ig_log(IG_LOG_INFO, __VA_ARGS__)
#define ig_dbg(...) ig_log(IG_LOG_DEBUG, __VA_ARGS__)

#endif
