/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parsing of command-line values. Each parser logs one line naming the bad
 * value and returns -EINVAL; the words for the ABI enums are lib/names.h. */
#ifndef IG_ARGS_H
#define IG_ARGS_H

#include <stddef.h>
#include <linux/types.h>
#include "ig_abi.h"
#include "lib/names.h" /* the words of the enums these parse */

/* "8000", "8000/tcp", "53/udp". *proto_given tells whether a protocol was named. */
int ig_parse_port_spec(const char *s, __u16 *port, enum ig_proto *proto, int *proto_given);
#include "lib/rate.h" /* ig_parse_rate, ig_parse_tokens */
/* Digits with an optional k/M/G suffix (powers of 1000), up to stop (NULL:
 * the end): 0 or -EINVAL/-ERANGE, nothing logged. */
int ig_parse_scaled(const char *s, const char *stop, __u64 *out);
/* An error in a value: into the capture buffer when one is set, else logged. */
void ig_args_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A whole number in [min, max]; optional k/M/G suffix. `what` names it in errors. */
int ig_parse_count(const char *s, const char *what, __u64 min, __u64 max, __u64 *out);
int ig_parse_unit(const char *s, enum ig_unit *unit);
int ig_parse_action(const char *s, enum ig_action *action);
/* usage, events or bytes (the config's token_count). */
int ig_parse_token_count(const char *s, enum ig_token_count *c);

/* A duration: 500ms, 10s, 5m (or 5min), 1h, 1d; a bare number is seconds. */
int ig_parse_duration(const char *s, const char *what, __u64 min_ms, __u64 max_ms, __u64 *ms);
/* 50 or 50% (1..100). */
int ig_parse_percent(const char *s, const char *what, __u32 *pct);
/* Send the parsers' error messages to `buf` instead of the log (NULL: back to
 * the log). */
void ig_args_capture(char *buf, size_t len);

/*
 * The largest packet the byte unit charges at once: a full-size frame (MTU
 * 1500) on XDP; on TC a GRO aggregate, whole (up to the 64 KiB of an IP
 * length; more with BIG TCP's gro_max_size). A burst below it never admits
 * such a packet. Warns, `where` first (a config's "file:line: "), and
 * returns 1 when the burst is below.
 */
#define IG_BYTE_MAX_FRAME 1514ULL
#define IG_BYTE_MAX_GRO (65535ULL + 14)
int ig_byte_burst_warn(__u64 burst, int tc, const char *where);


#endif
