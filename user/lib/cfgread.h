/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A config file read into a struct of its own, for those that only look at
 * it (the command line: reload --config, status --fleet --config). */
#ifndef IG_CFGREAD_H
#define IG_CFGREAD_H

#include <stddef.h>
#include "lib/config.h"

/* Load and check path into a new struct (free() it): 0, or -errno with what
 * is wrong in err ("FILE:LINE: ..."; "out of memory"). */
int ig_config_read(const char *path, struct ig_cfg_file **cfg, char *err, size_t errlen);

#endif
