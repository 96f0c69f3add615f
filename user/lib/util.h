/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers every room uses: the monotonic clock and the per-instance
 * paths under /run/infergate. */
#ifndef IG_UTIL_H
#define IG_UTIL_H

#include <stddef.h>
#include <linux/types.h>

#define IG_RUN_DIR "/run/infergate"

/* CLOCK_MONOTONIC in milliseconds. */
__u64 ig_mono_ms(void);

/* IG_RUN_DIR "/<pin dir, '/' as '_', leading '_' dropped><suffix>", e.g. the
 * agent's pid file (".pid") and control socket (".sock"). Returns -ENAMETOOLONG
 * when it does not fit. */
int ig_run_path(const char *pin_dir, const char *suffix, char *buf, size_t len);

#endif
