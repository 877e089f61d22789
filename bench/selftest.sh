#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of bench/report.py on made-up raw results (no VM, a few seconds): the records have
# exactly the issue's schema and stable case names, ratios pair run i with run i, and the
# exit status is non-zero when a benchmark that should have run did not (failed, missing,
# unavailable with --strict) or left out a record it should have written.
#
#   bench/selftest.sh        TAP on stdout, exit 0 when every case passed (KEEP=1: keep
#                            the made-up results and reports in the temporary directory)
set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
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

# The raw results of a complete, successful QUICK run, as bench/run.sh and bench/guest.sh
# write them: make_raw DIR [UNAVAILABLE-TARGET...]
cat > "$tmp/make_raw.py" <<'PY'
import json, os, sys

d, k, unavailable = sys.argv[1], sys.argv[2], sys.argv[3:]
jobs = ["randread-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd1", "randwrite-4k-qd32",
        "read-128k-qd8"]
# IOPS of runs 1..3, the same for every job; run by run, xsegbd-null / null_blk is 0.1, 0.2,
# 0.1: the median of the ratios is 0.1 where the ratio of the medians would be 0.15
iops = {"xsegbd-null": [10, 40, 30], "xsegbd-memd": [20, 20, 20], "xsegbd-filed": [8, 9, 10],
        "null_blk": [100, 200, 300], "loop-tmpfs": [5, 6, 7], "nbd-memory": [1, 2, 3]}


def rec(case, metric, value, unit):
    return {"suite": "ipc", "case": case, "metric": metric, "value": value, "unit": unit,
            "runs": 1, "min": value, "max": value}


def ipc(vm):
    p50 = {"raw-futex": 1000, "unix-socket": 4000, "xseg-futex": 1200}
    cases = ["shm-spin", "raw-futex", "eventfd", "pipe", "unix-socket", "xseg-futex",
             "xseg-futex-nospin", "xseg-sigio", "xseg-spin"]
    r = []
    for c in cases:
        r += [rec(c, "rtt_p50", p50.get(c, 2000), "ns"), rec(c, "rtt_p99", 9000, "ns"),
              rec(c, "pingpong_ops", 1e5, "ops/s")]
    for c in ["xseg-futex", "xseg-futex-nospin", "xseg-sigio"]:
        for qd in (1, 8, 64):
            r += [rec(c, "ops_qd%d" % qd, 1e5, "ops/s"),
                  rec(c, "wakes_per_req_qd%d" % qd, 0.01 if c == "xseg-futex" else 0.5,
                      "syscalls/request")]
    if vm:
        for c in ["user-to-kernel-waitqueue", "user-to-kernel-callback", "kernel-to-user-futex",
                  "kernel-to-user-futex-spin", "kernel-to-user-sigio"]:
            r += [rec(c, "rtt_p50", 3000, "ns"), rec(c, "rtt_p99", 9000, "ns"),
                  rec(c, "pingpong_ops", 1e4, "ops/s"),
                  rec(c, "kernel_signals_per_req", 1, "signals/request")]
    return r


def fio(targets):
    out = []
    for run, _ in enumerate(iops["null_blk"]):
        for job in jobs:
            side = {"iops": 0, "bw_bytes": 0, "clat_ns": {}}
            for t in targets:
                v = iops[t][run]
                io = {"iops": v, "bw_bytes": v * 4096,
                      "clat_ns": {"percentile": {"50.000000": 1000, "99.000000": 5000}}}
                rw = "write" if "write" in job else "read"
                out.append({"jobname": "%s:%s.r%d" % (t, job, run + 1), "error": 0,
                            rw: io, "write" if rw == "read" else "read": side})
    return {"jobs": out}


os.makedirs(os.path.join(d, "native"))
os.makedirs(os.path.join(d, k, "blk"))
with open(os.path.join(d, "meta"), "w") as f:
    f.write("stamp=test\nquick=1\nkernels=%s\nhost_kernel=host\ncpu=cpu\ncpus=2\nmem_mb=1\n"
            "loadavg=0\ncommit=abc\nqemu=qemu\ntime_native_ipc=1\n" % k)
for w in ("native", k):
    json.dump(ipc(w != "native"), open(os.path.join(d, w, "ipc.json"), "w"))
    with open(os.path.join(d, w, "ipc.cdf"), "w") as f:
        f.write("xseg-futex 0.5 1100\nxseg-futex 1.0 1300\nraw-futex 0.5 900\n"
                "raw-futex 1.0 1000\n")
scale = [("ports-1", "ops-per-s", 1000), ("ports-16", "ops-per-s", 300),
         ("ports-256", "ops-per-s", 900), ("peers-1", "ops-per-s", 1000),
         ("peers-2", "ops-per-s", 1900), ("size-512", "ops-per-s", 1000),
         ("size-512", "mib-per-s", 0.5), ("size-1048576", "ops-per-s", 100),
         ("size-1048576", "mib-per-s", 100), ("segment-64m", "ops-per-s", 1000),
         ("segment-64m", "create-ms", 1), ("segment-64m", "join-ms", 1),
         ("segment-1024m", "ops-per-s", 1000), ("segment-1024m", "create-ms", 2),
         ("segment-1024m", "join-ms", 1), ("memory", "bytes-per-port-r256", 4000),
         ("memory", "bytes-per-port-r65536", 1000000),
         ("memory", "bytes-per-request-p256", 4000), ("memory", "bytes-per-sd", 190)]
json.dump([{"suite": "scale", "case": c, "metric": m, "value": v, "unit": "u", "runs": 1,
            "min": v, "max": v} for c, m, v in scale],
          open(os.path.join(d, "native", "scale.json"), "w"))
with open(os.path.join(d, "native", "status.tsv"), "w") as f:
    f.write("ipc\txseg-bench\tok\t\nscale\txseg-scale\tok\t\nidc\txseg-idc-bench\tok\t\n")
json.dump([{"suite": "idc", "case": "msg-stream", "metric": "msgs-per-s", "value": 500000,
            "unit": "1/s", "runs": 1, "min": 500000, "max": 500000},
           {"suite": "idc", "case": "txn-rtt", "metric": "p99", "value": 2.5, "unit": "us",
            "runs": 1, "min": 2.5, "max": 2.5}],
          open(os.path.join(d, "native", "idc.json"), "w"))
with open(os.path.join(d, k, "blk-jobs"), "w") as f:
    f.write("\n".join(jobs) + "\n")
with open(os.path.join(d, k, "status.tsv"), "w") as f:
    f.write("ipc\txseg-bench\tok\t\n")
    for t in iops:
        if t in unavailable:
            f.write("blk\t%s\tunavailable\txsegbd.ko not built\n" % t)
        else:
            f.write("blk\t%s\tok\t/dev/x\n" % t)
json.dump(fio(["null_blk", "loop-tmpfs", "nbd-memory"]),
          open(os.path.join(d, k, "blk", "baselines.json"), "w"))
json.dump(fio([t for t in ["xsegbd-null", "xsegbd-memd", "xsegbd-filed"]
               if t not in unavailable]), open(os.path.join(d, k, "blk", "xsegbd.json"), "w"))
PY
make_raw() { python3 "$tmp/make_raw.py" "$1" "$k" "${@:2}"; }

report() { python3 "$here/report.py" "$@" --out "$tmp/res"; }
fails() { ! python3 "$here/report.py" "$@" --out "$tmp/res"; }
has() { grep -q -- "$2" "$1"; }
rec() {
	python3 -c 'import json, sys
recs = json.load(open(sys.argv[1]))
m = [r for r in recs if (r["suite"], r["case"], r["metric"], r["kernel"]) ==
     tuple(sys.argv[2:6])]
assert m, "no record %s" % sys.argv[2:6]
assert abs(m[0]["value"] - float(sys.argv[6])) < 1e-3, "value %s" % m[0]["value"]' "$@"
}

# schema FILE: every record is exactly {"suite", "case", "metric", "value", "unit", "kernel",
# "runs", "min", "max"} with the issue's types, and min <= value <= max
schema() {
	python3 -c 'import json, math, sys
recs = json.load(open(sys.argv[1]))
assert isinstance(recs, list) and recs, "not a list of records"
keys = {"suite", "case", "metric", "value", "unit", "kernel", "runs", "min", "max"}
for r in recs:
    assert set(r) == keys, "fields %s" % sorted(r)
    assert r["suite"] in ("ipc", "blk", "scale", "idc"), r
    assert all(isinstance(r[f], str) and r[f] for f in ("case", "metric", "unit", "kernel")), r
    num = [r[f] for f in ("value", "min", "max")]
    assert all(type(v) in (int, float) and math.isfinite(v) for v in num), r
    assert r["min"] <= r["value"] <= r["max"], r
    assert type(r["runs"]) is int and r["runs"] >= 1, r' "$1"
}

# names FILE: the issue stable case and metric names, each case with its metrics, on the VM
# kernel (IPC natively too, but for the kernel cells)
names() {
	python3 -c 'import json, sys
recs = json.load(open(sys.argv[1]))
k = sys.argv[2]
have = {(r["suite"], r["case"], r["metric"], r["kernel"]) for r in recs}
kern = ["user-to-kernel-waitqueue", "user-to-kernel-callback", "kernel-to-user-futex",
        "kernel-to-user-sigio"]
ipc = ["xseg-futex", "xseg-sigio", "xseg-spin", "raw-futex", "eventfd", "pipe", "unix-socket",
       "shm-spin"]
want = []
for where, cases in (("host", ipc), (k, ipc + kern)):
    want += [("ipc", c, m, where) for c in cases for m in ("rtt-p50-ns", "rtt-p99-ns",
                                                            "ops-per-s")]
    want += [("ipc", "xseg-futex", "wakes-per-req-qd%d" % q, where) for q in (1, 8, 64)]
for t in ["xsegbd-null", "xsegbd-memd", "xsegbd-filed", "null_blk", "loop-tmpfs",
          "nbd-memory"]:
    for j in ["randread-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd1",
              "randwrite-4k-qd32", "read-128k-qd8"]:
        want.append(("blk", t, j + "-iops", k))
missing = [w for w in want if w not in have]
assert not missing, "missing: %s" % missing' "$1" "$k"
}

mkdir -p "$tmp/res"
make_raw "$tmp/good"
ok "a complete run reports success" report "$tmp/good"
ok "latest.json and latest.md are written" test -s "$tmp/res/latest.json" -a -s "$tmp/res/latest.md"
ok "every record has exactly the issue's fields and types, min <= value <= max" \
	schema "$tmp/res/latest.json"
ok "every stable IPC and block case name of the issue is there with its metrics" \
	names "$tmp/res/latest.json"
ok "a figure is the median of its runs" \
	rec "$tmp/res/latest.json" blk null_blk randread-4k-qd1-iops "$k" 200
ok "metric names follow the issue (rtt-p50-ns)" \
	rec "$tmp/res/latest.json" ipc xseg-futex rtt-p50-ns host 1200
ok "wakes-per-req-qd64 is renamed too" \
	rec "$tmp/res/latest.json" ipc xseg-futex wakes-per-req-qd64 "$k" 0.01
ok "block ratios pair run i with run i" \
	rec "$tmp/res/latest.json" blk "xsegbd-null/null_blk" randread-4k-qd1-iops-ratio "$k" 0.1
ok "the IPC ratio to raw futex is recorded" \
	rec "$tmp/res/latest.json" ipc "xseg-futex/raw-futex" rtt-p50-ratio "$k" 1.2
ok "the report states that TCG timings are relative" has "$tmp/res/latest.md" \
	"relative, not absolute"
ok "the report shows each IPC baseline beside xseg (table rows)" sh -c "
	for c in raw-futex eventfd pipe unix-socket shm-spin xseg-futex xseg-spin; do
		grep -q \"^| \$c | \" '$tmp/res/latest.md' || { echo \"no row \$c\"; exit 1; }
	done"
ok "the report shows each block baseline beside xsegbd" sh -c "
	for t in null_blk loop-tmpfs nbd-memory xsegbd-null xsegbd-memd xsegbd-filed; do
		grep -q \"^| \$t | [0-9]\" '$tmp/res/latest.md' || { echo \"no row \$t\"; exit 1; }
	done"
ok "the report gives the parts' wall times" has "$tmp/res/latest.md" "native ipc 1"
ok "ports-16 (cost 3.3x) is flagged worse than linear" has "$tmp/res/latest.md" "FLAG: ports 16"
ok "memory per port growing with requests is flagged" has "$tmp/res/latest.md" \
	"FLAG: memory per port"
ok "the endpoint figures are recorded (suite idc)" \
	rec "$tmp/res/latest.json" idc txn-rtt p99 host 2.5
ok "... and reported" has "$tmp/res/latest.md" "msg-stream | msgs-per-s | 500,000"
ok "plots are rendered" test -s "$tmp/res/test-$k/ipc-cdf-native.png" \
	-a -s "$tmp/res/test-$k/blk-iops-qd-$k.png" -a -s "$tmp/res/test-$k/scale-ports.png"
ok "... and linked from the report" has "$tmp/res/latest.md" "](test-$k/blk-iops-qd-$k.png)"

make_raw "$tmp/unav" xsegbd-memd xsegbd-filed
ok "unavailable targets pass without --strict" report "$tmp/unav"
ok "... and the report names them" has "$tmp/res/latest.md" "UNAVAILABLE"
ok "--strict: unavailable benchmarks fail the run" fails "$tmp/unav" --strict

cp -r "$tmp/good" "$tmp/failed"
sed -i 's/^blk\tnbd-memory\tok.*/blk\tnbd-memory\tfailed\tsetup: nbd-client: error/' \
	"$tmp/failed/$k/status.tsv"
ok "a failed baseline fails the run" fails "$tmp/failed"
ok "... and the report says why" has "$tmp/res/latest.md" "nbd-client: error"

cp -r "$tmp/good" "$tmp/cut"
sed -i '/xsegbd-filed/d' "$tmp/cut/$k/status.tsv"
ok "a benchmark never attempted (VM died) fails the run" fails "$tmp/cut"

cp -r "$tmp/good" "$tmp/noscale"
rm "$tmp/noscale/native/scale.json"
ok "no scaling records fails the run" fails "$tmp/noscale"

cp -r "$tmp/good" "$tmp/nospin"
python3 -c 'import json, sys
p = sys.argv[1]
r = [x for x in json.load(open(p)) if (x["case"], x["metric"]) != ("xseg-spin", "rtt_p99")]
json.dump(r, open(p, "w"))' "$tmp/nospin/$k/ipc.json"
ok "one missing IPC record (xseg-spin rtt-p99-ns in the VM) fails the run" fails "$tmp/nospin"
ok "... and the report names it" has "$tmp/res/latest.md" "ipc xseg-spin: no record of rtt-p99-ns"

cp -r "$tmp/good" "$tmp/nojob"
python3 -c 'import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["jobs"] = [j for j in d["jobs"] if not j["jobname"].startswith("loop-tmpfs:randwrite-4k-qd32")]
json.dump(d, open(p, "w"))' "$tmp/nojob/$k/blk/baselines.json"
ok "a block job missing on one target fails the run" fails "$tmp/nojob"
ok "... and the report names it" has "$tmp/res/latest.md" \
	"blk loop-tmpfs: no record of randwrite-4k-qd32-iops"

cp -r "$tmp/good" "$tmp/scalecut"
python3 -c 'import json, sys
p = sys.argv[1]
json.dump([x for x in json.load(open(p)) if x["case"] != "ports-256"], open(p, "w"))' \
	"$tmp/scalecut/native/scale.json"
ok "a scaling range cut short (no ports-256) fails the run" fails "$tmp/scalecut"

cp -r "$tmp/good" "$tmp/badrec"
python3 -c 'import json, sys
p = sys.argv[1]
r = json.load(open(p))
r[0]["min"] = r[0]["value"] + 1
json.dump(r, open(p, "w"))' "$tmp/badrec/native/ipc.json"
ok "a record with min above its value fails the run" fails "$tmp/badrec"

echo "1..$n"
exit $bad
