/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The loaded data path for BPF_PROG_TEST_RUN suites: one skeleton for the whole
 * run (verifying the programs takes seconds), reset to a fresh state per test.
 */
#ifndef IG_TEST_DP_H
#define IG_TEST_DP_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ig_abi.h"
#include "infergate.skel.h"
#include "frames.h"
#include "lib/instance.h"

#define XDP_PASS_RC 2
#define XDP_DROP_RC 1
#define XDP_TX_RC 3
#define TC_UNSPEC_RC ((__u32)-1)
#define TC_SHOT_RC 2
#define TC_REDIRECT_RC 7

#define SEC_NS 1000000000ULL
#define PORT 8000

enum hook { XDP, TC, NHOOKS };
extern const char *const hook_name[NHOOKS];
extern const __u32 rc_pass[NHOOKS];
extern const __u32 rc_drop[NHOOKS];
extern const __u32 rc_tx[NHOOKS];

/* The data path, as if freshly loaded: time at 1000 s, no policies, no
 * breakers, no source or flow state, counters at zero, a generous budget. */
struct infergate *dp_load(void);
void dp_limit(struct infergate *skel, enum ig_proto proto, __u16 port, __u64 rate, __u64 burst,
	      enum ig_unit unit, enum ig_action action);
/* The lib's view of the loaded data path (lib/instance.h), for tests of the
 * map layer; close it with ig_instance_close. The lib may limit any port, so
 * the next dp_load() clears every policy, not only dp_limit()'s. */
void dp_instance(struct infergate *skel, struct ig_instance *in);
/* The same for a user of the skeleton's object (the agent): the next
 * dp_load() clears every policy. */
void dp_lib_writes(void);
/* One slot's counters, summed over CPUs. */
struct ig_stats dp_stats(struct infergate *skel, __u32 slot);
/* Packets counted under `reason` in `slot`. */
__u64 dp_count(struct infergate *skel, __u32 slot, enum ig_reason reason);
/* Run one frame through a hook's ingress program; the frame as the program
 * left it in *out. */
__u32 dp_run(struct infergate *skel, enum hook h, const void *frame, size_t len,
	     struct ig_frame *out);
/* Run one frame through the TC ingress program as an skb that GRO made of
 * `segs` segments (gso_segs; gso_size 1448). */
__u32 dp_run_tc_gro(struct infergate *skel, const void *frame, size_t len, __u32 segs);
/* Run one frame through the TC egress program. */
__u32 dp_run_egress(struct infergate *skel, const void *frame, size_t len, struct ig_frame *out);
/* Events waiting in the ring buffer, consumed: up to max copied to out;
 * returns how many there were. */
int dp_events(struct infergate *skel, struct ig_event *out, int max);
/* A TCP SYN 198.18.0.1:40000 -> 198.18.0.2:8000 (fd00::1 -> fd00::2). */
struct ig_frame syn(int ipv6);

#endif /* IG_TEST_DP_H */
