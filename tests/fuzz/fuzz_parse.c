// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the data path's parser (bpf/pure/parse.h), built natively
 * with ASan and UBSan: any frame, any length. The input is copied into an
 * exact-size heap buffer, so reading one byte past the frame is reported.
 * Besides not crashing, a parse that succeeds must describe the frame it read.
 */
#include <stdlib.h>
#include <string.h>
#include "pure/parse.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned char *frame = malloc(size ? size : 1);
	struct ig_pkt p;
	int r;

	if (!frame)
		return 0;
	memcpy(frame, data, size);
	memset(&p, 0, sizeof(p));
	r = ig_parse(frame, frame + size, &p);
	if (r == IG_PARSE_OK) {
		size_t l4 = p.proto == IG_PROTO_TCP ? sizeof(struct ig_tcp) : sizeof(struct ig_udp);

		/* the transport header lies inside the frame, after the IP header */
		if (p.l4_off + l4 > size || p.l3_off < sizeof(struct ig_eth) ||
		    p.l4_off < p.l3_off + sizeof(struct ig_ipv4) || p.nvlan > 2 ||
		    p.proto >= IG_PROTO_MAX)
			abort();
	}
	free(frame);
	return 0;
}
