/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whether a text from elsewhere (Redis, which every node and anyone with its
 * password write) is one JSON object, by the grammar and nothing more, so it
 * can be passed on inside a document of ours without breaking it. Nesting
 * deeper than IG_JSON_MAX_DEPTH is refused.
 */
#ifndef IG_JSONCHECK_H
#define IG_JSONCHECK_H

#include <stddef.h>

int ig_json_is_object(const char *s, size_t len);

#endif
