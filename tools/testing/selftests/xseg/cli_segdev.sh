#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The xseg tool on segdev segments (/dev/segdev): create/list/show/destroy, the default type,
# --owner and --mode, "in use" while a segment is mapped, and an unprivileged user (nobody)
# getting "permission denied".  Exit codes: 1 operational, 2 usage.

. "$(dirname "$0")/common.sh"
xseg_need_root
xseg_need_module segdev

X=$XSEG_BIN/xseg
CTL=$XSEG_TESTS/vm/segdev_test
NOBODY=65534
[ -x "$X" ] || ksft_skip_all "the xseg tool is not built"

loaded_here=0
if ! xseg_module_loaded segdev; then
	modprobe segdev 2> /dev/null || xseg_insmod segdev || ksft_skip_all "cannot load segdev"
	loaded_here=1
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -e /dev/segdev ] && break
	sleep 0.2
done
[ -e /dev/segdev ] || ksft_skip_all "no /dev/segdev after loading segdev"

name=xseg-cli-$$
holder=

cleanup() {
	[ -n "$holder" ] && kill "$holder" 2> /dev/null && wait "$holder" 2> /dev/null
	for n in "$name" "$name-o" "$name-w"; do
		"$X" segment destroy --type segdev --force "$n" > /dev/null 2>&1
	done
}
trap cleanup EXIT

as_nobody() {
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"
}

# expect STATUS PATTERN COMMAND...: COMMAND exits with STATUS and prints PATTERN (grep -E).
expect() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" != "$want" ]; then
		echo "exit status $rc, expected $want"
		return 1
	fi
	if [ -n "$pat" ] && ! grep -Eq -- "$pat" <<< "$out"; then
		echo "output does not match /$pat/"
		return 1
	fi
	return 0
}

ksft_test "create a segdev segment" \
	expect 0 "created segdev segment '$name'" \
	"$X" segment create --type segdev --name "$name" --size 4M --ports 8 --requests 64
ksft_test "duplicate name: already exists" \
	expect 1 "segment '$name': already exists" \
	"$X" segment create --type segdev --name "$name" --size 4M --ports 8 --requests 64
ksft_test "bad size: usage error" \
	expect 2 "bad size" "$X" segment create --type segdev --name "$name-x" --size 4Q
ksft_test "list --type segdev shows it" \
	expect 0 "^$name +segdev +4\.0 MiB +root:root +0600" "$X" segment list --type segdev
ksft_test "the default type is segdev when /dev/segdev exists" \
	expect 0 "segment '$name' \(segdev\)" "$X" segment show "$name"
ksft_test "show: geometry, requests by state, buffer space" \
	expect 0 "requests:      64 \(64 free\)" "$X" segment show --type segdev "$name"
ksft_test "show: free requests" \
	expect 0 "free 64 got 0 submitted 0" "$X" segment show --type segdev "$name"
ksft_test "show a missing segment: no such segment" \
	expect 1 "segment '$name-none': no such segment" \
	"$X" segment show --type segdev "$name-none"
ksft_test "destroy a missing segment: no such segment" \
	expect 1 "segment '$name-none': no such segment" \
	"$X" segment destroy --type segdev "$name-none"

# an unprivileged user and a 0600 root segment
ksft_test "nobody cannot show a 0600 root segment" \
	expect 1 "segment '$name': permission denied" \
	as_nobody "$X" segment show --type segdev "$name"
ksft_test "nobody cannot destroy it" \
	expect 1 "segment '$name': permission denied" \
	as_nobody "$X" segment destroy --type segdev --force "$name"
ksft_test "nobody cannot create with --owner" \
	expect 1 "permission denied" \
	as_nobody "$X" segment create --type segdev --name "$name-w" --size 4M --owner root
ksft_test "nobody may list" expect 0 "^$name " as_nobody "$X" segment list --type segdev

# in use while another process maps it ("ctl hold" also fills it with 0x3c bytes)
"$CTL" ctl hold "$name" > "/tmp/$name.hold" 2>&1 &
holder=$!
for _ in $(seq 50); do
	grep -q held "/tmp/$name.hold" 2> /dev/null && break
	sleep 0.1
done
ksft_test "destroy while mapped: in use" \
	expect 1 "segment '$name': in use" "$X" segment destroy --type segdev "$name"
ksft_test "show a scribbled segment: not an xseg segment" \
	expect 1 "segment '$name': not an xseg segment" "$X" segment show --type segdev "$name"
kill "$holder" 2> /dev/null
wait "$holder" 2> /dev/null
holder=
rm -f "/tmp/$name.hold"
ksft_test "destroy" expect 0 "destroyed segdev segment '$name'" \
	"$X" segment destroy --type segdev "$name"
ksft_test "gone from the list" \
	expect 0 "" sh -c "! '$X' segment list --type segdev | grep -q '^$name '"

# --owner and --mode
ksft_test "create --owner nobody --mode 0600" \
	expect 0 "created" "$X" segment create --type segdev --name "$name-o" --size 2M \
	--ports 4 --requests 16 --owner "$NOBODY:$NOBODY" --mode 0600
ksft_test "list shows the owner and mode" \
	expect 0 "^$name-o +segdev .* $NOBODY:$NOBODY +0600|^$name-o +segdev .* nobody:[a-z]+ +0600" \
	"$X" segment list --type segdev
ksft_test "the owner can show it" \
	expect 0 "mode 0600" as_nobody "$X" segment show --type segdev "$name-o"
ksft_test "the owner can destroy it" \
	expect 0 "destroyed" as_nobody "$X" segment destroy --type segdev "$name-o"
ksft_test "create --mode 0666 as root" \
	expect 0 "created" "$X" segment create --type segdev --name "$name-w" --size 2M \
	--ports 4 --requests 16 --mode 0666
ksft_test "anyone may show a 0666 segment" \
	expect 0 "segment '$name-w' \(segdev\)" as_nobody "$X" segment show --type segdev "$name-w"
ksft_test "but only the owner may destroy it" \
	expect 1 "permission denied" as_nobody "$X" segment destroy --type segdev "$name-w"
ksft_test "destroy it as root" expect 0 "destroyed" "$X" segment destroy --type segdev "$name-w"

if [ $loaded_here = 1 ]; then
	ksft_test "no segment left: segdev unloads" rmmod segdev
fi
ksft_finish
