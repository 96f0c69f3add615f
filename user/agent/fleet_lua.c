// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The fleet's Lua scripts: see fleet_lua.h for their common ARGV. */
#include "agent/fleet_lua.h"

/* Redis's clock, in us: every host's charge is timed by the same clock. */
#define LUA_NOW                                                                        \
	"local t = redis.call('TIME')\n"                                               \
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"

/*
 * A shared GCRA, allowed to run into debt so that what hosts admitted before
 * they learned is paid back. The key expires once the bucket is full again:
 * Redis holds only sources that spent something in the last burst/rate
 * seconds. A value that is not a number (GET fails on a list) counts as a
 * full bucket and is overwritten; a debt is held within ARGV[5].
 */
static const char gcra[] =
	LUA_NOW
	"local per = tonumber(ARGV[4]) / tonumber(ARGV[2])\n"
	"local cap = tonumber(ARGV[5])\n"
	"local v = redis.pcall('GET', KEYS[1])\n"
	"local tat = type(v) == 'string' and tonumber(v) or nil\n"
	"if not tat or tat ~= tat or tat < now then tat = now end\n"
	"tat = tat + tonumber(ARGV[1]) * per\n"
	"if tat > now + cap then tat = now + cap end\n"
	"redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX',\n"
	"           math.floor((tat - now) / 1000) + 1000)\n"
	"return math.floor(tat - now - (tonumber(ARGV[3]) - 1) * per)\n";

/*
 * The windows' shared part: window number `idx` of length `w` us (aligned to
 * Redis's clock), and charge(k, ttl_ms) = INCRBY the key by the units, with
 * an expiry set when the key is new. INCRBY fails on what is not an integer
 * (a word, a float, a list, one that would overflow): that key is
 * overwritten with this charge alone, as is a negative count (which would
 * hand out more than N). An integer planted without an expiry gets one, so
 * nothing written under our keys outlives its windows.
 */
#define LUA_WINDOW                                                                     \
	LUA_NOW                                                                        \
	"local d = tonumber(ARGV[1])\n"                                                \
	"local n = tonumber(ARGV[2])\n"                                                \
	"local w = tonumber(ARGV[4])\n"                                                \
	"local idx = math.floor(now / w)\n"                                            \
	"local left = (idx + 1) * w - now\n"                                           \
	"local function charge(k, ttl)\n"                                              \
	"  local c = redis.pcall('INCRBY', k, ARGV[1])\n"                                    \
	"  if type(c) ~= 'number' or c < d then\n"                                     \
	"    redis.call('SET', k, d, 'PX', ttl)\n"                                     \
	"    return d\n"                                                               \
	"  end\n"                                                                      \
	"  if c == d or redis.call('PTTL', k) < 0 then\n"                              \
	"    redis.call('PEXPIRE', k, ttl)\n"                                          \
	"  end\n"                                                                      \
	"  return c\n"                                                                 \
	"end\n"

/*
 * Fixed window: INCRBY on key:window and an expiry (the window and a second
 * more) when new. Once the count reaches N the source waits for the window's
 * end: the next unit would be over (as the data path's ig_win_wait says it).
 */
static const char fixed[] =
	LUA_WINDOW
	"local c = charge(KEYS[1] .. ':' .. string.format('%.0f', idx),\n"
	"                 math.floor(w / 1000) + 1000)\n"
	"if c >= n then return math.floor(left) end\n"
	"return 0\n";

/*
 * Sliding window: the current window's key is charged, the previous one's
 * read (each lives two windows and a second: through the next window, which
 * weighs it). The estimate prev * left / w + cur; the wait is until it has
 * fallen to N - 1, so that one more unit fits: in this window while
 * cur < N, else in the next (bpf/pure/window.h, ig_win_wait). A previous
 * count that is not a non-negative number counts as 0: the estimate is then
 * the current window's count alone, at most N.
 */
static const char sliding[] =
	LUA_WINDOW
	"local c = charge(KEYS[1] .. ':' .. string.format('%.0f', idx),\n"
	"                 math.floor(2 * w / 1000) + 1000)\n"
	"local v = redis.pcall('GET', KEYS[1] .. ':' .. string.format('%.0f', idx - 1))\n"
	"local p = type(v) == 'string' and tonumber(v) or 0\n"
	"if not p or p ~= p or p < 0 then p = 0 end\n"
	"if c < n then\n"
	"  if p <= n - c - 1 then return 0 end\n"
	"  local keep = math.floor((n - c - 1) * w / p)\n"
	"  if left > keep then return math.floor(left - keep) end\n"
	"  return 0\n"
	"end\n"
	"return math.floor(left + w - math.floor((n - 1) * w / c))\n";

const char *const ig_fleet_lua[IG_FLEET_NSCRIPTS] = {
	[IG_FLEET_GCRA] = gcra,
	[IG_FLEET_FIXED] = fixed,
	[IG_FLEET_SLIDING] = sliding,
};

const char *const ig_fleet_lua_name[IG_FLEET_NSCRIPTS] = {
	[IG_FLEET_GCRA] = "gcra",
	[IG_FLEET_FIXED] = "fixed-window",
	[IG_FLEET_SLIDING] = "sliding-window",
};
