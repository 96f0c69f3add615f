// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "lib/args.h"
#include "lib/log.h"

/* Where parse errors go: the log (the CLI), or a caller's buffer (the config
 * file loader, which prefixes file:line). */
static char *capture_buf;
static size_t capture_len;

void ig_args_capture(char *buf, size_t len)
{
	capture_buf = buf;
	capture_len = len;
	if (buf && len)
		buf[0] = '\0';
}

__attribute__((format(printf, 1, 2))) void ig_args_error(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (capture_buf)
		snprintf(capture_buf, capture_len, "%s", msg);
	else
		ig_err("%s", msg);
}

/* what the parsers below say about a value */
#define args_err ig_args_error

/* Digits with an optional k/M/G suffix; the whole of s must be consumed up to
 * `stop` (or its end). */
int ig_parse_scaled(const char *s, const char *stop, __u64 *out)
{
	__u64 v = 0, mult = 1;
	const char *p = s;

	if (!stop)
		stop = s + strlen(s);
	if (p == stop || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; p < stop && isdigit((unsigned char)*p); p++) {
		if (v > (~0ULL - 9) / 10)
			return -ERANGE;
		v = v * 10 + (__u64)(*p - '0');
	}
	if (p < stop) {
		switch (*p) {
		case 'k': case 'K': mult = 1000ULL; break;
		case 'M': mult = 1000000ULL; break;
		case 'G': mult = 1000000000ULL; break;
		default: return -EINVAL;
		}
		if (++p != stop)
			return -EINVAL;
	}
	if (v && mult > ~0ULL / v)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int ig_parse_port_spec(const char *s, __u16 *port, enum ig_proto *proto, int *proto_given)
{
	const char *slash = strchr(s, '/');
	__u64 v;

	*proto = IG_PROTO_TCP;
	*proto_given = 0;
	if (slash) {
		if (!strcmp(slash + 1, "tcp")) {
			*proto = IG_PROTO_TCP;
		} else if (!strcmp(slash + 1, "udp")) {
			*proto = IG_PROTO_UDP;
		} else {
			args_err("invalid port '%s': protocol must be tcp or udp", s);
			return -EINVAL;
		}
		*proto_given = 1;
	}
	if (ig_parse_scaled(s, slash, &v) || (slash ? slash - s : (long)strlen(s)) > 5 || v < 1 ||
	    v > 65535) {
		args_err("invalid port '%s': expected 1..65535, optionally /tcp or /udp", s);
		return -EINVAL;
	}
	for (const char *p = s; p < (slash ? slash : s + strlen(s)); p++)
		if (!isdigit((unsigned char)*p)) {
			args_err("invalid port '%s': expected 1..65535, optionally /tcp or /udp", s);
			return -EINVAL;
		}
	*port = (__u16)v;
	return 0;
}

int ig_parse_count(const char *s, const char *what, __u64 min, __u64 max, __u64 *out)
{
	__u64 v;

	if (ig_parse_scaled(s, NULL, &v) || v < min || v > max) {
		args_err("invalid %s '%s': expected a whole number from %llu to %llu", what, s,
		       (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int ig_byte_burst_warn(__u64 burst, int tc, const char *where)
{
	__u64 need = tc ? IG_BYTE_MAX_GRO : IG_BYTE_MAX_FRAME;

	if (burst >= need)
		return 0;
	ig_warn("%sburst %llu bytes is below %s (%llu bytes): such packets are admitted only from a full bucket, and leave the source owing the rest%s",
		where, (unsigned long long)burst,
		tc ? "a GRO aggregate, which tc charges whole" : "one full-size frame",
		(unsigned long long)need, tc ? " (or turn GRO off: ethtool -K DEV gro off)" : "");
	return 1;
}

int ig_parse_unit(const char *s, enum ig_unit *unit)
{
	for (int i = 0; i < IG_UNIT_MAX; i++)
		if (!strcmp(s, ig_unit_name((enum ig_unit)i))) {
			*unit = (enum ig_unit)i;
			return 0;
		}
	args_err("invalid unit '%s': expected conn, packet, byte or request", s);
	return -EINVAL;
}

int ig_parse_action(const char *s, enum ig_action *action)
{
	for (int i = 0; i < IG_ACTION_MAX; i++)
		if (!strcmp(s, ig_action_name((enum ig_action)i))) {
			*action = (enum ig_action)i;
			return 0;
		}
	args_err("invalid action '%s': expected drop, reject or 429", s);
	return -EINVAL;
}

int ig_parse_token_count(const char *s, enum ig_token_count *c)
{
	for (int i = 0; i < IG_TC_MAX; i++)
		if (!strcmp(s, ig_token_count_name((enum ig_token_count)i))) {
			*c = (enum ig_token_count)i;
			return 0;
		}
	args_err("invalid token_count '%s': expected usage, events or bytes", s);
	return -EINVAL;
}

int ig_parse_duration(const char *s, const char *what, __u64 min_ms, __u64 max_ms, __u64 *ms)
{
	static const struct { const char *sfx; __u64 ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { "", 1000 },
	};
	const char *p = s;
	__u64 v = 0;

	while (isdigit((unsigned char)*p) && v < 1000000000ULL)
		v = v * 10 + (__u64)(*p++ - '0');
	for (size_t i = 0; p != s && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].sfx))
			continue;
		v *= units[i].ms;
		if (v < min_ms || v > max_ms)
			break;
		*ms = v;
		return 0;
	}
	args_err("invalid %s '%s': expected a duration from %llu ms to %llu s, like 500ms, 10s, 5m "
		 "(a bare number is seconds)", what, s, (unsigned long long)min_ms,
		 (unsigned long long)(max_ms / 1000));
	return -EINVAL;
}

int ig_parse_percent(const char *s, const char *what, __u32 *pct)
{
	const char *p = s;
	__u32 v = 0;

	while (isdigit((unsigned char)*p) && v < 1000)
		v = v * 10 + (__u32)(*p++ - '0');
	if (p == s || (*p && strcmp(p, "%")) || v < 1 || v > 100) {
		args_err("invalid %s '%s': expected a percentage from 1%% to 100%%", what, s);
		return -EINVAL;
	}
	*pct = v;
	return 0;
}
