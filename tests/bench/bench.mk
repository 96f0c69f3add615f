# The data-path bench: `make bench` (top-level Makefile) runs
#   $(MAKE) -s -f tests/bench/bench.mk BUILD=$(BUILD) bench
# after building `all`. Everything lands in $(BUILD)/tests/bench/; results in
# $(BUILD)/bench/results.{md,csv}. Knobs (environment): IG_BENCH_ROUNDS,
# IG_BENCH_REPEAT, IG_BENCH_CPU.
.DELETE_ON_ERROR:
.DEFAULT_GOAL := bench

BUILD   ?= build
CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= cc

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

B := $(BUILD)/tests/bench

BENCH_BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP \
		    -I$(BUILD) -Ibpf
BENCH_CFLAGS := -g -O2 -Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas -Werror -MMD -MP \
		-I$(B) -I$(BUILD) -Ibpf -Iuser

.PHONY: bench bench-build bench-veth bench-protect bench-step
bench: $(B)/bench $(B)/vethgen
	$(B)/bench $(BUILD)/bench
	bash tests/bench/veth.sh $(BUILD)
	bash tests/bench/protect.sh $(BUILD)
	bash tests/bench/step.sh $(BUILD) $(BUILD)/bench

# the step test (issue 15): $(BUILD)/bench/step.{md,png}; IG_STEP_SCENARIOS
bench-step:
	bash tests/bench/step.sh $(BUILD) $(BUILD)/bench

bench-protect: $(B)/vethgen
	bash tests/bench/protect.sh $(BUILD)

bench-veth: $(B)/vethgen
	bash tests/bench/veth.sh $(BUILD)

bench-build: $(B)/bench $(B)/vethgen

$(B)/gen.bpf.o: tests/bench/veth/gen.bpf.c $(BUILD)/vmlinux.h | $(B)
	$(CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

$(B)/gen.skel.h: $(B)/gen.bpf.o
	$(BPFTOOL) gen skeleton $< name gen > $@

$(B)/vethgen: tests/bench/veth/vethgen.c $(B)/gen.skel.h | $(B)
	$(CC) $(BENCH_CFLAGS) $< -lbpf -lelf -lz -o $@

$(B):
	mkdir -p $@

# vmlinux.h and the production skeleton come from the top-level Makefile
# (`make bench` builds `all` first).
$(B)/bench.bpf.o: tests/bench/bench.bpf.c $(BUILD)/vmlinux.h | $(B)
	$(CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

$(B)/bench.skel.h: $(B)/bench.bpf.o
	$(BPFTOOL) gen skeleton $< name bench > $@

$(B)/bench.o: tests/bench/bench.c $(B)/bench.skel.h $(BUILD)/infergate.skel.h | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/benchlib.o: tests/bench/benchlib.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/bench_req.o: tests/bench/bench_req.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/bench_tok.o: tests/bench/bench_tok.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/bench_run.o: tests/bench/bench_run.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/names.o: user/lib/names.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/bench: $(B)/bench.o $(B)/benchlib.o $(B)/bench_req.o $(B)/bench_tok.o $(B)/bench_run.o $(B)/names.o
	$(CC) $^ -lbpf -lelf -lz -o $@

-include $(wildcard $(B)/*.d)
