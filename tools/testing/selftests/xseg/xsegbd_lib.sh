# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the xsegbd tests (xsegbd_*.sh); source it after common.sh.  Not executable:
# run_vm.sh only runs executable scripts.
#
# The storage server is a variable, so that the same tests run against any peer that
# speaks <uapi/xseg/blk.h> and keeps its data across a restart on the same port:
#
#   XSEGBD_SERVER   command, run as: $XSEGBD_SERVER --segment NAME --port P --store DIR
#                   --size BYTES [EXTRA...]; must print a line containing "serving" once
#                   its port is bound (default: xsegbd_test serve, this directory's server)
#
#   xsegbd_setup                      load segdev, xseg, xsegbd; create the segment
#   xsegbd_server_start PORT [EXTRA]  start a server on PORT (pid in $XSEGBD_STORE/server-PORT.pid,
#                                     so that subshells (ksft_test) can start and kill them)
#   xsegbd_server_kill PORT [SIG]     kill it (default SIGKILL) and reap it
#   xsegbd_add "key=value..."         add a device; prints its number (cleanup removes
#                                     every device on XSEGBD_SEG)
#   xsegbd_attr N NAME                a device attribute
#   xsegbd_remove N [force]           remove a device
#   xsegbd_cleanup                    undo everything (EXIT trap)

XSEGBD_SERVER=${XSEGBD_SERVER:-"$XSEG_TESTS/vm/xsegbd_test serve"}
XSEGBD_SEG=xsegbd-t$$
XSEGBD_SEG_SIZE=${XSEGBD_SEG_SIZE:-160M}
XSEGBD_SIZE=${XSEGBD_SIZE:-$((64 << 20))}
XSEGBD_BUS=/sys/bus/xsegbd
XSEGBD_STORE=

xsegbd_setup() {
	xseg_need_root
	xseg_need_module xsegbd
	modprobe segdev 2> /dev/null || xseg_insmod segdev || ksft_skip_all "cannot load segdev"
	modprobe xseg 2> /dev/null || xseg_insmod xseg || ksft_skip_all "cannot load xseg"
	xseg_insmod xsegbd || ksft_skip_all "cannot load xsegbd"
	for _ in $(seq 50); do
		[ -e /dev/segdev ] && break
		sleep 0.1
	done
	XSEGBD_STORE=$(mktemp -d /tmp/xsegbd-store.XXXXXX)
	"$XSEG_BIN/xseg" segment create --type segdev --name "$XSEGBD_SEG" \
		--size "$XSEGBD_SEG_SIZE" --requests 2048 > /dev/null ||
		ksft_skip_all "cannot create segment $XSEGBD_SEG"
	trap xsegbd_cleanup EXIT
}

xsegbd_server_start() {
	local port=$1 log i
	shift
	log=$XSEGBD_STORE/server-$port.log
	: > "$log"
	# shellcheck disable=SC2086 # XSEGBD_SERVER is a command line
	$XSEGBD_SERVER --segment "$XSEGBD_SEG" --port "$port" --store "$XSEGBD_STORE" \
		--size "$XSEGBD_SIZE" "$@" >> "$log" 2>&1 &
	echo $! > "$XSEGBD_STORE/server-$port.pid"
	for i in $(seq 100); do
		grep -q serving "$log" && return 0
		kill -0 "$(cat "$XSEGBD_STORE/server-$port.pid")" 2> /dev/null || break
		sleep 0.1
	done
	echo "server on port $port did not start:"
	cat "$log"
	return 1
}

xsegbd_server_kill() {
	local port=$1 sig=${2:-KILL} pidf=$XSEGBD_STORE/server-$1.pid pid
	[ -e "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	kill -"$sig" "$pid" 2> /dev/null
	# the server may be an orphan by now (started in a subshell): a zombie counts as dead
	for _ in $(seq 100); do
		grep -q '^[^)]*) [^Z]' "/proc/$pid/stat" 2> /dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2> /dev/null
	return 0
}

# Diagnostics of device N (after a failure).
xsegbd_diag() {
	echo "device $1: state $(xsegbd_attr "$1" state) stats $(xsegbd_attr "$1" stats)"
	dmesg | tail -15
	ps -eo pid,stat,wchan:30,comm | awk '$2 ~ /^D/'
}

xsegbd_add() {
	echo "$1" > "$XSEGBD_BUS/add" || return 1
	local n
	n=$(cat "$XSEGBD_BUS/last_added")
	for _ in $(seq 50); do
		[ -b "/dev/xsegbd$n" ] && break
		sleep 0.1
	done
	echo "$n"
}

xsegbd_attr() {
	cat "$XSEGBD_BUS/devices/$1/$2"
}

xsegbd_remove() {
	echo "$*" > "$XSEGBD_BUS/remove"
}

# xsegbd_wait_state N STATE SECONDS
xsegbd_wait_state() {
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(xsegbd_attr "$1" state 2> /dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	echo "device $1 state $(xsegbd_attr "$1" state 2> /dev/null), expected $2"
	return 1
}

xsegbd_cleanup() {
	local d p
	for d in "$XSEGBD_BUS"/devices/*; do
		[ "$(cat "$d/segment" 2> /dev/null)" = "$XSEGBD_SEG" ] &&
			echo "${d##*/} force" > "$XSEGBD_BUS/remove" 2> /dev/null
	done
	for p in "$XSEGBD_STORE"/server-*.pid; do
		[ -e "$p" ] || continue
		p=${p##*/server-}
		xsegbd_server_kill "${p%.pid}" TERM
	done
	"$XSEG_BIN/xseg" segment destroy --type segdev --force "$XSEGBD_SEG" > /dev/null 2>&1
	[ -n "$XSEGBD_STORE" ] && rm -rf "$XSEGBD_STORE"
	xseg_rmmod xsegbd 2> /dev/null
	return 0
}

# xsegbd_fio DEV NAME [fio options...]: random writes then verified reads (crc32c), killed
# after XSEGBD_FIO_TIMEOUT seconds (150).
xsegbd_fio() {
	local dev=$1 name=$2
	shift 2
	timeout -s KILL "${XSEGBD_FIO_TIMEOUT:-150}" fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
		--allow_file_create=0 --verify_state_save=0 \
		--bs=4k --size=16M --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--group_reporting --minimal "$@" > "$XSEGBD_STORE/fio-$name.out" 2>&1
	local rc=$?
	[ $rc = 0 ] || { tail -20 "$XSEGBD_STORE/fio-$name.out"; echo "fio exit $rc"; }
	return $rc
}
