# infergate: `make` builds into build/, `make test` runs every suite, `make bench`
# measures, `make install` installs, `make deb` builds build/infergate_VERSION-1_ARCH.deb
# (user/debian/). V=1 shows the full commands.
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

BUILD    ?= build
PREFIX   ?= /usr/local
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# the config the systemd unit starts the agent with
CONFFILE ?= /etc/infergate.conf
DESTDIR  ?=
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

CFLAGS_COMMON := -g -O2 -Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas -Werror -MMD -MP
# Hardened as Debian builds its packages (dpkg-buildflags): lintian checks the
# binary `make deb` packages for it.
CFLAGS   ?= $(CFLAGS_COMMON) -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS  ?= -Wl,-z,relro -Wl,-z,now
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP \
	      -I$(BUILD) -Ibpf
# user/ is three rooms: cli/ (the command line), agent/ (the daemon), lib/ (what
# both use). Includes name the room ("lib/policy.h"), so a file shows what it may call.
USER_INC := -I$(BUILD) -Ibpf -Iuser
LIBS     := -lbpf -lelf -lz -linih -lcurl -lmicrohttpd -lhiredis -lpthread -lm

BPF_SRCS  := bpf/infergate.bpf.c
USER_SRCS := $(wildcard user/lib/*.c user/agent/*.c user/cli/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
# Everything but main(), linked into the test runner too.
USER_LIB_OBJS := $(filter-out $(BUILD)/user/cli/main.o,$(USER_OBJS))

TEST_SRCS := $(filter-out %.bpf.c tests/lib/tcx_peer.c,$(wildcard tests/unit/*.c) $(wildcard tests/prog/*.c) $(wildcard tests/lib/*.c))
TEST_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_SRCS))

.PHONY: all hdrcheck deps demo test test-slow bench install uninstall deb clean
# The BPF object and skeleton are named here so make treats them as targets
# (rebuilt when a header changes), not as intermediates it may delete.
# The pure headers of the data path under libFuzzer (tests/fuzz/fuzz_NAME.c).
FUZZERS := parse bucket sources steer reply http resp proxy window
FUZZ_BINS := $(patsubst %,$(BUILD)/tests/fuzz_%,$(FUZZERS))

all: $(BUILD)/infergate.bpf.o $(BUILD)/infergate.skel.h $(BUILD)/infergate \
     $(BUILD)/infergate.8 $(BUILD)/infergate.bash-completion \
     $(BUILD)/tests/ig_tests $(BUILD)/tests/xdp_pass.bpf.o $(BUILD)/tests/tcx_peer.bpf.o \
     $(BUILD)/tests/tcx_peer $(FUZZ_BINS) hdrcheck

$(BUILD) $(BUILD)/user/lib $(BUILD)/user/agent $(BUILD)/user/cli $(BUILD)/tests/unit $(BUILD)/tests/prog $(BUILD)/tests/lib $(BUILD)/tests/bench:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .bpf,,$(basename $(notdir $<))) > $@

# The tests' own BPF programs: a pass-through for veth peers, another
# vendor's tcx program.
$(BUILD)/tests/%.bpf.o: tests/lib/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)/tests/lib
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/tcx_peer: tests/lib/tcx_peer.c $(BUILD)/user/lib/xdphook.o $(BUILD)/user/lib/log.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(USER_INC) $^ -lbpf -lelf -lz -o $@

# Every header stands alone: each is included first, and alone, in a translation
# unit of its own. Natively for the ABI and the pure headers (what the unit
# tests, the fuzzer and user space compile), for BPF for every header.
HDRS_NATIVE := bpf/ig_abi.h $(wildcard bpf/pure/*.h)
HDRS_BPF    := $(wildcard bpf/*.h bpf/pure/*.h)
HDRCHECK    := $(patsubst bpf/%,$(BUILD)/hdrcheck/native/%.ok,$(HDRS_NATIVE)) \
	       $(patsubst bpf/%,$(BUILD)/hdrcheck/bpf/%.ok,$(HDRS_BPF))
hdrcheck: $(HDRCHECK)

$(BUILD)/hdrcheck/native/%.ok: bpf/%
	$(call msg,HDR,$< (native))
	$(Q)mkdir -p $(@D)
	$(Q)printf '#include "%s"\n' $* | $(CC) $(CFLAGS_COMMON) -Ibpf -x c -fsyntax-only \
		-MF $(@:.ok=.d) -MT $@ - && touch $@

$(BUILD)/hdrcheck/bpf/%.ok: bpf/% $(BUILD)/vmlinux.h
	$(call msg,HDR,$< (bpf))
	$(Q)mkdir -p $(@D)
	$(Q)printf '#include "%s"\n' $* | $(CLANG) $(BPF_CFLAGS) -x c -fsyntax-only \
		-MF $(@:.ok=.d) -MT $@ - && touch $@

# Each under libFuzzer, ASan and UBSan (tests/run.sh runs each for a while;
# seeds in tests/fuzz/corpus/NAME/).
$(BUILD)/tests/fuzz_%: tests/fuzz/fuzz_%.c | $(BUILD)/tests/lib
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -Wall -Werror -Wno-unknown-pragmas -MMD -MP -Ibpf -Itests/lib \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $< -o $@

$(BUILD)/user/%.o: user/%.c $(BUILD)/infergate.skel.h | $(BUILD)/user/lib $(BUILD)/user/agent $(BUILD)/user/cli
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(USER_INC) -c $< -o $@

$(BUILD)/infergate: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -lpthread -o $@

# The man page and the bash completion come from the command tables (user/cli/),
# printed by the binary itself: they cannot drift from what it accepts.
$(BUILD)/infergate.8: $(BUILD)/infergate
	$(call msg,GEN,$@)
	$(Q)$< __man >$@

$(BUILD)/infergate.bash-completion: $(BUILD)/infergate
	$(call msg,GEN,$@)
	$(Q)$< __completion bash >$@

$(BUILD)/tests/%.o: tests/%.c $(BUILD)/infergate.skel.h | $(BUILD)/tests/unit $(BUILD)/tests/prog $(BUILD)/tests/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(USER_INC) -Itests/lib -c $< -o $@

$(BUILD)/tests/ig_tests: $(TEST_OBJS) $(USER_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -lpthread -o $@

# Debian packages the build, the tests and the bench need. Checks first, and
# runs apt-get update only when something is missing.
DEB_PKGS := clang libclang-rt-14-dev llvm bpftool libbpf-dev libelf-dev zlib1g-dev make gcc pkg-config \
	    libinih-dev libcurl4-openssl-dev libmicrohttpd-dev prometheus iptables nftables gnuplot-nox \
	    iproute2 ethtool curl python3 python3-scapy netcat-openbsd nginx-light wrk redis-server \
	    libhiredis-dev nghttp2-client nghttp2-server haproxy python3-jsonschema dpkg-dev lintian \
	    xdp-tools
# Node.js and npm (the openai SDK client of tests/netns/request.sh) are checked
# by command, not package: a machine may carry another vendor's nodejs, which
# provides npm and conflicts with Debian's npm package.
# tests/lib/node_modules comes from its lockfile, again when the lockfile changes.
NPM_LOCK := tests/lib/package-lock.json
NPM_DONE := tests/lib/node_modules/.package-lock.json
deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	{ command -v node && command -v npm; } >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	$(Q)if [ ! -e $(NPM_DONE) ] || [ $(NPM_LOCK) -nt $(NPM_DONE) ]; then \
		echo "  DEPS     npm ci --prefix tests/lib"; \
		npm ci --prefix tests/lib --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null; \
	fi

demo: deps all
	$(Q)bash tests/demo.sh $(BUILD)

# the flood test sends its spoofed SYNs with the bench's generator
VETHGEN := $(BUILD)/tests/bench/vethgen
$(VETHGEN): tests/bench/veth/vethgen.c tests/bench/veth/gen.bpf.c $(BUILD)/vmlinux.h
	$(call msg,MAKE,$@)
	$(Q)$(MAKE) -s -f tests/bench/bench.mk BUILD=$(BUILD) $@

test: deps all $(VETHGEN)
	$(Q)bash tests/run.sh $(BUILD)

test-slow: deps all $(VETHGEN)
	$(Q)IG_SLOW=1 bash tests/run.sh $(BUILD)

bench: deps all
	$(Q)$(MAKE) -s -f tests/bench/bench.mk BUILD=$(BUILD) bench

install: $(BUILD)/infergate $(BUILD)/infergate.8 $(BUILD)/infergate.bash-completion
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/sbin/infergate)
	$(Q)install -D -m 0755 $(BUILD)/infergate $(DESTDIR)$(PREFIX)/sbin/infergate
	$(Q)install -D -m 0644 $(BUILD)/infergate.8 $(DESTDIR)$(MANDIR)/man8/infergate.8
	$(Q)install -D -m 0644 user/infergate.conf.5 $(DESTDIR)$(MANDIR)/man5/infergate.conf.5
	$(Q)install -D -m 0644 $(BUILD)/infergate.bash-completion $(DESTDIR)$(BASHCOMPDIR)/infergate
	$(Q)install -D -m 0644 user/infergate.conf.example \
		$(DESTDIR)$(PREFIX)/share/doc/infergate/infergate.conf.example
	$(call msg,INSTALL,$(DESTDIR)$(SYSTEMDUNITDIR)/infergate.service)
	$(Q)sed 's|@SBINDIR@|$(PREFIX)/sbin|g;s|@CONFFILE@|$(CONFFILE)|g' user/infergate.service >$(BUILD)/infergate.service
	$(Q)install -D -m 0644 $(BUILD)/infergate.service $(DESTDIR)$(SYSTEMDUNITDIR)/infergate.service

uninstall:
	$(Q)rm -f $(DESTDIR)$(PREFIX)/sbin/infergate
	$(Q)rm -f $(DESTDIR)$(MANDIR)/man8/infergate.8 $(DESTDIR)$(MANDIR)/man5/infergate.conf.5
	$(Q)rm -f $(DESTDIR)$(BASHCOMPDIR)/infergate
	$(Q)rm -rf $(DESTDIR)$(PREFIX)/share/doc/infergate
	$(Q)rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/infergate.service

# The package's version is IG_VERSION plus a Debian revision, so that a change to
# the packaging alone can be released without a new infergate version.
IG_VERSION   := $(shell sed -n 's/^\#define IG_VERSION "\(.*\)"/\1/p' user/lib/log.h)
DEB_REVISION ?= 1
DEB_VERSION  := $(IG_VERSION)-$(DEB_REVISION)
DEB_FILE     := $(BUILD)/infergate_$(DEB_VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
deb: $(DEB_FILE)

$(DEB_FILE): $(BUILD)/infergate $(BUILD)/infergate.8 $(BUILD)/infergate.bash-completion \
	     $(wildcard user/debian/*) user/infergate.service user/infergate.conf.5 user/infergate.conf.example
	$(Q)rm -rf $(BUILD)/deb
	$(Q)$(MAKE) -s install DESTDIR=$(abspath $(BUILD)/deb/root) PREFIX=/usr \
		SYSTEMDUNITDIR=/lib/systemd/system CONFFILE=/etc/infergate/infergate.conf
	$(call msg,DEB,$@)
	$(Q)sh user/debian/build-deb.sh $(BUILD)/deb $(DEB_VERSION) $@

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*/*.d $(BUILD)/tests/*.d $(BUILD)/tests/*/*.d \
	   $(BUILD)/hdrcheck/*/*.d $(BUILD)/hdrcheck/*/*/*.d)
