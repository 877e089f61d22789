# SPDX-License-Identifier: GPL-2.0
#
# Userspace build, called by the top-level Makefile with SRCTREE, O (output directory),
# CFLAGS_COMMON and VERSION.  Every object goes under $(O)/obj/<source path>.o.
#
#   libxseg       sys/common/*.c + sys/user/*.c + drivers/user/*.c
#                 -> $(O)/lib/libxseg.so.$(SOVER) (version script), libxseg.a, xseg.pc
#   programs      peers/user/<name>/*.c (+ peers/user/common/*.c) -> $(O)/bin/<name>
#   unit tests    tools/testing/selftests/xseg/unit_*.c -> $(O)/tests/unit/<name> (native)
#   VM tests      other tools/testing/selftests/xseg/*.c -> $(O)/tests/vm/<name>

S := $(SRCTREE)
SOVER := 0
PREFIX ?= /usr/local

LIB_SRCS := $(wildcard $(S)/sys/common/*.c $(S)/sys/user/*.c $(S)/drivers/user/*.c)
LIB_OBJS := $(patsubst $(S)/%.c,$(O)/obj/%.o,$(LIB_SRCS))
LIB_A := $(O)/lib/libxseg.a
LIB_SO := $(O)/lib/libxseg.so.$(SOVER)
LIB_MAP := $(S)/sys/user/libxseg.map

PEER_COMMON_SRCS := $(wildcard $(S)/peers/user/common/*.c)
PEER_COMMON_OBJS := $(patsubst $(S)/%.c,$(O)/obj/%.o,$(PEER_COMMON_SRCS))
PROG_DIRS := $(filter-out common,$(notdir $(patsubst %/,%,$(dir $(wildcard $(S)/peers/user/*/*.c)))))
PROGS := $(addprefix $(O)/bin/,$(sort $(PROG_DIRS)))

TDIR := $(S)/tools/testing/selftests/xseg
UNIT_SRCS := $(wildcard $(TDIR)/unit_*.c)
VM_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard $(TDIR)/*.c))
UNIT_TESTS := $(patsubst $(TDIR)/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
VM_TESTS := $(patsubst $(TDIR)/%.c,$(O)/tests/vm/%,$(VM_SRCS))

URING_LIBS := $(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
CFLAGS := $(CFLAGS_COMMON) -fPIC -isystem $(S)/build/ksft/include
LDLIBS := -lpthread -lrt
TEST_CFLAGS := $(CFLAGS) -I$(TDIR) -Wno-sign-compare -Wno-clobbered

ifeq ($(V),1)
quiet = @true
else
quiet = @printf '  %-8s %s\n'
endif

.PHONY: all lib progs unit-tests vm-tests
all: lib progs unit-tests vm-tests
lib: $(if $(LIB_SRCS),$(LIB_A) $(LIB_SO) $(O)/lib/libxseg.so $(O)/lib/pkgconfig/xseg.pc)
progs: $(PROGS)
unit-tests: $(UNIT_TESTS)
vm-tests: $(VM_TESTS)

$(O)/obj/%.o: $(S)/%.c
	$(quiet) CC $(patsubst $(S)/%,%,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	$(quiet) AR $(patsubst $(O)/%,%,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	$(quiet) LD $(patsubst $(O)/%,%,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_EXTRA) -shared -Wl,-soname,libxseg.so.$(SOVER) \
		-Wl,--version-script=$(LIB_MAP) -Wl,--no-undefined -o $@ $(LIB_OBJS) $(LDLIBS)

$(O)/lib/libxseg.so: $(LIB_SO)
	$(Q)ln -sf libxseg.so.$(SOVER) $@

$(O)/lib/pkgconfig/xseg.pc: $(S)/sys/user/libxseg.pc.in
	$(quiet) GEN $(patsubst $(O)/%,%,$@)
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

$(O)/lib/libpeer.a: $(PEER_COMMON_OBJS)
	$(quiet) AR $(patsubst $(O)/%,%,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# A program: every .c in its directory, the peer framework, libxseg (static: the tools
# work from the build tree without LD_LIBRARY_PATH).
.SECONDEXPANSION:
# (no patsubst pattern here: secondary expansion would replace its % with the stem too)
$(O)/bin/%: $$(addsuffix .o,$$(basename $$(subst $(S)/,$(O)/obj/,$$(wildcard $(S)/peers/user/%/*.c)))) \
	    $(O)/lib/libpeer.a $(LIB_A)
	$(quiet) LD $(patsubst $(O)/%,%,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_EXTRA) -o $@ $(filter %.o,$^) $(O)/lib/libpeer.a $(LIB_A) \
		$(URING_LIBS) $(LDLIBS)

$(O)/tests/unit/%: $(TDIR)/%.c $(LIB_A) $(S)/build/ksft/include/kselftest_harness.h
	$(quiet) CC $(patsubst $(S)/%,%,$<)
	@mkdir -p $(dir $@) $(O)/obj/tests/unit
	$(Q)$(CC) $(TEST_CFLAGS) $(LDFLAGS_EXTRA) -MMD -MP -MF $(O)/obj/tests/unit/$*.d -o $@ $< \
		$(LIB_A) $(LDLIBS)

$(O)/tests/vm/%: $(TDIR)/%.c $(if $(LIB_SRCS),$(LIB_A)) $(S)/build/ksft/include/kselftest_harness.h
	$(quiet) CC $(patsubst $(S)/%,%,$<)
	@mkdir -p $(dir $@) $(O)/obj/tests/vm
	$(Q)$(CC) $(TEST_CFLAGS) $(LDFLAGS_EXTRA) -MMD -MP -MF $(O)/obj/tests/vm/$*.d -o $@ $< \
		$(if $(LIB_SRCS),$(LIB_A)) $(LDLIBS)

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# Objects made through the pattern rules above are not intermediate: keep them.
.SECONDARY:
