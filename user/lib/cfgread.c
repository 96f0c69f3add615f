// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib/cfgread.h"

int ig_config_read(const char *path, struct ig_cfg_file **cfg, char *err, size_t errlen)
{
	/* on the heap: thousands of tier prefixes make it large for a stack */
	struct ig_cfg_file *c = calloc(1, sizeof(*c));
	int ret;

	*cfg = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = ig_config_load(path, c, err, errlen);
	if (ret) {
		free(c);
		return ret;
	}
	*cfg = c;
	return 0;
}
