# knoop build. Everything is built into build/; generated code goes to build/gen/ and is never committed.
# Conventions (so adding a file needs no Makefile edit):
#   daemon/*.c (but main.c), adapters/*/*.c, client/*.c  -> build/libknoop.a
#   daemon/main.c                                         -> build/knoopd
#   tools/<name>.c (one file with main)                   -> build/<name>
#   tests/unit/test_<name>.c (cmocka)                     -> build/tests/test_<name>
#   tests/e2e/test_*.py (drive the real binaries)         -> run by tests/run.sh

DEBIAN_PACKAGES := gcc make pkg-config libc6-dev libzmq3-dev libprotobuf-c-dev protobuf-c-compiler \
  protobuf-compiler libuv1-dev libsqlite3-dev sqlite3 libxml2-dev libxml2-utils libcyaml-dev libyaml-dev \
  libjansson-dev libsodium-dev libcmocka-dev python3 python3-zmq python3-protobuf

BUILD   ?= build
GEN     := $(BUILD)/gen
CC      ?= cc
PKGS    := libzmq libprotobuf-c libuv sqlite3 libxml-2.0 libcyaml jansson libsodium yaml-0.1
OPT     ?= -O2 -g
SAN     ?=
CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wno-format-truncation $(OPT) $(SAN) \
           -Iinclude -Idaemon -Iadapters -I$(GEN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS := $(SAN)

PROTOS     := $(wildcard proto/*.proto)
PROTO_C    := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H    := $(PROTO_C:.c=.h)
PROTO_PY   := $(patsubst proto/%.proto,$(GEN)/python/%_pb2.py,$(PROTOS))
LIB_SRCS   := $(filter-out daemon/main.c,$(wildcard daemon/*.c)) $(wildcard adapters/*/*.c) $(wildcard client/*.c)
LIB_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(patsubst $(GEN)/%.c,$(BUILD)/obj/gen/%.o,$(PROTO_C)) \
              $(BUILD)/obj/gen/demo_config.o
TOOLS      := $(patsubst tools/%.c,$(BUILD)/%,$(wildcard tools/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
HEADERS    := $(wildcard daemon/*.h adapters/*/*.h include/knoop/*.h client/*.h)

.PHONY: all deps run check asan bench clean
.SECONDARY:
all: $(BUILD)/knoopd $(TOOLS) $(UNIT_TESTS) $(PROTO_PY)

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

$(BUILD)/libknoop.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/knoopd: $(BUILD)/obj/daemon/main.o $(BUILD)/libknoop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(BUILD)/libknoop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libknoop.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

run: deps all
	$(BUILD)/knoopd

check: deps all
	tests/run.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer, in a build directory of its own.
asan: deps
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh build/asan

bench: deps all
	tools/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
