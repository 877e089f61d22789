# SPDX-License-Identifier: GPL-2.0
#
# xseg top-level build.
#
#   make                   libxseg (shared + static), tools, peers, tests, and the modules
#                          for the default kernel
#   make KVER=<version>    modules for that kernel (build/kernel/<version>/*.ko)
#   make modules-all       modules for every installed target kernel (6.1 and 6.12)
#   make check             every test: native unit tests (+ ASan/UBSan), then the kselftests
#                          in a QEMU guest for each target kernel
#   make demo              boot a VM, serve a block device from a userspace peer, use it
#   make bench [QUICK=1]   every benchmark (IPC, block, scaling) natively and in the VM;
#                          report in bench/results/latest.md (QUICK=1: CI smoke run, about 3 min)
#   make V=1               show full commands (passed through to Kbuild)
#   make WERROR=0          do not turn warnings into errors (they are errors by default)
#   make clean             remove everything built (build/ and nothing else)
#
# Outputs: build/user/{lib,bin,tests}, build/asan/tests, build/kernel/<version>/*.ko.

SRCTREE := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(SRCTREE)/build
VERSION := 0.1.0

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-8s %s\n'
endif
export Q V

WERROR ?= 1

# ---------------------------------------------------------------------------------------
# Kernels: the running kernel's headers if present, else the newest installed target.
TARGET_KVERS := $(shell ls -1 /lib/modules 2>/dev/null | grep -E '^6\.(1|12)\..*-amd64$$' | \
		  while read v; do [ -e /lib/modules/$$v/build/Makefile ] && echo $$v; done | sort -V)
ifeq ($(KVER),)
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
KVER := $(shell uname -r)
else
KVER := $(lastword $(TARGET_KVERS))
endif
endif
KDIR ?= /lib/modules/$(KVER)/build

# ---------------------------------------------------------------------------------------
# Userspace
CC ?= gcc
AR ?= ar
CFLAGS_COMMON := -std=gnu11 -D_GNU_SOURCE= -I$(SRCTREE)/include -Wall -Wextra \
		 -Wno-unused-parameter -Wno-missing-field-initializers -g -O2 -pthread
ifneq ($(WERROR),0)
CFLAGS_COMMON += -Werror
endif

.PHONY: all user asan modules modules-all check demo clean distclean help ksft-headers \
	checkpatch bench

all: user modules

help:
	@sed -n '3,18p' $(SRCTREE)/Makefile | sed 's/^# \{0,1\}//'

user: ksft-headers
	$(Q)$(MAKE) --no-print-directory -f $(SRCTREE)/tools/build/user.mk \
		SRCTREE=$(SRCTREE) O=$(BUILD)/user CFLAGS_COMMON="$(CFLAGS_COMMON)" \
		VERSION=$(VERSION) all

asan: ksft-headers
	$(Q)$(MAKE) --no-print-directory -f $(SRCTREE)/tools/build/user.mk \
		SRCTREE=$(SRCTREE) O=$(BUILD)/asan \
		CFLAGS_COMMON="$(CFLAGS_COMMON) -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS_EXTRA="-fsanitize=address,undefined" VERSION=$(VERSION) unit-tests

# The kselftest harness comes from the Debian linux-source package, extracted at build time.
KSFT_INC := $(BUILD)/ksft/include
ksft-headers: $(KSFT_INC)/kselftest_harness.h

$(KSFT_INC)/kselftest_harness.h:
	$(quiet) EXTRACT kselftest_harness.h
	$(Q)$(SRCTREE)/tools/build/extract-ksrc.sh $(BUILD)/ksft

# ---------------------------------------------------------------------------------------
# Kernel modules: Kbuild runs on a tree of symlinks under build/kernel/<version>/obj so
# that objects for different kernels never overwrite each other; the .ko files are
# copied to build/kernel/<version>/.
modules:
ifeq ($(KVER),)
	@echo "no kernel headers found: install linux-headers-amd64 (tools/deps.sh)" >&2; exit 1
endif
	+$(Q)$(SRCTREE)/tools/build/kmod.sh $(SRCTREE) $(BUILD)/kernel/$(KVER) $(KDIR) \
		WERROR=$(WERROR) $(if $(V),V=$(V)) $(if $(C),C=$(C))

modules-all:
	+$(Q)for k in $(TARGET_KVERS); do \
		$(MAKE) --no-print-directory -f $(SRCTREE)/Makefile modules KVER=$$k || exit 1; \
	done

check:
	$(Q)$(SRCTREE)/tools/testing/check.sh

demo:
	$(Q)$(SRCTREE)/tools/demo.sh

bench:
	$(Q)QUICK=$(QUICK) $(SRCTREE)/bench/run.sh

checkpatch: ksft-headers
	$(Q)$(SRCTREE)/tools/build/checkpatch.sh

clean:
	$(quiet) CLEAN build
	$(Q)rm -rf $(BUILD)

distclean: clean
