#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench [QUICK=1]: every benchmark in one session, then one report.
#
#   1. prerequisites (tools/deps.sh), build: user space, modules for the VM kernel(s)
#   2. the IPC benchmark (xseg-bench) natively
#   3. the endpoint API (xseg-idc-bench, suite "idc") and the scaling runs (xseg-scale)
#      natively
#   4. in the VM, booted as the kernel is shipped (vm/run --bench: no slub_debug, which the
#      tests keep), once per kernel: the IPC benchmark, then the block benchmark (fio on
#      null_blk, loop over tmpfs, nbd + nbdkit memory, xsegbd with xseg-memd --null,
#      xseg-memd and xseg-filed): bench/guest.sh
#   5. bench/report.py: bench/results/<date>-<kernel>.{json,md} and the plots (gnuplot),
#      copied to bench/results/latest.{json,md}
#
# QUICK=1 (the CI smoke run, .ci/run): one run per figure, short runs, fewer points, the
# newest kernel only, one VM boot; it fails when the benchmarks (not the prerequisites, the
# build or the wait for the VM lock) take more than BENCH_QUICK_BUDGET seconds (default 600:
# about 170 s here, 325 s on a CI host 2.3 times slower; 0: no limit), and its VM run is
# killed after 900 s.  Otherwise: the median of BENCH_RUNS (default 3; xseg-bench 5) runs, both
# target kernels.  Environment: BENCH_KERNELS (space-separated list overriding the kernels),
# BENCH_STRICT=0 (a benchmark whose part is not in the tree is recorded as unavailable instead
# of failing the run).
#
# The VM part holds the machine's VM lock, $XSEG_VM_LOCK (default /tmp/xseg-vm.lock: one VM
# at a time on a shared machine), while its directory exists; set XSEG_VM_LOCK= (empty) when
# the caller holds it already (found by itself when the caller runs `flock LOCK make bench`).
#
# Exit status: 0 when every benchmark that should run ran and left every record it should;
# 1 otherwise (the report is still written, with the failures in it).
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src" || exit 1
quick=${QUICK:-0}
[ "$quick" = 0 ] || quick=1
runs=${BENCH_RUNS:-3}
budget=${BENCH_QUICK_BUDGET:-600}
t0=$(date +%s)
failed=0
lock_wait=0

say() { printf '\033[1m== %s\033[0m (%d s)\n' "$*" $(($(date +%s) - t0)); }
fail() {
	echo "bench: FAILED: $*" >&2
	failed=1
}

# caller_holds LOCK: an inherited descriptor of LOCK holds it, as when the caller runs
# `flock LOCK make bench` (taking it again on a new descriptor would wait for ever)
caller_holds() {
	local f

	for f in /proc/$$/fd/*; do
		[ "$(readlink "$f")" = "$1" ] && flock -n "${f##*/}" && return 0
	done
	return 1
}

# vm_lock / vm_unlock: hold the machine's VM lock (fd 9) around a VM run; lock_wait adds up
# the time spent waiting for it
vm_lock() {
	local lock=${XSEG_VM_LOCK-/tmp/xseg-vm.lock} t

	[ -n "$lock" ] && [ -d "$(dirname "$lock")" ] || return 0
	command -v flock > /dev/null || { echo "bench: no flock(1): VM lock not taken" >&2; return 0; }
	caller_holds "$(realpath -m "$lock")" && return 0
	exec 9>> "$lock" || return 0
	if ! flock -n 9; then
		echo "bench: waiting for the VM lock $lock (another VM is running)"
		t=$(date +%s)
		flock 9
		t=$(($(date +%s) - t))
		lock_wait=$((lock_wait + t))
		echo "bench: got the VM lock after $t s"
	fi
}
vm_unlock() {
	[ -e /proc/$$/fd/9 ] || return 0
	flock -u 9
	exec 9>&-
}

# mark NAME START: the wall time of a part since START, in the meta file for the report
mark() {
	echo "time_$1=$(($(date +%s) - $2))" >> "$raw/meta"
}

target_kernels() {
	local v
	for v in /boot/vmlinuz-*; do
		v=${v#/boot/vmlinuz-}
		case "$v" in
		6.1.*-amd64 | 6.12.*-amd64) [ -e "/lib/modules/$v/build/Makefile" ] && echo "$v" ;;
		esac
	done | sort -V
}

say "prerequisites (tools/deps.sh)"
tools/deps.sh || exit 1
for t in gnuplot fio nbdkit nbd-client python3; do
	command -v "$t" > /dev/null || { echo "bench: $t is missing (tools/deps.sh)" >&2; exit 1; }
done

if [ -n "${BENCH_KERNELS:-}" ]; then
	kernels=$BENCH_KERNELS
elif [ $quick = 1 ]; then
	kernels=$(target_kernels | tail -n 1)
else
	kernels=$(target_kernels | sort -Vr | tr '\n' ' ')  # newest first
fi
[ -n "$kernels" ] || { echo "bench: no target kernel installed (tools/deps.sh)" >&2; exit 1; }

say "build (user space; modules for $kernels)"
make -s -j"$(nproc)" user || exit 1
for k in $kernels; do
	make -s -j"$(nproc)" modules KVER="$k" || exit 1
done

tb=$(date +%s)		# the benchmarks start: QUICK's budget counts from here
stamp=$(date +%Y-%m-%d-%H%M%S)
raw=$src/bench/results/raw/$stamp
mkdir -p "$raw/native"
{
	echo "stamp=$stamp"
	echo "quick=$quick"
	echo "kernels=$kernels"
	echo "host_kernel=$(uname -r)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "cpus=$(nproc)"
	echo "mem_mb=$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))"
	echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "commit=$(git rev-parse --short HEAD 2> /dev/null)$(git diff --quiet HEAD 2> /dev/null || echo '+dirty')"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
} > "$raw/meta"

if [ $quick = 1 ]; then
	ipc_args=(--quick)
	scale_args=(--quick --max-segment 1G)
else
	ipc_args=(--runs 5 --iterations 20000)
	scale_args=(--runs "$runs" --max-segment 4G)
fi

say "IPC benchmark, native ($(uname -r))"
tp=$(date +%s)
if build/user/bin/xseg-bench "${ipc_args[@]}" --json "$raw/native/ipc.json" \
	--cdf "$raw/native/ipc.cdf" 2>&1 | tee "$raw/native/ipc.txt"; then
	printf 'ipc\txseg-bench\tok\t\n' > "$raw/native/status.tsv"
else
	printf 'ipc\txseg-bench\tfailed\texit status %s\n' "$?" > "$raw/native/status.tsv"
	fail "xseg-bench (native)"
fi
mark native_ipc "$tp"

say "endpoint API, native"
idc_args=(--runs "$runs")
[ $quick = 1 ] && idc_args=(--quick)
if build/user/bin/xseg-idc-bench "${idc_args[@]}" --json "$raw/native/idc.json" 2>&1 |
	tee "$raw/native/idc.txt"; then
	printf 'idc\txseg-idc-bench\tok\t\n' >> "$raw/native/status.tsv"
else
	printf 'idc\txseg-idc-bench\tfailed\texit status %s\n' "$?" >> "$raw/native/status.tsv"
	fail "xseg-idc-bench (native)"
fi

say "scaling runs, native"
tp=$(date +%s)
if build/user/bin/xseg-scale "${scale_args[@]}" --json "$raw/native/scale.json" 2>&1 |
	tee "$raw/native/scale.txt"; then
	printf 'scale\txseg-scale\tok\t\n' >> "$raw/native/status.tsv"
else
	printf 'scale\txseg-scale\tfailed\texit status %s\n' "$?" >> "$raw/native/status.tsv"
	fail "xseg-scale (native)"
fi
mark scaling "$tp"

# one VM boot per kernel, each under the VM lock (taken per boot, so that a full run does
# not keep other users of the machine waiting for all of its kernels)
for k in $kernels; do
	vm_lock
	say "VM $k: IPC and block benchmarks (bench/guest.sh)"
	mkdir -p "$raw/$k"
	gargs=(--out "$raw/$k")
	[ $quick = 1 ] && gargs+=(--quick) || gargs+=(--runs "$runs")
	rc=0
	tp=$(date +%s)
	# 4 GiB: the block targets are all set up at once (guest.sh), and the randwrite jobs fill
	# up to 512 MiB in each of loop's tmpfs file, nbdkit, xseg-memd and xseg-filed's tmpfs
	# files, beside the 256 MiB segment (with 2 GiB the OOM killer took xseg-memd)
	tools/testing/vm/run --bench --kernel "$k" --timeout $((quick ? 900 : 3000)) --mem 4096 -- \
		bench/guest.sh "${gargs[@]}" 2>&1 | tee "$raw/$k/guest.log" || rc=$?
	mark "vm_$k" "$tp"
	vm_unlock
	if [ $rc != 0 ]; then
		# 125: the guest kernel logged a warning/oops; 124: the VM timed out
		printf 'vm\t%s\tfailed\tbench/guest.sh exit %s (see guest.log)\n' "$k" "$rc" \
			>> "$raw/$k/status.tsv"
		fail "VM run on $k (exit $rc)"
	fi
done
[ "$lock_wait" = 0 ] || echo "time_vm_lock_wait=$lock_wait" >> "$raw/meta"

say "report"
rargs=("$raw")
[ "${BENCH_STRICT:-1}" = 0 ] || rargs+=(--strict)
python3 bench/report.py "${rargs[@]}" ||
	fail "report: a benchmark failed or a record is missing (above)"
took=$(($(date +%s) - tb - lock_wait))
if [ $quick = 1 ] && [ "$budget" != 0 ] && [ "$took" -gt "$budget" ]; then
	fail "QUICK took $took s, over its budget of $budget s (BENCH_QUICK_BUDGET)"
fi
if [ $failed = 0 ]; then
	say "done in $took s of benchmarks (without build and lock wait): bench/results/latest.md"
else
	say "FAILED (above); report in bench/results/latest.md"
fi
exit $failed
