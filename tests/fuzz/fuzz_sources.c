// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the source table (bpf/sources.h): one set of IG_WAYS
 * ways, a few sources, a sequence of charges (with and without leave to
 * claim), refunds and time read from the input. Invariants:
 *   - a source holds at most one way, and only a charged source holds one;
 *   - an admitted charge leaves the source in the set; a refused one, or a
 *     new source asked not to claim, writes nothing;
 *   - a set is full only when every way holds a source charged within the
 *     hold time, and a new source then takes nothing;
 *   - a refund gives back the tat, and the way when it was claimed for it;
 *   - the prefix of an address keeps its first len bits and clears the rest.
 */
#include "pure/sources.h"
#include "fuzz_input.h"

#define NS IG_NSEC_PER_SEC
#define NSRC 6

static int way_of(const struct ig_source_set *set, __u64 ident)
{
	for (int i = 0; i < IG_WAYS; i++)
		if (*(const __u64 *)(const void *)&set->way[i] == ident)
			return i;
	return -1;
}

static void check_set(const struct ig_source_set *set, const __u64 *pool, const int *charged)
{
	for (int i = 0; i < IG_WAYS; i++) {
		__u64 id = *(const __u64 *)(const void *)&set->way[i];
		int k;

		if (!id)
			continue;
		for (k = 0; k < NSRC && pool[k] != id; k++)
			;
		FZ_CHECK(k < NSRC && charged[k]); /* only a charged source holds a way */
		for (int j = i + 1; j < IG_WAYS; j++)
			FZ_CHECK(*(const __u64 *)(const void *)&set->way[j] != id);
	}
}

static void check_prefix(struct fz *in)
{
	__u8 addr[16], out[16], again[16];
	__u32 len = fz_u8(in) % 140;

	for (int i = 0; i < 16; i++)
		addr[i] = fz_u8(in);
	ig_prefix_of(addr, len, out);
	for (__u32 b = 0; b < 128; b++) {
		int bit = out[b / 8] >> (7 - b % 8) & 1;

		FZ_CHECK(b < len ? bit == (addr[b / 8] >> (7 - b % 8) & 1) : bit == 0);
	}
	ig_prefix_of(out, len, again);
	FZ_CHECK(!memcmp(out, again, 16));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fz in = { data, size };
	struct ig_source_set set = {};
	__u64 pool[NSRC], seed = fz_u64(&in), now = (fz_u64(&in) >> 8) + IG_HOLD_NS;
	__u64 rate = fz_scaled(&in, 7), burst = fz_scaled(&in, 3);
	struct ig_refund last = {};
	int charged[NSRC] = {}, last_k = -1;

	check_prefix(&in);
	for (int k = 0; k < NSRC; k++) {
		__u8 addr[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, (__u8)k };

		pool[k] = ig_source_ident(ig_source_hash(addr, 8000, IG_PROTO_TCP, seed), 8000,
					  IG_PROTO_TCP);
	}
	while (in.n) {
		__u8 op = fz_u8(&in);
		int k = op % NSRC, claim = !(op & 0x40), r, held = 0, used = 0, was;
		__u64 cost = 1 + (op >> 7);
		struct ig_source_set before = set;
		struct ig_refund rf = {};

		now += op & 0x20 ? (__u64)fz_u16(&in) << 20 : fz_u16(&in);
		/* a refund, as a level above the source would: of the charge just made */
		if ((op & 0x18) == 0x18) {
			if (last_k >= 0 && last.tat) {
				__u64 t = *last.tat;

				ig_refund(&last);
				FZ_CHECK(*last.tat == t - last.inc);
				if (last.owner)
					FZ_CHECK(last.tat[-1] == 0 || last.tat[-1] != last.owner);
			}
			last_k = -1;
			continue;
		}
		for (int i = 0; i < IG_WAYS; i++) {
			if (set.way[i].used) {
				used++;
				held += set.way[i].tat + IG_HOLD_NS > now;
			}
		}
		last_k = -1;
		was = way_of(&set, pool[k]);
		r = ig_source_charge_rf(&set, pool[k], now, cost, rate, burst, 0, claim, &rf);
		switch (r) {
		case IG_CHARGE_OK:
			FZ_CHECK(way_of(&set, pool[k]) >= 0);
			FZ_CHECK(was >= 0 || (rf.owner == pool[k] &&
					      rf.tat == &set.way[way_of(&set, pool[k])].tat));
			charged[k] = 1;
			last = rf;
			last_k = k;
			break;
		case IG_CHARGE_FULL:
			FZ_CHECK(was < 0 && used == IG_WAYS && held == IG_WAYS);
			/* fall through: nothing written */
		case IG_CHARGE_REFUSED:
		case IG_CHARGE_NEW:
			FZ_CHECK(!memcmp(&set, &before, sizeof(set)));
			FZ_CHECK(r != IG_CHARGE_NEW || (!claim && was < 0));
			break;
		default:
			FZ_CHECK(0); /* contended: there is no other CPU */
		}
		check_set(&set, pool, charged);
	}
	return 0;
}
