# knoop build. Everything is built into build/; generated code goes to build/gen/ and is never committed.
# Conventions (so adding a file needs no Makefile edit):
#   daemon/base/*.c                      -> build/libknoopbase.a    (common code: logging, maps, codes, dates, files)
#   client/*.c + generated protobuf      -> build/libknoopclient.a  (libknoop, the C client)
#   adapters/*/*.c                       -> build/libknoopadapt.a   (iWmo/iJw XML, file exchange)
#   daemon/<layer>/*.c (not app/main.c)  -> build/libknoopd.a       (the daemon's layers; see docs/layers.md)
#   daemon/app/main.c                    -> build/knoopd
#   tools/<name>.c (one file with main)  -> build/<name>, linking only what TOOL_LIBS_<name> names
#   tests/unit/test_<name>.c (cmocka)    -> build/tests/test_<name>
#   tests/fuzz/fuzz_<name>.c (libFuzzer harness)  -> build/tests/fuzz_<name> (replays seeds in make check),
#                                                    build/fuzz/fuzz/fuzz_<name> (make fuzz, clang)
#   tests/e2e/test_*.py (drive the real binaries) -> run by tests/run.sh
#
# pkg-config is asked when a recipe runs, not when make reads this file: on a fresh machine `make run` installs the
# packages first (deps), and only then does a second make (the $(MAKE) below) compile with their include paths.

# libmicrohttpd-dev and libsystemd-dev: the metrics endpoint and sd_notify; systemd: systemd-analyze, which
# tests/static/test_deploy.py runs on deploy/knoopd.service.
DEBIAN_PACKAGES := gcc make pkg-config libc6-dev libzmq3-dev libprotobuf-c-dev protobuf-c-compiler \
  protobuf-compiler libuv1-dev libsqlite3-dev sqlite3 libxml2-dev libxml2-utils libcyaml-dev libyaml-dev \
  libjansson-dev libsodium-dev libcmocka-dev python3 python3-zmq python3-protobuf clang-format binutils \
  clang libclang-rt-14-dev libmicrohttpd-dev libsystemd-dev systemd

BUILD   ?= build
GEN     := $(BUILD)/gen
CC      ?= cc
PKGS    := libzmq libprotobuf-c libuv sqlite3 libxml-2.0 libcyaml jansson libsodium yaml-0.1 libmicrohttpd libsystemd
OPT     ?= -O2 -g
SAN     ?=
# Recursively expanded on purpose (see above): evaluated per recipe, after `deps`.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Hardening (checked on the binaries by tests/static/test_hardening.py): stack protector, fortified libc calls,
# position-independent executables, read-only relocations bound at start-up.
HARDEN_CFLAGS  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
# gcc's -Wformat-truncation flags every bounded snprintf; clang (make fuzz) has no such warning to turn off.
NOWARN  = $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror $(NOWARN) $(OPT) $(SAN) \
          $(HARDEN_CFLAGS) -Iinclude -Idaemon -Iadapters -I$(GEN) $(PKG_CFLAGS)
LDLIBS  = $(PKG_LIBS) -lpthread -lm
LDFLAGS := $(SAN) $(HARDEN_LDFLAGS)

PROTOS     := $(wildcard proto/*.proto)
PROTO_C    := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H    := $(PROTO_C:.c=.h)
PROTO_PY   := $(patsubst proto/%.proto,$(GEN)/python/%_pb2.py,$(PROTOS))
PROTO_OBJS := $(patsubst $(GEN)/%.c,$(BUILD)/obj/gen/%.o,$(PROTO_C))
obj         = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

BASE_SRCS  := $(wildcard daemon/base/*.c)
CLIENT_SRCS:= $(wildcard client/*.c)
ADAPT_SRCS := $(wildcard adapters/*/*.c)
DAEMON_SRCS:= $(filter-out daemon/base/% daemon/app/main.c,$(wildcard daemon/*/*.c))
LIB_BASE   := $(BUILD)/libknoopbase.a
LIB_CLIENT := $(BUILD)/libknoopclient.a
LIB_ADAPT  := $(BUILD)/libknoopadapt.a
LIB_DAEMON := $(BUILD)/libknoopd.a
ALL_LIBS   := $(LIB_DAEMON) $(LIB_ADAPT) $(LIB_CLIENT) $(LIB_BASE)

TOOLS      := $(patsubst tools/%.c,$(BUILD)/%,$(wildcard tools/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
# Fuzz harnesses (tests/fuzz/fuzz_<name>.c): with replay.c's main for make check, with libFuzzer for make fuzz.
FUZZERS    := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY:= $(patsubst %,$(BUILD)/tests/%,$(FUZZERS))
HEADERS    := $(wildcard daemon/*/*.h adapters/*/*.h include/knoop/*.h client/*.h)

# What each tool links: the client library and common code, plus what the tool itself is about. A tool that is
# not listed gets the client and common code only.
TOOL_LIBS_knoopctl    := $(LIB_CLIENT) $(LIB_BASE)
TOOL_LIBS_knoop-send  := $(LIB_CLIENT) $(LIB_BASE)
TOOL_LIBS_knoop-tail  := $(LIB_CLIENT) $(LIB_BASE)
TOOL_LIBS_knoop-bench := $(LIB_CLIENT) $(LIB_BASE)
TOOL_LIBS_knoop-files := $(LIB_ADAPT) $(LIB_CLIENT) $(LIB_BASE)
TOOL_LIBS_knoop-xml   := $(LIB_ADAPT) $(LIB_BASE)
TOOL_LIBS_knoop-floor := $(LIB_CLIENT) $(LIB_BASE)
TOOL_LIBS_knoop-nats-bench := $(LIB_BASE)

.PHONY: all build deps run check asan bench fuzz torture format clean
.SECONDARY:
all: $(BUILD)/knoopd $(TOOLS) $(UNIT_TESTS) $(FUZZ_REPLAY) $(PROTO_PY)

# Install the Debian packages that are missing (as root); as another user, say what to run.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	   | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else \
	  echo "missing Debian packages; run as root: apt-get update && apt-get install -y $$missing" >&2; exit 1; \
	fi

# deps first, then a fresh make that sees the installed packages.
build: deps
	$(MAKE) --no-print-directory all

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --c_out=$(GEN) $<

# The demo configuration is compiled into knoopd, so `knoopd` with no -c runs the whole demo network.
$(GEN)/demo_config.c: deploy/knoopd.yaml
	@mkdir -p $(GEN)
	{ echo '/* generated from deploy/knoopd.yaml by the Makefile */'; echo '#include <stddef.h>'; \
	  echo 'const char knoop_demo_config_yaml[] = {'; od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00};'; echo 'const size_t knoop_demo_config_yaml_len = sizeof knoop_demo_config_yaml - 1;'; } > $@

$(GEN)/python/%_pb2.py: proto/%.proto
	@mkdir -p $(GEN)/python
	protoc --proto_path=proto --python_out=$(GEN)/python $<

$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(HEADERS) $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_BASE): $(call obj,$(BASE_SRCS))
$(LIB_CLIENT): $(call obj,$(CLIENT_SRCS)) $(PROTO_OBJS)
$(LIB_ADAPT): $(call obj,$(ADAPT_SRCS))
$(LIB_DAEMON): $(call obj,$(DAEMON_SRCS)) $(BUILD)/obj/gen/demo_config.o
$(ALL_LIBS):
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/knoopd: $(BUILD)/obj/daemon/app/main.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.SECONDEXPANSION:
$(BUILD)/%: $(BUILD)/obj/tools/%.o $$(or $$(TOOL_LIBS_$$*),$(LIB_CLIENT) $(LIB_BASE))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/tests/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer builds (clang), in build/fuzz: the libraries instrumented for coverage, the harness linked with the
# fuzzer's own main.
$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

run: build
	$(BUILD)/knoopd

check: build
	tests/run.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer, in a build directory of its own.
asan: deps
	$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh build/asan

# The bench also runs NATS JetStream as a peer (Debian's nats-server): installed here when missing (as root).
BENCH_PACKAGES := nats-server
bench: build
	@command -v nats-server >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq $(BENCH_PACKAGES) >/dev/null; } || echo "bench: nats-server not installed; the peer is skipped"
	tools/bench.sh $(BUILD)

# The long fault runs: the crash loop (SIGKILL at random moments under load) and torn snapshots, at full length.
# make check runs the same tests bounded (5 cycles, 4 snapshots).
TORTURE_CYCLES ?= 25
TORTURE_SNAPSHOTS ?= 10
torture: build
	KNOOP_BUILD=$(abspath $(BUILD)) KNOOP_TORTURE_CYCLES=$(TORTURE_CYCLES) KNOOP_TORTURE_SNAPSHOTS=$(TORTURE_SNAPSHOTS) \
	  /usr/bin/python3 tests/e2e/test_torture.py

# Each fuzz harness for FUZZ_SECONDS (default 60) under libFuzzer + ASan + UBSan; crashes land in build/fuzz/crashes/
# and must become files in tests/fuzz/regressions/<harness>/ (make check replays them).
FUZZ_SECONDS ?= 60
fuzz: deps
	$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
	  $(patsubst %,build/fuzz/fuzz/%,$(FUZZERS))
	tools/fuzz.sh build/fuzz/fuzz $(FUZZ_SECONDS) $(FUZZERS)

# One format for the whole tree (.clang-format); tests/run.sh checks it.
FORMATTED = $(wildcard daemon/*/*.[ch] adapters/*/*.[ch] client/*.[ch] include/knoop/*.h tools/*.c tests/unit/*.[ch] \
  tests/fuzz/*.[ch])
format:
	clang-format -i $(FORMATTED)

clean:
	rm -rf $(BUILD)
