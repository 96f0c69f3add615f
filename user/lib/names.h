/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The words for the ABI's enums (bpf/ig_abi.h), in one place: status, metrics,
 * top, the log and the parsers all say the same word for the same value. Each
 * table is checked against its enum's size at compile time, so a value added
 * to the ABI without a name does not build.
 */
#ifndef IG_NAMES_H
#define IG_NAMES_H

#include <linux/types.h>
#include "ig_abi.h"

/* Each returns a fixed word; a value out of range gives "unknown" (levels:
 * "?", tier kinds: "tier", as the outputs always said). */
const char *ig_proto_name(enum ig_proto proto);
const char *ig_unit_name(enum ig_unit unit);
const char *ig_action_name(enum ig_action action);
const char *ig_reason_name(enum ig_reason reason);
const char *ig_clock_name(enum ig_clock clock);
const char *ig_level_name(enum ig_level level);
const char *ig_tier_kind_name(enum ig_tier_kind kind);
const char *ig_brk_state_name(enum ig_brk_state state);
const char *ig_brk_force_name(enum ig_brk_force force);
const char *ig_http_class_name(enum ig_http_class c);
const char *ig_route_name(enum ig_route route);
/* How a token port's replies are counted (limit --token-count, token_count =). */
const char *ig_token_count_name(enum ig_token_count c);
/* The same words, NULL-terminated and indexed by value: what the command
 * line's enum option and the parser take. */
extern const char *const ig_token_count_names[IG_TC_MAX + 1];

#endif
