#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A/B block benchmark in one VM session: xsegbd served by `xseg-memd --null` for several
# builds (variants) beside the baselines null_blk and loop-on-tmpfs, rounds interleaved so
# that the noise of a shared TCG host falls on every target alike.  Runs inside the VM:
#
#   flock /tmp/xseg-vm.lock tools/testing/vm/run --kernel K --timeout 900 -- \
#       bench/ab.sh [--rounds N] [--runtime S] [--out DIR] [--profile NAME,...] \
#       [--fio-cpus LIST] [--diag] [--profile-each NAME,...] NAME=BINDIR:KODIR[:PEER ARGS...] ...
#
# BINDIR holds xseg and xseg-memd of the variant, KODIR its segdev.ko, xseg.ko and
# xsegbd.ko (a copy of an older build outside the repository, or "build" for this tree's
# build/user/bin and build/kernel/$(uname -r)).  PEER ARGS are extra xseg-memd arguments,
# comma-separated (--signal,futex); those of the form NAME=VALUE go to its environment
# (RQ_AFFINITY=N also sets the device's queue/rq_affinity; PEER_CPUS=LIST runs the peer
# under taskset -c LIST; XSEGBD_PARAMS="P=V ..." are xsegbd.ko's module parameters).  Each round measures 4k randread at QD1 and QD32
# (fio, io_uring, direct) on every target; the summary prints each figure as the median over
# the rounds and the ratios xsegbd/null_blk (QD32) and xsegbd/loop (QD1) round by round,
# then their medians.  --fio-cpus LIST pins fio (every target alike) to those CPUs.  --diag
# writes what the counters did over each round's fio run to OUT/diag-NAME-rROUND.txt (CPU
# time, interrupts, context switches of fio, the peer and the kworkers, xsegbd's stats).
# --profile-each NAME,... profiles those variants in every round, to compare a slow round's
# profile with a fast one's (a set-up of their own after the measured one, perf only:
# OUT/perf-NAME-prof-rROUND*, OUT/diag-NAME-prof-rROUND.txt with the profiled window's
# completions per second as window.iops, timed by /proc/uptime read beside xsegbd's
# counters).  --profile NAME,... runs those variants once more after the rounds
# (not counted) under `perf record -a -g` (cpu-clock: OUT/perf-NAME*.txt; what the
# counters did meanwhile: OUT/diag-NAME.txt) and once under `perf sched record` (wake-up
# to run delays: OUT/sched-NAME.txt); NAME null_blk profiles the baseline (perf only).
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
rounds=3
runtime=4
out=/tmp/xseg-ab
profile=
fio_cpus=
AB_DIAG=
profile_each=
prof_round=
vol_mb=512
variants=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--profile) profile=$2; shift 2 ;;
	--fio-cpus) fio_cpus=$2; shift 2 ;;
	--diag) AB_DIAG=1; shift ;;
	--profile-each) profile_each=$2; shift 2 ;;
	*=*) variants+=("$1"); shift ;;
	*) echo "ab.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"
work=/tmp/xseg-ab-work
mkdir -p "$work"
res=$out/results.tsv
: > "$res"

log() { printf '[ab %s] %s\n' "$(date +%T)" "$*"; }

# fio_run LABEL DEV [perf]: QD1 then QD32 randread; appends "round label qd iops" to res
fio_run() {
	local label=$1 dev=$2 prof=${3:-}
	local tag=$label${prof_round:+-prof-r$prof_round}
	local -a pre=()

	cat > "$work/job.fio" <<-EOF
	[global]
	ioengine=io_uring
	direct=1
	size=${vol_mb}M
	time_based
	runtime=$runtime
	ramp_time=1
	randrepeat=0
	norandommap
	thread
	stonewall
	filename=$dev
	${fio_cpus:+cpus_allowed=$fio_cpus}
	rw=randread
	bs=4k
	EOF
	if [ "$prof" = perf ]; then
		# the steady state of QD32 only: the counters for 4 s, then perf for 4 s (its
		# start-up, synthesizing every task's mappings, took 15 s and more under TCG)
		printf '[qd32]\niodepth=32\nruntime=120\n' >> "$work/job.fio"
	else
		printf '[qd1]\niodepth=1\n[qd32]\niodepth=32\n' >> "$work/job.fio"
	fi
	# perf sched wraps fio itself: its start-up under TCG takes seconds
	case "$prof" in
	sched) pre=(perf sched record -o "$work/perf.data" --) ;;
	esac
	[ -z "$prof" ] && [ -n "${AB_DIAG:-}" ] && snap "$dev" > "$work/snap.before"
	timeout -k 5 $((runtime * 4 + 120)) "${pre[@]}" fio --output-format=json \
		--output="$work/fio.json" "$work/job.fio" > "$work/fio.err" 2>&1 &
	local fpid=$!
	if [ "$prof" = perf ]; then
		# fio's start-up (seconds under TCG) and ramp are over after about 8 s
		sleep 9
		snap "$dev" > "$work/snap.before"
		sleep 4
		snap "$dev" > "$work/snap.after"
		snap_diff "$work/snap.before" "$work/snap.after" > "$out/diag-$tag.txt"
		# the window's rate: a device of ours counts its completions, timed where it is read
		awk '$1 == "uptime.ms" { ms = $2 } $1 == "xsegbd.stats.2" { n = $2 }
		     END { if (ms) printf "window.iops %d\n", n * 1000 / ms }' \
			"$out/diag-$tag.txt" >> "$out/diag-$tag.txt"
		# --synth=task: comm and fork events only; synthesizing every task's mappings
		# (user symbols) and collecting build ids (-B -N) took longer than fio's 60 s
		# under TCG
		local t0=$SECONDS
		perf record -a -g -F 499 -e cpu-clock --synth=task -B -N -o "$work/perf.data" \
			-- sleep 4 > /dev/null 2>&1
		log "$label: perf record took $((SECONDS - t0)) s"
		# perf sampled fio's steady state only if fio was still running when it ended
		kill -0 "$fpid" 2> /dev/null ||
			log "$label: fio ended before perf did: the profile missed it"
		# the profile is taken: fio's remaining runtime would measure nothing
		kill -INT "$fpid" 2> /dev/null
	fi
	wait "$fpid"
	local st=$?
	# every round's counters over the whole fio run (qd1 and qd32): what a slow round did
	if [ -z "$prof" ] && [ -n "${AB_DIAG:-}" ]; then
		snap "$dev" > "$work/snap.after"
		snap_diff "$work/snap.before" "$work/snap.after" > "$out/diag-$label-r$r.txt"
	fi
	# (a profiled fio is interrupted once perf is done)
	if [ "$st" != 0 ] && [ "$prof" != perf ]; then
		log "$label: fio failed: $(tail -2 "$work/fio.err")"
		return 1
	fi
	if [ -n "$prof" ]; then
		if [ "$prof" = perf ]; then
			perf report -i "$work/perf.data" --kallsyms=/proc/kallsyms --stdio --no-children --sort sym \
				--percent-limit 0.3 -g none > "$out/perf-$tag.txt" 2>&1
			perf report -i "$work/perf.data" --kallsyms=/proc/kallsyms --stdio --no-children --sort cpu,comm \
				-g none > "$out/perf-$tag-comm.txt" 2>&1
			perf report -i "$work/perf.data" --kallsyms=/proc/kallsyms --stdio --no-children --comm fio \
				--sort sym --percent-limit 0.3 -g none > "$out/perf-$tag-fio.txt" 2>&1
			perf report -i "$work/perf.data" --kallsyms=/proc/kallsyms --stdio --no-children --sort comm,sym \
				--percent-limit 0.5 -g none > "$out/perf-$tag-commsym.txt" 2>&1
			# who calls the three hottest symbols
			perf report -i "$work/perf.data" --kallsyms=/proc/kallsyms --stdio --no-children --sort sym \
				--percent-limit 5 -g caller,2,callee,function,percent \
				> "$out/perf-$tag-callers.txt" 2>&1
		else
			perf sched latency -i "$work/perf.data" --sort max \
				> "$out/sched-$tag.txt" 2>&1
		fi
		# kept for perf report --kallsyms with other sort keys (the guest's symbols)
		[ "$prof" = perf ] && cp "$work/perf.data" "$out/perf-$tag.data" &&
			cp /proc/kallsyms "$out/kallsyms-$tag.txt"
		rm -f "$work/perf.data"
	fi
	python3 - "$work/fio.json" "${prof_round:+p}$r" "$label" >> "$res" <<-'EOF'
	import json, sys
	try:
	    d = json.load(open(sys.argv[1]))
	except ValueError:
	    # a profiled fio interrupted before it wrote its report: the profile is what counts
	    sys.exit(0)
	for j in d["jobs"]:
	    qd = j["jobname"]
	    print(f"{sys.argv[2]}\t{sys.argv[3]}\t{qd}\t{j['read']['iops']:.0f}")
	EOF
	tail -n 2 "$res" | sed 's/^/    /'
}

# snap DEV: counters for the profile window (snap_diff prints what changed): per-CPU time
# (/proc/stat, in ticks), interrupts by kind, fio's context switches, blk-mq's per-queue
# counters (debugfs) and xsegbd's own
snap() {
	local d=${1#/dev/} f

	awk '/^cpu[0-9]/ { print "stat." $1 ".user", $2 + $3; print "stat." $1 ".sys", $4 + $7 + $8;
		print "stat." $1 ".idle", $5 + $6 } /^ctxt/ { print "stat.ctxt", $2 }' /proc/stat
	awk 'NR > 1 { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i;
		sub(":", "", $1); print "irq." $1, n }' /proc/interrupts
	# few processes: a fork costs tens of ms under TCG, and this runs inside the window
	# fio's threads one by one; the peer's threads and the kworkers (the reply callback runs
	# in one when the doorbell cannot take it) summed by name; then their CPU time in ticks
	# (stat fields 14, 15)
	awk 'FNR == 1 { split(FILENAME, p, "/"); t = p[5]; n = $2; sub("/.*", "", n)
	     if (n != "fio" && n != "xseg-memd" && n !~ /^kworker/) nextfile }
	     /^(non)?voluntary_ctxt_switches/ { sub(":", "", $1)
	     if (n == "fio") print "fio." t "." $1, $2; else c[n "." $1] += $2 }
	     END { for (k in c) print "task." k, c[k] }' /proc/[0-9]*/task/[0-9]*/status 2> /dev/null
	awk '{ n = $2; gsub("[()]", "", n); sub("/.*", "", n) } n == "xseg-memd" || n ~ /^kworker/ {
	     c[n ".utime"] += $14; c[n ".stime"] += $15 } END { for (k in c) print "task." k, c[k] }' \
		/proc/[0-9]*/task/[0-9]*/stat 2> /dev/null
	awk '{ f = FILENAME; sub(".*/block/[^/]*/", "", f); print "blk." f, $1 }' \
		/sys/kernel/debug/block/"$d"/hctx*/{queued,run,dispatch_busy} 2> /dev/null
	# xsegbd: in flight, completed, errors, timeouts, reissued, stale, bogus, abandoned,
	# deferred
	f=/sys/bus/xsegbd/devices/${d#xsegbd}/stats
	[ "${d#xsegbd}" != "$d" ] && [ -r "$f" ] &&
		awk 'NR == FNR { print "uptime.ms", int($1 * 1000); next }
		     { for (i = 1; i <= NF; i++) print "xsegbd.stats." i, $i }' /proc/uptime "$f"
	true
}

# snap_diff BEFORE AFTER: the counters that changed, as after - before
snap_diff() {
	awk 'NR == FNR { v[$1] = $2; next }
	     ($1 in v) && $2 ~ /^[0-9]+$/ && $2 != v[$1] { printf "%-36s %12d\n", $1, $2 - v[$1] }
	     !($1 in v) || $2 !~ /^[0-9]+$/ { print }' "$1" "$2"
}

null_blk_run() {
	local prof=${1:-}

	modprobe null_blk nr_devices=1 queue_mode=2 gb=1 bs=4096 submit_queues=2 \
		hw_queue_depth=128 irqmode=0 || return 1
	sleep 0.5
	fio_run null_blk /dev/nullb0 "$prof"
	modprobe -r null_blk
}

loop_run() {
	local d

	truncate -s "${vol_mb}M" "$work/loop.img"
	modprobe loop
	d=$(losetup -f --show "$work/loop.img") || return 1
	fio_run loop-tmpfs "$d"
	losetup -d "$d"
	rm -f "$work/loop.img"
}

# variant_run NAME=BINDIR:KODIR[:ARGS]
variant_run() {
	local name=${1%%=*} spec=${1#*=} prof=${2:-} bindir kodir args pid dev w
	local -a extra=() envs=() words=()

	bindir=${spec%%:*}
	spec=${spec#*:}
	kodir=${spec%%:*}
	args=
	[ "$spec" != "$kodir" ] && args=${spec#*:}
	[ "$bindir" = build ] && bindir=$src/build/user/bin
	[ "$kodir" = build ] && kodir=$src/build/kernel/$kver
	[ -n "$args" ] && IFS=, read -r -a words <<< "$args"
	for w in "${words[@]}"; do
		case "$w" in
		[A-Z]*=*) envs+=("$w") ;;
		*) extra+=("$w") ;;
		esac
	done
	local -a koparams=()
	for w in "${envs[@]}"; do
		case "$w" in
		XSEGBD_PARAMS=*) read -r -a koparams <<< "${w#*=}" ;;
		esac
	done
	if ! { insmod "$kodir/segdev.ko" && insmod "$kodir/xseg.ko" &&
		insmod "$kodir/xsegbd.ko" "${koparams[@]}" &&
		"$bindir/xseg" segment create --type segdev --name abseg --size 256M --ports 32 \
			--requests 2048; }; then
		log "$name: setup failed"
		variant_cleanup "$bindir" ""
		return 1
	fi
	local -a wrap=()
	for w in "${envs[@]}"; do
		case "$w" in
		PEER_CPUS=*) wrap=(taskset -c "${w#*=}") ;;
		esac
	done
	env "${envs[@]}" "${wrap[@]}" "$bindir/xseg-memd" --segment abseg --port 24 --size "${vol_mb}M" --null -v \
		"${extra[@]}" > "$work/peer.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		"$bindir/xseg" segment show abseg --type segdev 2> /dev/null |
			grep -Eq "^ *24 +pid $pid" && break
		sleep 0.1
	done
	if dev=$("$bindir/xseg" map --segment abseg --port 24 --queues 2 --depth 64 vol); then
		for w in "${envs[@]}"; do
			case "$w" in
			RQ_AFFINITY=*) echo "${w#*=}" > "/sys/block/${dev#/dev/}/queue/rq_affinity" ;;
			esac
		done
		fio_run "$name" "$dev" "$prof"
		"$bindir/xseg" unmap "$dev"
	else
		log "$name: map failed"
	fi
	variant_cleanup "$bindir" "$pid"
}

# variant_cleanup BINDIR PID: stops the peer, destroys the segment, unloads the modules
variant_cleanup() {
	if [ -n "$2" ]; then
		kill -TERM "$2"
		wait "$2"
		tail -n 1 "$work/peer.log" | sed 's/^/    peer: /'
	fi
	"$1/xseg" segment destroy abseg --type segdev > /dev/null 2>&1
	rmmod xsegbd xseg segdev 2> /dev/null
	dmesg | tail -n 3 | sed 's/^/    dmesg: /'
}

log "kernel $kver, $(nproc) CPUs, $rounds rounds of ${runtime}s, fio on CPUs ${fio_cpus:-any}, variants: ${variants[*]}"
for r in $(seq "$rounds"); do
	log "round $r"
	null_blk_run
	for v in "${variants[@]}"; do
		variant_run "$v"
		case ",$profile_each," in
		*",${v%%=*},"*) prof_round=$r variant_run "$v" perf ;;
		esac
	done
	loop_run
done
# profiling runs (not in the figures): perf record, then perf sched latency
if [ -n "$profile" ]; then
	r=p
	case ",$profile," in
	*,null_blk,*) null_blk_run perf ;;
	esac
	for v in "${variants[@]}"; do
		case ",$profile," in
		*",${v%%=*},"*) variant_run "$v" perf; variant_run "$v" sched ;;
		esac
	done
fi

# the clocksource decides what every clock_gettime() costs (tools/testing/vm/run: tsc=reliable)
log "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)," \
	"kernel command line: $(cat /proc/cmdline)"
dmesg | grep -i 'clocksource.*unstable\|switched to clocksource' | sed 's/^/    dmesg: /'

python3 - "$res" <<-'EOF'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
v = collections.defaultdict(dict)
rows = [x for x in rows if not x[0].startswith("p")]
for r, label, qd, iops in rows:
    v[(label, qd)][r] = float(iops)
labels = []
for r, label, qd, iops in rows:
    if label not in labels:
        labels.append(label)
print("\n4k randread IOPS, median over rounds (per round):")
for label in labels:
    for qd in ("qd1", "qd32"):
        d = v.get((label, qd), {})
        if d:
            vals = " ".join(f"{d[k]:.0f}" for k in sorted(d))
            print(f"  {label:14s} {qd:5s} {statistics.median(d.values()):9.0f}   ({vals})")
print("\nratios (median of per-round ratios):")
for label in labels:
    if label in ("null_blk", "loop-tmpfs"):
        continue
    for base, qd in (("null_blk", "qd32"), ("loop-tmpfs", "qd1")):
        a, b = v.get((label, qd), {}), v.get((base, qd), {})
        rs = [a[k] / b[k] for k in a if k in b and b[k]]
        if rs:
            print(f"  {label}/{base} {qd}: {statistics.median(rs):.2f}  "
                  f"({' '.join(f'{x:.2f}' for x in rs)})")
EOF
