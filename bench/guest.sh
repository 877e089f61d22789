#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of make bench: runs inside the VM (tools/testing/vm/run, as root, from the
# repository) and writes raw results under OUT, which bench/report.py turns into records.
#
#   bench/guest.sh --out OUT [--quick] [--runs N] [--ipc] [--blk]
#
#   OUT/ipc.json, ipc.cdf, ipc.txt    xseg-bench in the guest (xseg.ko and segdev.ko loaded)
#   OUT/blk/GROUP.json                fio --output-format=json, jobs TARGET:JOB.rRUN
#   OUT/blk-jobs                      the fio jobs run on every target, one a line
#   OUT/status.tsv                    suite, case, ok|failed|unavailable, message: every
#                                     benchmark attempted, so none is silently dropped
#
# Block targets: xsegbd-null (xseg-memd --null), xsegbd-memd, xsegbd-filed (files on tmpfs),
# and the baselines null_blk, loop-tmpfs (loop over a tmpfs file), nbd-memory (nbdkit memory,
# nbd-client over a UNIX socket).  "unavailable" means a part is not in this tree (a module
# or a peer not built); "failed" means it is there and did not work.  Exit status: 0 when
# nothing failed, 1 otherwise.
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
bin=$src/build/user/bin
PATH=$bin:$PATH
kver=$(uname -r)
moddir=${XSEG_MODDIR:-$src/build/kernel/$kver}

out=
quick=0
runs=
do_ipc=0
do_blk=0
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--runs) runs=$2; shift 2 ;;
	--ipc) do_ipc=1; shift ;;
	--blk) do_blk=1; shift ;;
	*) echo "guest.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "guest.sh: --out OUT is required" >&2; exit 2; }
[ $do_ipc = 1 ] || [ $do_blk = 1 ] || { do_ipc=1; do_blk=1; }

if [ $quick = 1 ]; then
	runs=${runs:-1}
	runtime=1
	ramp=0
	depths="1 32"
else
	runs=${runs:-3}
	runtime=2
	ramp=1
	depths="1 4 16 32 64"
fi
vol_mb=512
mkdir -p "$out/blk"
: > "$out/status.tsv"
failed=0
work=/tmp/xseg-bench
mkdir -p "$work"
# fio on CPU 0, the server processes on the last CPU (see "block" below)
client_cpu=
server_wrap=()
if [ "${BENCH_PIN:-1}" != 0 ] && [ "$(nproc)" -ge 2 ]; then
	client_cpu=0
	server_wrap=(taskset -c "$(($(nproc) - 1))")
fi

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*"; }

# status SUITE CASE ok|failed|unavailable MESSAGE
status() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(echo "$4" | tr '\t\n' '  ' | cut -c1-300)" \
		>> "$out/status.tsv"
	[ "$3" = failed ] && failed=1
	log "$1 $2: $3${4:+: $4}"
	return 0
}

# ---- IPC: xseg-bench with the modules loaded (kernel cells need them) ----
run_ipc() {
	local args=(--json "$out/ipc.json" --cdf "$out/ipc.cdf")

	if ! modprobe -a segdev xseg > "$work/modprobe.log" 2>&1; then
		status ipc xseg-bench failed "modprobe segdev xseg: $(cat "$work/modprobe.log")"
		return
	fi
	if [ $quick = 1 ]; then
		args+=(--kernel --quick --iterations 200)
	else
		args+=(--kernel --runs "$runs" --iterations 1000)
	fi
	log "ipc: xseg-bench ${args[*]}"
	if timeout -k 10 600 xseg-bench "${args[@]}" > "$out/ipc.txt" 2>&1; then
		status ipc xseg-bench ok ""
	else
		status ipc xseg-bench failed "exit $?: $(tail -3 "$out/ipc.txt")"
	fi
	cat "$out/ipc.txt"
	modprobe -r xseg_kpeer xseg segdev > /dev/null 2>&1
}

# ---- block ----
# fio starts slowly under TCG (seconds: it maps many libraries over 9p), so every target is
# set up first and each run is one fio process whose job sections, named TARGET:JOB.rRUN,
# run one after the other (stonewall), the targets interleaved job by job: a baseline's
# figure and the xsegbd figure it is divided by are taken seconds apart, so that the host's
# noise (which changes over minutes on a shared TCG host) falls on both alike.  A hang in one
# run's fio (killed by its timeout) loses that run's figures only.
#
# CPUs (with 2 or more): fio, the client, runs on CPU 0 for every target; the servers that
# are processes (the xsegbd peers, nbdkit) run on the last CPU, as a polling server is
# deployed beside its clients; the kernel's own workers (loop) go where the scheduler puts
# them.  BENCH_PIN=0 turns the pinning off.  Memory: the written data of loop, nbd, xseg-memd
# and xseg-filed (512 MiB each) and the segment are held at once: bench/run.sh boots 4 GiB.
names=()
devs=()
teardowns=()

# the fio jobs, named RW-BS-qdDEPTH
blk_jobs() {
	local qd

	for qd in $depths; do echo "randread-4k-qd$qd"; done
	echo randwrite-4k-qd1
	echo randwrite-4k-qd32
	echo read-128k-qd8
}

# fio_jobfile RUN: the jobs of one run on every target set up
fio_jobfile() {
	local r=$1 job rw bs depth i

	printf '[global]\nioengine=io_uring\ndirect=1\nnumjobs=1\nsize=%sM\n' "$vol_mb"
	printf 'time_based\nruntime=%s\nramp_time=%s\n' "$runtime" "$ramp"
	# threads, not processes: a fork per job costs seconds under TCG
	printf 'randrepeat=0\nnorandommap\nstonewall\nthread\n'
	if [ -n "$client_cpu" ]; then printf 'cpus_allowed=%s\n' "$client_cpu"; fi
	for job in $(blk_jobs); do
		rw=${job%%-*}
		bs=${job#*-}
		bs=${bs%%-*}
		depth=${job##*-qd}
		for i in "${!names[@]}"; do
			printf '[%s:%s.r%s]\nfilename=%s\nrw=%s\nbs=%s\niodepth=%s\n' \
				"${names[$i]}" "$job" "$r" "${devs[$i]}" "$rw" "$bs" "$depth"
		done
	done
}

# setup_target NAME SETUP TEARDOWN: SETUP prints the device (or an error) on stdout; it
# runs in this shell (not in a command substitution) so that it can set peer_pid and xdev
setup_target() {
	local name=$1 setup=$2 teardown=$3 msg

	log "blk: $name: setup"
	if ! $setup > "$work/setup.out" 2> "$work/setup.err"; then
		msg="$(cat "$work/setup.out" "$work/setup.err")"
		case "$msg" in
		*UNAVAILABLE:*)
			status blk "$name" unavailable "${msg#*UNAVAILABLE: }"
			;;
		*)
			# shellcheck disable=SC2086 # "function argument"
			$teardown > /dev/null 2>&1
			status blk "$name" failed "setup: $msg"
			;;
		esac
		return
	fi
	names+=("$name")
	devs+=("$(tail -n 1 "$work/setup.out")")
	teardowns+=("$teardown")
}

# fio_runs: measures the targets set up, one fio process per run, then tears them down
fio_runs() {
	local r f n i rc
	local -a bad=()

	[ ${#names[@]} -gt 0 ] || return 0
	for r in $(seq "$runs"); do
		f=$(printf 'run%02d' "$r")
		fio_jobfile "$r" > "$work/$f.fio"
		n=$(grep -c '^\[.*:' "$work/$f.fio")
		log "blk: run $r/$runs: fio, $n jobs of ${runtime}s on ${names[*]}"
		rc=0
		timeout -k 10 $(((runtime + ramp + 5) * n + 120)) fio --output-format=json \
			--output="$out/blk/$f.json" "$work/$f.fio" > "$work/fio.err" 2>&1 || rc=$?
		[ $rc = 0 ] || bad+=("run $r: fio exit $rc: $(tail -2 "$work/fio.err")")
	done
	for i in "${!names[@]}"; do
		if [ ${#bad[@]} = 0 ]; then
			status blk "${names[$i]}" ok "${devs[$i]}"
		else
			status blk "${names[$i]}" failed "${bad[*]}"
		fi
	done
	for i in "${!names[@]}"; do
		log "blk: ${names[$i]}: teardown"
		# shellcheck disable=SC2086 # "function argument"
		${teardowns[$i]} > "$work/teardown.err" 2>&1 ||
			status blk "${names[$i]}-teardown" failed "$(cat "$work/teardown.err")"
	done
	names=()
	devs=()
	teardowns=()
}

# -- baselines
null_blk_setup() {
	modprobe null_blk nr_devices=1 queue_mode=2 gb=$((vol_mb / 512 + 1)) bs=4096 \
		submit_queues=2 hw_queue_depth=128 irqmode=0 >&2 || return 1
	udevwait /dev/nullb0 && echo /dev/nullb0
}
null_blk_teardown() { modprobe -r null_blk; }

loop_setup() {
	truncate -s "${vol_mb}M" "$work/loop.img" >&2 || return 1
	modprobe loop >&2
	losetup -f --show "$work/loop.img"
}
loop_teardown() {
	local d

	for d in $(losetup -j "$work/loop.img" -O NAME -n); do losetup -d "$d"; done
	rm -f "$work/loop.img"
}

nbd_setup() {
	modprobe nbd nbds_max=2 >&2 || return 1
	rm -f "$work/nbd.sock"
	"${server_wrap[@]}" nbdkit --unix "$work/nbd.sock" --pidfile "$work/nbdkit.pid" memory "${vol_mb}M" >&2 ||
		return 1
	udevwait "$work/nbd.sock" || return 1
	nbd-client -unix "$work/nbd.sock" /dev/nbd0 -b 4096 -N "" >&2 || return 1
	# the device has its size once the handshake is done
	for _ in $(seq 50); do
		[ "$(blockdev --getsize64 /dev/nbd0 2> /dev/null || echo 0)" -gt 0 ] && break
		sleep 0.1
	done
	echo /dev/nbd0
}
nbd_teardown() {
	timeout 20 nbd-client -d /dev/nbd0
	[ -s "$work/nbdkit.pid" ] && kill "$(cat "$work/nbdkit.pid")"
	rm -f "$work/nbdkit.pid" "$work/nbd.sock"
	sleep 0.5
	timeout 20 modprobe -r nbd
}

# -- xsegbd, served by userspace peers on one segdev segment: xseg-memd --null on port 24,
# xseg-memd on port 25, xseg-filed on port 26, one device each (xsegbd takes its own ports,
# one per queue, from the lowest free ones)
seg=benchseg
seg_ready=0
declare -A peer_pids xdevs

xsegbd_segment() {
	[ $seg_ready = 1 ] && return 0
	modprobe -a segdev xseg xsegbd >&2 || return 1
	xseg segment create --type segdev --name "$seg" --size 256M --ports 32 \
		--requests 2048 >&2 || return 1
	seg_ready=1
}

# xsegbd_setup PORT PEER [PEER ARGS...]
xsegbd_setup() {
	local port=$1 peer=$2 i pid dev

	shift 2
	[ -e "$moddir/xsegbd.ko" ] || { echo "UNAVAILABLE: xsegbd.ko not built for $kver"; return 1; }
	command -v "$peer" > /dev/null ||
		{ echo "UNAVAILABLE: $peer not built (build/user/bin/$peer)"; return 1; }
	xsegbd_segment || return 1
	"${server_wrap[@]}" "$peer" --segment "$seg" --port "$port" "$@" > "$work/peer$port.log" \
		2>&1 &
	pid=$!
	peer_pids[$port]=$pid
	for i in $(seq 100); do
		kill -0 "$pid" 2> /dev/null ||
			{ echo "$peer exited: $(tail -2 "$work/peer$port.log")"; return 1; }
		xseg segment show "$seg" --type segdev 2> /dev/null |
			grep -Eq "^ *$port +pid $pid" && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || { echo "$peer did not bind port $port"; return 1; }
	dev=$(xseg map --segment "$seg" --port "$port" --queues 2 --depth 64 "vol$port") || return 1
	[ -b "$dev" ] || { echo "xseg map printed '$dev'"; return 1; }
	xdevs[$port]=$dev
	echo "$dev"
}

# xsegbd_teardown PORT: unmap the device, stop the peer
xsegbd_teardown() {
	local port=$1 rc=0

	if [ -n "${xdevs[$port]:-}" ]; then
		xseg unmap "${xdevs[$port]}" || rc=1
	fi
	unset "xdevs[$port]"
	if [ -n "${peer_pids[$port]:-}" ]; then
		kill -TERM "${peer_pids[$port]}" 2> /dev/null
		wait "${peer_pids[$port]}" 2> /dev/null
	fi
	unset "peer_pids[$port]"
	return $rc
}

xsegbd_cleanup() {
	[ $seg_ready = 1 ] || return 0
	xseg segment destroy "$seg" --type segdev > /dev/null 2>&1
	rm -rf "$work/store"
	modprobe -r xsegbd xseg segdev > /dev/null 2>&1
	seg_ready=0
}
xsegbd_null_setup() { xsegbd_setup 24 xseg-memd --size "${vol_mb}M" --null; }
xsegbd_memd_setup() { xsegbd_setup 25 xseg-memd --size "${vol_mb}M"; }
xsegbd_filed_setup() {
	mkdir -p "$work/store"
	xsegbd_setup 26 xseg-filed --dir "$work/store" --size "${vol_mb}M"
}

# udevwait PATH: there is no udev in the guest; devtmpfs nodes and sockets appear shortly
udevwait() {
	local i

	for i in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "$1 did not appear"
	return 1
}

# every target set up, then the runs (fio_runs); the baselines are set up first so that a
# failed xsegbd setup still leaves them measured
run_blk() {
	blk_jobs > "$out/blk-jobs"
	setup_target null_blk null_blk_setup null_blk_teardown
	setup_target loop-tmpfs loop_setup loop_teardown
	setup_target nbd-memory nbd_setup nbd_teardown
	setup_target xsegbd-null xsegbd_null_setup "xsegbd_teardown 24"
	setup_target xsegbd-memd xsegbd_memd_setup "xsegbd_teardown 25"
	setup_target xsegbd-filed xsegbd_filed_setup "xsegbd_teardown 26"
	fio_runs
	xsegbd_cleanup
}

log "kernel $kver, $(nproc) CPUs, quick=$quick, runs=$runs, fio runtime ${runtime}s, fio on CPU ${client_cpu:-any}, servers ${server_wrap[*]:-unpinned}"
t=$SECONDS
[ $do_ipc = 1 ] && run_ipc
t_ipc=$((SECONDS - t))
t=$SECONDS
[ $do_blk = 1 ] && run_blk
log "done: IPC ${t_ipc} s, block $((SECONDS - t)) s, guest uptime $(cut -d' ' -f1 /proc/uptime) s"
exit $failed
