#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of make demo (tools/demo.sh runs it in the VM as root, from the repository).
# Every step is printed as it runs; any failure stops the demo with the step's name and a
# non-zero exit, after tearing down what was set up.
set -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$src/build/user/bin
PATH=$bin:$PATH
seg=demo$$
port=1
target=vol0
store=/tmp/xseg-demo-store
mnt=/tmp/xseg-demo-mnt
vol_size=512M
mb=${DEMO_MB:-32}
dev=
peer_pid=
report=()
step_no=0

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

teardown() {
	mountpoint -q "$mnt" 2> /dev/null && umount "$mnt"
	[ -n "$dev" ] && xseg unmap --force "$dev" > /dev/null 2>&1
	if [ -n "$peer_pid" ] && kill -0 "$peer_pid" 2> /dev/null; then
		kill -TERM "$peer_pid"
		wait "$peer_pid" 2> /dev/null
	fi
	xseg segment destroy "$seg" --type segdev > /dev/null 2>&1
	modprobe -r xsegbd xseg segdev > /dev/null 2>&1
}

fail() {
	echo "demo: FAILED at step $step_no: $*" >&2
	teardown
	exit 1
}

# step "what" COMMAND...: runs COMMAND, prints its time, stops the demo if it fails
step() {
	local what=$1 t
	shift
	step_no=$((step_no + 1))
	printf '[%2d] %-58s ' "$step_no" "$what"
	t=$(now)
	# in this shell (not a subshell): steps set variables and start the peer
	if ! "$@" > /tmp/xseg-demo.step 2>&1; then
		echo "FAILED"
		sed 's/^/     | /' /tmp/xseg-demo.step
		fail "$what"
	fi
	local dt
	dt=$(secs "$t" "$(now)")
	echo "ok (${dt} s)"
	report+=("$(printf '%-58s %7s s' "$what" "$dt")")
}

# One process writes the whole tree (a process per file costs ~0.5 s under TCG).
write_tree() {
	python3 - "$mnt/tree" "$mb" /tmp/xseg-demo.sums /tmp/xseg-demo.count <<'PY'
import hashlib, os, random, sys
root, mb, sums, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
random.seed(1)
total, written, n, lines, dirs = mb << 20, 0, 0, [], set()
while written < total:
    d = os.path.join(root, "d%02d" % (n % 16), "s%d" % (n % 3))
    os.makedirs(d, exist_ok=True)
    dirs.add(d)
    size = random.randint(1, 512) * 4096 - random.randint(0, 4095)
    data = os.urandom(size)
    path = os.path.join(d, "f%04d" % n)
    with open(path, "wb") as f:
        f.write(data)
    lines.append("%s  %s\n" % (hashlib.sha256(data).hexdigest(), os.path.relpath(path, root)))
    written += size
    n += 1
with open(sums, "w") as f:
    f.writelines(lines)
with open(count, "w") as f:
    f.write("%d files in %d directories, %.1f MiB\n" % (n, len(dirs), written / 1048576))
PY
	sync
}

start_peer() {
	mkdir -p "$store" || return 1
	xseg-filed --segment "$seg" --port "$port" --dir "$store" --size "$vol_size" \
		--signal futex \
		> /tmp/xseg-demo-filed.log 2>&1 &
	peer_pid=$!
	# the port is bound when the tool shows an owner on it
	for _ in $(seq 100); do
		kill -0 "$peer_pid" 2> /dev/null || { cat /tmp/xseg-demo-filed.log; return 1; }
		xseg segment show "$seg" --type segdev 2> /dev/null |
			grep -Eq "^ *$port +pid $peer_pid" && return 0
		sleep 0.1
	done
	echo "xseg-filed did not bind port $port"
	return 1
}

map_dev() {
	dev=$(xseg map --segment "$seg" --port "$port" "$target") || return 1
	[ -b "$dev" ] || { echo "xseg map printed '$dev', not a block device"; return 1; }
	echo "$dev"
}

seq_write() {
	dd if=/dev/zero of="$mnt/big" bs=1M count="$mb" conv=fsync 2>&1 | tail -1 |
		tee /tmp/xseg-demo.dd
}

echo "xseg demo on $(uname -r): a block device served by a userspace peer through a segment"
echo
step "load segdev.ko, xseg.ko, xsegbd.ko (modprobe)" modprobe -a segdev xseg xsegbd
step "create segdev segment '$seg' (64 MiB)" \
	xseg segment create --type segdev --name "$seg" --size 64M
step "start xseg-filed on port $port (files in tmpfs $store)" start_peer
step "map target '$target' ($vol_size) to a block device" map_dev
echo "     -> $dev"
step "mkfs.ext4 $dev" mkfs.ext4 -q -F "$dev"
mkdir -p "$mnt"
step "mount $dev" mount "$dev" "$mnt"
step "write a tree of random files (${mb} MiB) and their sha256" write_tree
step "sequential write ${mb} MiB with fsync (dd)" seq_write
step "umount" umount "$mnt"
step "mount again (cold cache)" sh -c "echo 3 > /proc/sys/vm/drop_caches; mount $dev $mnt"
step "verify every checksum" sh -c "cd $mnt/tree && sha256sum --quiet -c /tmp/xseg-demo.sums"
step "umount" umount "$mnt"
step "fsck.ext4 -n -f" fsck.ext4 -n -f "$dev"
step "the device is listed by 'xseg devices'" sh -c "xseg devices | grep -w '$target'"
step "unmap $dev" xseg unmap "$dev"
dev=
step "stop xseg-filed (SIGTERM, exit 0)" sh -c "kill -TERM $peer_pid; wait $peer_pid 2>/dev/null; \
	while kill -0 $peer_pid 2>/dev/null; do sleep 0.1; done"
peer_pid=
step "destroy segment '$seg'" xseg segment destroy "$seg" --type segdev
step "unload the modules" modprobe -r xsegbd xseg segdev

echo
echo "== report"
echo "kernel:        $(uname -r)"
echo "written:       $(cat /tmp/xseg-demo.count 2> /dev/null)"
echo "backing file:  $(du -h --apparent-size "$store/$target" 2> /dev/null | cut -f1) apparent," \
	"$(du -h "$store/$target" 2> /dev/null | cut -f1) allocated (sparse)"
echo "sequential:    $(grep -o '[0-9.]* [MGk]B/s' /tmp/xseg-demo.dd 2> /dev/null || true)" \
	"(dd, 1 MiB writes + fsync; under QEMU TCG: relative figures only)"
echo "step times:"
printf '  %s\n' "${report[@]}"
echo "demo: all $step_no steps passed"
