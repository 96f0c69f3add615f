// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include "lib/util.h"

__u64 ig_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

int ig_run_path(const char *pin_dir, const char *suffix, char *buf, size_t len)
{
	size_t n, sl = 0;

	while (suffix[sl])
		sl++;
	n = (size_t)snprintf(buf, len, IG_RUN_DIR "/");
	while (*pin_dir == '/')
		pin_dir++;
	for (; *pin_dir; pin_dir++) {
		if (n + sl + 1 >= len)
			return -ENAMETOOLONG;
		buf[n++] = *pin_dir == '/' ? '_' : *pin_dir;
	}
	if (n + sl + 1 > len)
		return -ENAMETOOLONG;
	snprintf(buf + n, len - n, "%s", suffix);
	return 0;
}
