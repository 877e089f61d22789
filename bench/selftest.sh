#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of bench/report.py on made-up raw results (no VM, a few seconds): the records have
# the issue's fields, ratios pair run i with run i, and the exit status is non-zero when a
# benchmark that should have run did not (failed, missing, or unavailable with --strict).
#
#   bench/selftest.sh        TAP on stdout, exit 0 when every case passed
set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
k=6.12.117+deb12-amd64
n=0
bad=0

ok() {
	n=$((n + 1))
	if "${@:2}" > "$tmp/out" 2>&1; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/# /' "$tmp/out"
		bad=1
	fi
}

# fio_json TARGET IOPS... : one job per value (runs 1..N of randread-4k-qd1 and -qd32)
fio_json() {
	local t=$1 r=0 v sep=""

	shift
	printf '{"jobs": ['
	for v in "$@"; do
		r=$((r + 1))
		for qd in 1 32; do
			printf '%s{"jobname": "%s:randread-4k-qd%s.r%s", "error": 0, ' \
				"$sep" "$t" "$qd" "$r"
			printf '"read": {"iops": %s, "bw_bytes": %s, "clat_ns": {"percentile": ' \
				"$v" "$((v * 4096))"
			printf '{"50.000000": 1000, "99.000000": 5000}}}, "write": {}}'
			sep=", "
		done
	done
	printf ']}\n'
}

# make_raw DIR: a complete, successful run (xsegbd unavailable)
make_raw() {
	local d=$1 t

	mkdir -p "$d/native" "$d/$k/blk"
	printf 'stamp=test\nquick=1\nkernels=%s\nhost_kernel=host\ncpu=cpu\ncpus=2\nmem_mb=1\n' "$k" \
		> "$d/meta"
	printf 'loadavg=0\ncommit=abc\nqemu=qemu\n' >> "$d/meta"
	for w in native "$k"; do
		cat > "$d/$w/ipc.json" <<'JSON'
[
  {"suite":"ipc","case":"raw-futex","metric":"rtt_p50","value":1000,"unit":"ns","runs":1,"min":1000,"max":1000},
  {"suite":"ipc","case":"unix-socket","metric":"rtt_p50","value":4000,"unit":"ns","runs":1,"min":4000,"max":4000},
  {"suite":"ipc","case":"xseg-futex","metric":"rtt_p50","value":1200,"unit":"ns","runs":1,"min":1200,"max":1200},
  {"suite":"ipc","case":"xseg-futex","metric":"wakes_per_req_qd64","value":0.01,"unit":"syscalls/request","runs":1,"min":0.01,"max":0.01}
]
JSON
		printf 'xseg-futex 0.5 1100\nxseg-futex 1.0 1300\nraw-futex 0.5 900\nraw-futex 1.0 1000\n' \
			> "$d/$w/ipc.cdf"
	done
	printf 'ipc\txseg-bench\tok\t\nscale\txseg-scale\tok\t\n' > "$d/native/status.tsv"
	printf 'idc\txseg-idc-bench\tok\t\n' >> "$d/native/status.tsv"
	cat > "$d/native/idc.json" <<'JSON'
[
  {"suite":"idc","case":"msg-stream","metric":"msgs-per-s","value":500000,"unit":"1/s","runs":1,"min":500000,"max":500000},
  {"suite":"idc","case":"txn-rtt","metric":"p99","value":2.5,"unit":"us","runs":1,"min":2.5,"max":2.5}
]
JSON
	cat > "$d/native/scale.json" <<'JSON'
[
  {"suite":"scale","case":"ports-1","metric":"ops-per-s","value":1000,"unit":"ops/s","runs":1,"min":1000,"max":1000},
  {"suite":"scale","case":"ports-16","metric":"ops-per-s","value":300,"unit":"ops/s","runs":1,"min":300,"max":300},
  {"suite":"scale","case":"memory","metric":"bytes-per-port-r256","value":4000,"unit":"bytes","runs":1,"min":4000,"max":4000},
  {"suite":"scale","case":"memory","metric":"bytes-per-port-r65536","value":1000000,"unit":"bytes","runs":1,"min":1000000,"max":1000000}
]
JSON
	printf 'ipc\txseg-bench\tok\t\n' > "$d/$k/status.tsv"
	for t in null_blk loop-tmpfs nbd-memory; do
		printf 'blk\t%s\tok\t/dev/x\n' "$t" >> "$d/$k/status.tsv"
	done
	printf 'blk\txsegbd-null\tok\t/dev/xsegbd0\n' >> "$d/$k/status.tsv"
	fio_json xsegbd-null 10 40 30 > "$d/$k/blk/xsegbd-null.json"
	for t in xsegbd-memd xsegbd-filed; do
		printf 'blk\t%s\tunavailable\txsegbd.ko not built\n' "$t" >> "$d/$k/status.tsv"
	done
	{
		printf '{"jobs": '
		python3 -c 'import json, sys
jobs = []
for f in sys.argv[1:]:
    jobs += json.load(open(f))["jobs"]
print(json.dumps(jobs) + "}")' <(fio_json null_blk 100 200 300) <(fio_json loop-tmpfs 5 6 7) \
			<(fio_json nbd-memory 1 2 3)
	} > "$d/$k/blk/baselines.json"
}

report() { python3 "$here/report.py" "$@" --out "$tmp/res"; }
has() { grep -q -- "$2" "$1"; }
rec() {
	python3 -c 'import json, sys
recs = json.load(open(sys.argv[1]))
keys = {"suite", "case", "metric", "value", "unit", "kernel", "runs", "min", "max"}
assert all(set(r) == keys for r in recs), "record fields"
m = [r for r in recs if (r["suite"], r["case"], r["metric"], r["kernel"]) ==
     tuple(sys.argv[2:6])]
assert m, "no record %s" % sys.argv[2:6]
assert abs(m[0]["value"] - float(sys.argv[6])) < 1e-3, "value %s" % m[0]["value"]' "$@"
}

mkdir -p "$tmp/res"
make_raw "$tmp/good"
ok "a complete run reports success" report "$tmp/good"
ok "latest.json and latest.md are written" test -s "$tmp/res/latest.json" -a -s "$tmp/res/latest.md"
ok "records carry exactly the issue's fields; median of 3 runs" \
	rec "$tmp/res/latest.json" blk null_blk randread-4k-qd1-iops "$k" 200
ok "metric names follow the issue (rtt-p50-ns)" \
	rec "$tmp/res/latest.json" ipc xseg-futex rtt-p50-ns host 1200
ok "wakes-per-req-qd64 is renamed too" \
	rec "$tmp/res/latest.json" ipc xseg-futex wakes-per-req-qd64 "$k" 0.01
# run by run 10/100, 40/200, 30/300: the median of the ratios is 0.1, not 30/200 = 0.15
ok "block ratios pair run i with run i" \
	rec "$tmp/res/latest.json" blk "xsegbd-null/null_blk" randread-4k-qd1-iops-ratio "$k" 0.1
ok "the report names the unavailable xsegbd rows" has "$tmp/res/latest.md" "UNAVAILABLE"
ok "the report states that TCG timings are relative" has "$tmp/res/latest.md" \
	"relative, not absolute"
ok "ports-16 (cost 3.3x) is flagged worse than linear" has "$tmp/res/latest.md" "FLAG: ports 16"
ok "memory per port growing with requests is flagged" has "$tmp/res/latest.md" \
	"FLAG: memory per port"
ok "the endpoint figures are recorded (suite idc)" \
	rec "$tmp/res/latest.json" idc txn-rtt p99 host 2.5
ok "... and reported" has "$tmp/res/latest.md" "msg-stream | msgs-per-s | 500,000"
ok "plots are rendered" test -s "$tmp/res/test-$k/ipc-cdf-native.png"

cp -r "$tmp/good" "$tmp/strict"
ok "--strict: unavailable benchmarks fail the run" sh -c "! python3 '$here/report.py' \
	'$tmp/strict' --strict --out '$tmp/res'"

cp -r "$tmp/good" "$tmp/failed"
sed -i 's/^blk\tnbd-memory\tok.*/blk\tnbd-memory\tfailed\tsetup: nbd-client: error/' \
	"$tmp/failed/$k/status.tsv"
ok "a failed baseline fails the run" sh -c "! python3 '$here/report.py' '$tmp/failed' \
	--out '$tmp/res'"
ok "... and the report says why" has "$tmp/res/latest.md" "nbd-client: error"

cp -r "$tmp/good" "$tmp/cut"
sed -i '/xsegbd-filed/d' "$tmp/cut/$k/status.tsv"
ok "a benchmark never attempted (VM died) fails the run" sh -c "! python3 \
	'$here/report.py' '$tmp/cut' --out '$tmp/res'"

cp -r "$tmp/good" "$tmp/noscale"
rm "$tmp/noscale/native/scale.json"
ok "no scaling records fails the run" sh -c "! python3 '$here/report.py' '$tmp/noscale' \
	--out '$tmp/res'"

echo "1..$n"
exit $bad
