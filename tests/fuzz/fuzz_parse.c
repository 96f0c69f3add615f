// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the data path's parser (bpf/pure/parse.h), built natively
 * with ASan and UBSan: any frame, any length. The input is copied into an
 * exact-size heap buffer, so reading one byte past the frame is reported.
 * Besides not crashing, a parse that succeeds must describe the frame it read,
 * and every result must be one the caller knows.
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
	if (r < IG_PARSE_OK || r > IG_PARSE_V4MAPPED)
		abort();
	if (r == IG_PARSE_OK) {
		size_t l4 = p.proto == IG_PROTO_TCP ? sizeof(struct ig_tcp) : sizeof(struct ig_udp);

		/* the transport header lies inside the frame, after the IP header,
		 * and inside the datagram the IP header describes (0: BIG TCP) */
		if (p.l4_off + l4 > size || p.l3_off < sizeof(struct ig_eth) ||
		    p.l4_off < p.l3_off + sizeof(struct ig_ipv4) || p.nvlan > IG_MAX_VLANS ||
		    p.proto >= IG_PROTO_MAX)
			abort();
		if (p.ip_len > (p.ipv6 ? sizeof(struct ig_ipv6) : 0) &&
		    p.l4_off + l4 > (size_t)p.l3_off + p.ip_len)
			abort();
	}
	free(frame);
	return 0;
}
