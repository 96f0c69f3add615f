/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IG_STATUS_H
#define IG_STATUS_H

#include <stdio.h>

/* Print the instance: attachments, reject budget, ports with their policies,
 * counters and tracked sources. */
int ig_status(const char *pin_dir, int json, FILE *out);

#endif
