// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Whether a text is one JSON object: see jsoncheck.h. */
#include <ctype.h>
#include <string.h>
#include "lib/jsoncheck.h"
#include "lib/json.h"

struct jscan {
	const char *p, *end;
	int depth;
};

static void ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int lit(struct jscan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
		return 0;
	s->p += n;
	return 1;
}

static int jstring(struct jscan *s)
{
	if (s->p >= s->end || *s->p++ != '"')
		return 0;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p++;

		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (s->p >= s->end)
			return 0;
		c = (unsigned char)*s->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, s->p++)
				if (s->p >= s->end || !isxdigit((unsigned char)*s->p))
					return 0;
		} else if (!strchr("\"\\/bfnrt", c)) {
			return 0;
		}
	}
	return 0;
}

static int jnumber(struct jscan *s)
{
	const char *start = s->p;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	while (s->p < s->end && (isdigit((unsigned char)*s->p) || strchr(".eE+-", *s->p)))
		s->p++;
	return s->p > start && isdigit((unsigned char)s->p[-1]);
}

static int jvalue(struct jscan *s)
{
	int ok = 1;

	ws(s);
	if (s->p >= s->end)
		return 0;
	if (*s->p == '"')
		return jstring(s);
	if (*s->p != '{' && *s->p != '[')
		return lit(s, "true") || lit(s, "false") || lit(s, "null") || jnumber(s);
	if (++s->depth > IG_JSON_MAX_DEPTH)
		return 0;
	if (*s->p++ == '{') {
		ws(s);
		if (!lit(s, "}")) {
			do {
				ws(s);
				ok = jstring(s);
				ws(s);
				ok = ok && lit(s, ":") && jvalue(s);
				ws(s);
			} while (ok && lit(s, ","));
			ok = ok && lit(s, "}");
		}
	} else {
		ws(s);
		if (!lit(s, "]")) {
			do
				ok = jvalue(s);
			while (ok && (ws(s), lit(s, ",")));
			ok = ok && lit(s, "]");
		}
	}
	s->depth--;
	return ok;
}

int ig_json_is_object(const char *v, size_t len)
{
	struct jscan s = { .p = v, .end = v + len };

	ws(&s);
	if (s.p >= s.end || *s.p != '{' || !jvalue(&s))
		return 0;
	ws(&s);
	return s.p == s.end;
}
