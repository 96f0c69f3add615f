// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rates as written: see rate.h, and ig_abi.h for the word they are kept in. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include "lib/rate.h"
#include "lib/args.h"
#include "lib/json.h"

static const struct {
	const char *word;
	__u64 s;
} units[] = {
	{ "s", 1 }, { "sec", 1 }, { "second", 1 },
	{ "m", 60 }, { "min", 60 }, { "minute", 60 },
	{ "h", 3600 }, { "hour", 3600 },
	{ "d", 86400 }, { "day", 86400 },
};

/* "min", "10s", "15min", "12h": the period in seconds, 0 if not one. */
static __u64 parse_period(const char *p)
{
	__u64 count = 1;

	if (isdigit((unsigned char)*p)) {
		count = 0;
		for (; isdigit((unsigned char)*p); p++) {
			if (count > IG_RATE_PERIOD_MAX)
				return 0;
			count = count * 10 + (__u64)(*p - '0');
		}
		if (!count)
			return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(p, units[i].word))
			return count > IG_RATE_PERIOD_MAX / units[i].s + 1 ? 0 : count * units[i].s;
	return 0;
}

static int parse_rate(const char *s, __u64 *rate, __u64 dflt, const char *what)
{
	const char *slash = strchr(s, '/');
	__u64 n, per = dflt;

	if (slash) {
		per = parse_period(slash + 1);
		if (!per || per > IG_RATE_PERIOD_MAX) {
			ig_args_error("invalid %s '%s': the period after '/' is s, min (or m), h or d, "
				      "optionally with a count (5/10s, 100/15min), from 1 s to a day",
				      what, s);
			return -EINVAL;
		}
	}
	if (ig_parse_scaled(s, slash, &n) || n == 0 || n > IG_RATE_MAX) {
		ig_args_error("invalid %s '%s': expected N/PERIOD (100/s, 3/min, 2/h, 500/d, 5/10s) "
			      "with N a whole number from 1 to %llu", what, s, IG_RATE_MAX);
		return -EINVAL;
	}
	*rate = ig_rate_make(n, per, dflt);
	return 0;
}

int ig_parse_rate(const char *s, __u64 *rate)
{
	return parse_rate(s, rate, 1, "rate");
}

int ig_parse_tokens(const char *s, __u64 *tokens)
{
	return parse_rate(s, tokens, IG_TOKEN_PERIOD_S, "token budget");
}

char *ig_rate_str(__u64 rate, __u64 dflt, char *buf, size_t len)
{
	static const struct {
		const char *word;
		__u64 s;
	} shown[] = { { "d", 86400 }, { "h", 3600 }, { "min", 60 }, { "s", 1 } };
	__u64 per = ig_rate_period(rate, dflt);

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		if (per % shown[i].s)
			continue;
		if (per == shown[i].s)
			snprintf(buf, len, "%llu/%s", (unsigned long long)ig_rate_n(rate), shown[i].word);
		else
			snprintf(buf, len, "%llu/%llu%s", (unsigned long long)ig_rate_n(rate),
				 (unsigned long long)(per / shown[i].s), shown[i].word);
		break;
	}
	return buf;
}

const char *ig_rate_s(__u64 rate)
{
	static char ring[4][IG_RATE_STR];
	static unsigned next;

	return ig_rate_str(rate, 1, ring[next++ % 4], IG_RATE_STR);
}

double ig_rate_per_s(__u64 rate, __u64 dflt)
{
	return (double)ig_rate_n(rate) / (double)ig_rate_period(rate, dflt);
}

int ig_rate_cmp(__u64 a, __u64 b)
{
	unsigned __int128 x = (unsigned __int128)ig_rate_n(a) * ig_rate_period(b, 1);
	unsigned __int128 y = (unsigned __int128)ig_rate_n(b) * ig_rate_period(a, 1);

	return x < y ? -1 : x > y;
}

__u64 ig_rate_default_burst(__u64 rate)
{
	__u64 n = ig_rate_n(rate);

	return n > IG_MAX_BURST ? IG_MAX_BURST : n; /* 0 for a rate of 0, as before */
}

int ig_rate_check_burst(__u64 rate, __u64 burst, const char *what)
{
	__u64 n = ig_rate_n(rate), per = ig_rate_period(rate, 1);

	if (!n || (unsigned __int128)burst * per <= (unsigned __int128)IG_RATE_MAX_REFILL_S * n)
		return 0;
	ig_args_error("%s %llu at %s: a full burst would take %llu years to refill; at most %llu",
		      what, (unsigned long long)burst, ig_rate_s(rate),
		      (unsigned long long)((unsigned __int128)burst * per / n / 31557600),
		      (unsigned long long)((unsigned __int128)IG_RATE_MAX_REFILL_S * n / per));
	return -ERANGE;
}

void ig_json_rate(struct ig_json *j, const char *key, __u64 rate, __u64 dflt)
{
	char k[64], t[IG_RATE_STR];

	ig_json_ku64(j, key, ig_rate_n(rate));
	snprintf(k, sizeof(k), "%s_period_s", key);
	ig_json_ku64(j, k, ig_rate_period(rate, dflt));
	snprintf(k, sizeof(k), "%s_text", key);
	ig_json_kstr(j, k, ig_rate_str(rate, dflt, t, sizeof(t)));
}
