/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Lua scripts the fleet sync runs on Redis (fleet.c), one per way of
 * counting: each keeps the port's algorithm on Redis's own clock (hosts'
 * clocks never meet) and returns how long, in us, the source must wait
 * before the fleet admits one more unit (<= 0: now).
 *
 * One ARGV for all of them, so the sync sends the same words whatever the
 * port counts with: KEYS[1] the (port, source)'s key; ARGV units charged, N,
 * burst, the rate's period in us (a rate is N per period as written: 3/min
 * is N 3 over 60 s), the longest debt held. The windows read N and the
 * period as the window (N per period); the GCRA reads all five.
 *
 * Redis is shared and not trusted: a key holding something else than what
 * the script wrote (not a number, not a string at all, a negative count)
 * counts as empty and is overwritten, so one bad key costs that source's
 * count, never the sync of every source nor more than one window's N.
 */
#ifndef IG_FLEET_LUA_H
#define IG_FLEET_LUA_H

enum ig_fleet_script {
	IG_FLEET_GCRA,    /* token-bucket; leaky-bucket is it with burst 1 */
	IG_FLEET_FIXED,   /* fixed-window */
	IG_FLEET_SLIDING, /* sliding-window */
	IG_FLEET_NSCRIPTS,
};

extern const char *const ig_fleet_lua[IG_FLEET_NSCRIPTS];
extern const char *const ig_fleet_lua_name[IG_FLEET_NSCRIPTS];

#endif
