#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench, last step: raw results -> records, Markdown report, plots.

    bench/report.py RAWDIR [--strict] [--out DIR] [--kernels "K..."]

RAWDIR (bench/results/raw/<stamp>, written by bench/run.sh) holds `meta`, `native/`
(xseg-bench and xseg-scale on the host) and one directory per VM kernel (bench/guest.sh:
ipc.json, ipc.cdf, blk/TARGET.json, status.tsv).  Writes, in DIR (default bench/results):

    <stamp>-<kernel>.json   the records: {"suite", "case", "metric", "value", "unit",
                            "kernel", "runs", "min", "max"}, value = median of the runs
    <stamp>-<kernel>.md     the report (tables, ratios, failures, plots)
    <stamp>-<kernel>/*.png  the plots (gnuplot, bench/plots/*.gp)
    latest.json, latest.md  copies of the newest

Exit status 1 when a benchmark that should have run failed, or (--strict) was unavailable.
--kernels reports on these VM kernels only (a run stopped before its last kernel); the report
says so.
"""
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

IPC_XSEG = ["xseg-futex", "xseg-sigio", "xseg-spin", "user-to-kernel-waitqueue",
            "user-to-kernel-callback", "kernel-to-user-futex", "kernel-to-user-sigio"]
IPC_BASE = ["raw-futex", "eventfd", "pipe", "unix-socket", "shm-spin"]
IPC_KERNEL = [c for c in IPC_XSEG if c.startswith("user-to-kernel") or c.startswith("kernel-")]
# measured beside the cases: futex without its adaptive spin; the kick avoided by a spin
IPC_EXTRA = ["xseg-futex-nospin", "kernel-to-user-futex-spin"]
IPC_STREAM = ["xseg-futex", "xseg-sigio"]     # streaming cases: wakes-per-req-qdN
IPC_QDS = [1, 8, 64]
BLK_XSEG = ["xsegbd-null", "xsegbd-memd", "xsegbd-filed"]
BLK_BASE = ["null_blk", "loop-tmpfs", "nbd-memory"]
BLK_JOBS = ["randread-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd1", "randwrite-4k-qd32",
            "read-128k-qd8"]
# xseg-bench's metric names -> the issue's
IPC_METRICS = {"rtt_p50": "rtt-p50-ns", "rtt_p99": "rtt-p99-ns", "pingpong_ops": "ops-per-s"}
BLK_METRICS = ["iops", "bw", "lat-p50-us", "lat-p99-us"]
FLAG_FACTOR = 2.0   # cost per unit of work this many times the first point: worse than linear
FIELDS = {"suite", "case", "metric", "value", "unit", "kernel", "runs", "min", "max"}
SUITES = {"ipc", "blk", "scale", "idc"}
# scaling points that every run must have (the ranges; the full run has more)
SCALE_EXPECTED = [("ports-1", "ops-per-s"), ("ports-256", "ops-per-s"),
                  ("peers-1", "ops-per-s"), ("peers-2", "ops-per-s"),
                  ("size-512", "ops-per-s"), ("size-512", "mib-per-s"),
                  ("size-1048576", "ops-per-s"), ("size-1048576", "mib-per-s"),
                  ("segment-64m", "ops-per-s"), ("segment-64m", "create-ms"),
                  ("segment-64m", "join-ms"), ("segment-1024m", "ops-per-s"),
                  ("segment-1024m", "create-ms"), ("segment-1024m", "join-ms"),
                  ("memory", "bytes-per-port-r256"), ("memory", "bytes-per-request-p256"),
                  ("memory", "bytes-per-sd")]


def schema_problems(records):
    """what in the records breaks the issue's schema (fields, types, min <= value <= max)"""
    bad = []
    for r in records:
        what = "record %s/%s/%s" % (r.get("suite"), r.get("case"), r.get("metric"))
        if set(r) != FIELDS:
            bad.append("%s: fields %s" % (what, sorted(r)))
            continue
        if r["suite"] not in SUITES:
            bad.append("%s: suite not one of %s" % (what, sorted(SUITES)))
        for f in ("case", "metric", "unit", "kernel"):
            if not isinstance(r[f], str) or not r[f]:
                bad.append("%s: %s is not a name" % (what, f))
        nums = [r[f] for f in ("value", "min", "max")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and
                   math.isfinite(v) for v in nums):
            bad.append("%s: value/min/max not finite numbers: %s" % (what, nums))
        elif not r["min"] <= r["value"] <= r["max"]:
            bad.append("%s: not min <= value <= max: %s" % (what, nums))
        if not isinstance(r["runs"], int) or isinstance(r["runs"], bool) or r["runs"] < 1:
            bad.append("%s: runs %r" % (what, r["runs"]))
    return bad


def stat(values):
    """median, min, max, n of a list of numbers"""
    return statistics.median(values), min(values), max(values), len(values)


class Run:
    def __init__(self, raw, out, kernels=None):
        self.raw = raw
        self.out = out
        self.meta = {}
        for line in open(os.path.join(raw, "meta")):
            k, _, v = line.rstrip("\n").partition("=")
            self.meta[k] = v
        self.kernels = self.meta["kernels"].split()
        self.dropped = []
        if kernels is not None:
            self.dropped = [k for k in self.kernels if k not in kernels.split()]
            self.kernels = [k for k in self.kernels if k in kernels.split()]
        self.host = self.meta["host_kernel"]
        self.quick = self.meta.get("quick") == "1"
        self.records = []
        self.status = []        # (where, suite, case, state, message)
        self.blk_runs = {}      # (kernel, target, metric) -> [per-run values]
        name = "%s-%s" % (self.meta["stamp"], "_".join(self.kernels))
        self.name = name
        self.plotdir = os.path.join(out, name)

    # ---- records ----
    def add(self, suite, case, metric, value, unit, kernel, runs=1, lo=None, hi=None):
        self.records.append({"suite": suite, "case": case, "metric": metric,
                             "value": round(value, 4), "unit": unit, "kernel": kernel,
                             "runs": runs, "min": round(value if lo is None else lo, 4),
                             "max": round(value if hi is None else hi, 4)})

    def get(self, suite, case, metric, kernel):
        for r in self.records:
            if (r["suite"], r["case"], r["metric"], r["kernel"]) == (suite, case, metric, kernel):
                return r
        return None

    def val(self, suite, case, metric, kernel):
        r = self.get(suite, case, metric, kernel)
        return None if r is None else r["value"]

    def load_status(self, where):
        p = os.path.join(self.raw, where, "status.tsv")
        if not os.path.exists(p):
            self.status.append((where, "vm", where, "failed",
                                "no status.tsv: the run did not start"))
            return
        for line in open(p):
            f = line.rstrip("\n").split("\t")
            if len(f) >= 3:
                self.status.append((where, f[0], f[1], f[2], f[3] if len(f) > 3 else ""))

    def load_json_records(self, path, kernel, suite):
        if not os.path.exists(path):
            return
        try:
            recs = json.load(open(path))
        except ValueError as e:
            self.status.append((kernel, suite, os.path.basename(path), "failed",
                                "unreadable JSON: %s" % e))
            return
        for r in recs:
            m = r["metric"]
            if suite == "ipc":
                if m in IPC_METRICS:
                    m = IPC_METRICS[m]
                elif m.startswith("ops_qd"):
                    m = "ops-per-s-" + m[4:]
                else:
                    m = m.replace("_", "-")
            self.add(r.get("suite", suite), r["case"], m, r["value"], r["unit"],
                     r.get("kernel", kernel), r["runs"], r["min"], r["max"])

    def load_blk(self, kernel):
        per_target = {}
        for path in sorted(glob.glob(os.path.join(self.raw, kernel, "blk", "*.json"))):
            try:
                jobs = json.load(open(path))["jobs"]
            except (ValueError, KeyError) as e:
                self.status.append((kernel, "blk", os.path.basename(path), "failed",
                                    "fio JSON: %s" % e))
                continue
            for j in jobs:
                # job names: TARGET:JOB.rRUN (several targets in one fio process)
                target, _, job = j["jobname"].rpartition(":")
                job = job.rsplit(".r", 1)[0]
                per = per_target.setdefault(target, {})
                if j.get("error"):
                    self.status.append((kernel, "blk", target, "failed", "fio job %s: error %s"
                                        % (j["jobname"], j["error"])))
                    continue
                side = j["write"] if "write" in job else j["read"]
                pct = side["clat_ns"].get("percentile", {})
                vals = {"iops": (side["iops"], "IOPS"),
                        "bw": (side["bw_bytes"] / 2**20, "MiB/s"),
                        "lat-p50-us": (pct.get("50.000000", 0) / 1000, "us"),
                        "lat-p99-us": (pct.get("99.000000", 0) / 1000, "us")}
                for m, (v, unit) in vals.items():
                    per.setdefault((job + "-" + m, unit), []).append(v)
        for target, per in sorted(per_target.items()):
            for (metric, unit), vs in sorted(per.items()):
                self.blk_runs[(kernel, target, metric)] = vs
                med, lo, hi, n = stat(vs)
                self.add("blk", target, metric, med, unit, kernel, n, lo, hi)

    def blk_ratio(self, kernel, a, b, metric):
        """median over runs of the per-run ratio a/b (run i with run i): (med, min, max, n)"""
        ra = self.blk_runs.get((kernel, a, metric))
        rb = self.blk_runs.get((kernel, b, metric))
        if not ra or not rb:
            return None
        rs = [x / y for x, y in zip(ra, rb) if y]
        return stat(rs) if rs else None

    def load(self):
        self.load_status("native")
        self.load_json_records(os.path.join(self.raw, "native", "ipc.json"), self.host, "ipc")
        self.load_json_records(os.path.join(self.raw, "native", "scale.json"), self.host,
                               "scale")
        self.load_json_records(os.path.join(self.raw, "native", "idc.json"), self.host, "idc")
        for k in self.kernels:
            self.load_status(k)
            self.load_json_records(os.path.join(self.raw, k, "ipc.json"), k, "ipc")
            self.load_blk(k)
        # ratio records (pairs from this one session)
        for k in self.kernels:
            for x in BLK_XSEG:
                for b in ("null_blk", "nbd-memory", "loop-tmpfs"):
                    for job in BLK_JOBS:
                        r = self.blk_ratio(k, x, b, job + "-iops")
                        if r:
                            self.add("blk", "%s/%s" % (x, b), job + "-iops-ratio", r[0],
                                     "ratio", k, r[3], r[1], r[2])
        for k in [self.host] + self.kernels:
            for base in ("raw-futex", "unix-socket"):
                a = self.val("ipc", "xseg-futex", "rtt-p50-ns", k)
                b = self.val("ipc", base, "rtt-p50-ns", k)
                if a and b:
                    self.add("ipc", "xseg-futex/" + base, "rtt-p50-ratio", a / b, "ratio", k)

    # ---- checks ----
    def problems(self, strict):
        bad = []
        for where, suite, case, state, msg in self.status:
            if state == "failed" or (strict and state == "unavailable"):
                bad.append("%s %s %s: %s %s" % (where, suite, case, state, msg))
            if state == "ok" and suite == "blk" and not self.get("blk", case,
                                                                  "randread-4k-qd1-iops", where):
                bad.append("%s blk %s: reported ok but no fio results" % (where, case))
        seen = {(w, c) for w, _, c, _, _ in self.status}
        for k in self.kernels:
            for case in ["xseg-bench"] + BLK_BASE + BLK_XSEG:
                if (k, case) not in seen:
                    bad.append("%s %s: not run (the VM run ended before it)" % (k, case))
        if not any(r["suite"] == "ipc" and r["kernel"] == self.host for r in self.records):
            bad.append("native ipc: no records")
        if not any(r["suite"] == "scale" for r in self.records):
            bad.append("native scale: no records")
        bad += self.missing(strict)
        bad += schema_problems(self.records)
        return bad

    def blk_jobs(self, kernel):
        """the fio jobs the guest ran (bench/guest.sh writes them), the issue's at least"""
        p = os.path.join(self.raw, kernel, "blk-jobs")
        jobs = open(p).read().split() if os.path.exists(p) else []
        return jobs + [j for j in BLK_JOBS if j not in jobs]

    def expected(self, strict):
        """(suite, case, metric, kernel) of every record this run must hold; a case whose
        failure is already reported (failed, not run, or, without --strict, unavailable) is
        left out, so that one failure is one line"""
        ran = {(w, c) for w, _, c, state, _ in self.status
               if state == "ok" or (state == "unavailable" and strict)}
        exp = []
        for k in [self.host] + self.kernels:
            where = "native" if k == self.host else k
            if (where, "xseg-bench") not in ran:
                continue
            cases = IPC_BASE + [c for c in IPC_XSEG if c not in IPC_KERNEL]
            if k != self.host:
                cases += IPC_KERNEL
            for c in cases:
                exp += [("ipc", c, m, k) for m in ("rtt-p50-ns", "rtt-p99-ns", "ops-per-s")]
            for c in IPC_STREAM:
                for qd in IPC_QDS:
                    exp += [("ipc", c, "wakes-per-req-qd%d" % qd, k),
                            ("ipc", c, "ops-per-s-qd%d" % qd, k)]
        for k in self.kernels:
            for t in BLK_XSEG + BLK_BASE:
                if (k, t) not in ran:
                    continue
                exp += [("blk", t, "%s-%s" % (j, m), k) for j in self.blk_jobs(k)
                        for m in BLK_METRICS]
        if ("native", "xseg-scale") in ran:
            exp += [("scale", c, m, self.host) for c, m in SCALE_EXPECTED]
        return exp

    def missing(self, strict):
        """one line per (where, suite, case) that lacks records it should have"""
        have = {(r["suite"], r["case"], r["metric"], r["kernel"]) for r in self.records}
        lack = {}
        for suite, case, metric, k in self.expected(strict):
            if (suite, case, metric, k) not in have:
                where = "native" if k == self.host else k
                lack.setdefault((where, suite, case), []).append(metric)
        return ["%s %s %s: no record of %s" % (w, s, c, ", ".join(ms))
                for (w, s, c), ms in sorted(lack.items())]

    # ---- plots ----
    def gnuplot(self, script, out, **kw):
        args = ["gnuplot", "-e", "; ".join("%s='%s'" % (k, v) for k, v in kw.items()) +
                "; out='%s'" % out, os.path.join(HERE, "plots", script)]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(out):
            self.status.append(("report", "plot", os.path.basename(out), "failed",
                                r.stderr.strip()[-300:]))
            return None
        return os.path.relpath(out, self.out)

    def series_file(self, name, rows):
        p = os.path.join(self.plotdir, "data", name + ".dat")
        with open(p, "w") as f:
            for row in rows:
                f.write(" ".join(str(x) for x in row) + "\n")
        return p

    def plot_xy(self, out, series, **kw):
        series = [(t, rows) for t, rows in series if rows]
        if not series:
            return None
        files = [self.series_file(os.path.basename(out)[:-4] + "-" + t.replace("/", "_"), rows)
                 for t, rows in series]
        return self.gnuplot("xy.gp", out, files=" ".join(files),
                            titles=" ".join(t for t, _ in series), **kw)

    def plots(self):
        os.makedirs(os.path.join(self.plotdir, "data"), exist_ok=True)
        res = []
        for where, kernel in [("native", self.host)] + [(k, k) for k in self.kernels]:
            p = os.path.join(self.raw, where, "ipc.cdf")
            if not os.path.exists(p):
                continue
            cdf = {}
            for line in open(p):
                if line.startswith("#"):
                    continue
                c, q, ns = line.split()
                cdf.setdefault(c, []).append((float(ns), float(q)))
            known = IPC_XSEG + IPC_EXTRA + IPC_BASE
            order = [c for c in known if c in cdf] + sorted(c for c in cdf if c not in known)
            label = "native, %s" % kernel if where == "native" else "VM (TCG), %s" % kernel
            png = self.plot_xy(os.path.join(self.plotdir, "ipc-cdf-%s.png" % where),
                               [(c, cdf[c]) for c in order], logx="10",
                               xlabel="round trip (ns)", ylabel="fraction of round trips",
                               title="IPC round-trip latency CDF, " + label, style="lines",
                               logy="0")
            if png:
                res.append(("IPC latency CDF, " + label, png))
        for k in self.kernels:
            series = []
            for t in BLK_XSEG + BLK_BASE:
                rows = []
                for r in self.records:
                    if r["suite"] == "blk" and r["case"] == t and r["kernel"] == k and \
                       r["metric"].startswith("randread-4k-qd") and \
                       r["metric"].endswith("-iops"):
                        qd = int(r["metric"][len("randread-4k-qd"):-len("-iops")])
                        rows.append((qd, r["value"], r["min"], r["max"]))
                series.append((t, sorted(rows)))
            png = self.plot_xy(os.path.join(self.plotdir, "blk-iops-qd-%s.png" % k), series,
                               logx="2", xlabel="queue depth", ylabel="IOPS (4k randread)",
                               title="IOPS vs queue depth, VM (TCG) %s" % k,
                               style="yerrorlines", logy="10")
            if png:
                res.append(("IOPS vs queue depth, %s" % k, png))
        for axis, xl, yl, metric in [("ports", "port pairs", "requests/s", "ops-per-s"),
                                     ("peers", "client/server process pairs", "requests/s",
                                      "ops-per-s"),
                                     ("size", "bytes per request", "MiB/s", "mib-per-s")]:
            rows = self.scale_rows(axis, metric)
            png = self.plot_xy(os.path.join(self.plotdir, "scale-%s.png" % axis),
                               [("xseg-futex", rows)], logx="2", xlabel=xl, ylabel=yl,
                               title="%s vs %s, native %s" % (yl, xl, self.host),
                               style="yerrorlines", logy="0")
            if png:
                res.append(("Scaling: %s vs %s" % (yl, xl), png))
        return res

    def scale_rows(self, axis, metric):
        rows = []
        for r in self.records:
            if r["suite"] == "scale" and r["case"].startswith(axis + "-") and \
               r["metric"] == metric:
                x = r["case"][len(axis) + 1:].rstrip("m")
                rows.append((int(x), r["value"], r["min"], r["max"]))
        return sorted(rows)

    # ---- scaling flags ----
    def scale_flags(self):
        """(axis, x, cost ratio, text) for every point worse than linear"""
        flags = []
        for axis, metric, unit in [("ports", "ops-per-s", "request"),
                                   ("peers", "ops-per-s", "request"),
                                   ("size", "mib-per-s", "byte"),
                                   ("segment", "ops-per-s", "request")]:
            rows = self.scale_rows(axis, metric)
            best = None
            for x, v, _, _ in rows:
                cost = 1.0 / v if v else float("inf")
                if best is not None and cost > FLAG_FACTOR * best:
                    flags.append((axis, x, cost / best,
                                  "%s %s: cost per %s %.1fx the best smaller point" %
                                  (axis, x, unit, cost / best)))
                best = cost if best is None else min(best, cost)
        rows = self.scale_rows("segment", "create-ms")
        for (x0, c0, _, _), (x1, c1, _, _) in zip(rows, rows[1:]):
            if c0 > 0 and c1 / c0 > FLAG_FACTOR * x1 / x0:
                flags.append(("segment", x1, c1 / c0, "segment create time grows %.1fx from "
                              "%d to %d MiB" % (c1 / c0, x0, x1)))
        lo = self.val("scale", "memory", "bytes-per-port-r256", self.host)
        hi = self.val("scale", "memory", "bytes-per-port-r65536", self.host)
        if lo and hi and hi / lo > FLAG_FACTOR:
            flags.append(("memory", "ports x requests", hi / lo,
                          "memory per port grows with the request table (%.0f B at 256 "
                          "requests, %.0f B at 65536): the segment's tables are O(ports x "
                          "requests), each port has two rings of nr_requests slots" % (lo, hi)))
        return flags

    # ---- report ----
    def fmt(self, r, digits=0):
        if r is None:
            return "-"
        v = "{:,.{d}f}".format(r["value"], d=digits)
        if r["runs"] > 1:
            v += " ({:,.{d}f}-{:,.{d}f})".format(r["min"], r["max"], d=digits)
        return v

    def state_of(self, where, case):
        for w, suite, c, state, msg in self.status:
            if w == where and c == case:
                return state, msg
        return None, ""

    def idc_tables(self, md):
        recs = [r for r in self.records if r["suite"] == "idc"]
        if not recs:
            md.append("(not run)")
            md.append("")
            return
        md.append("Two processes, an echo service, 64-byte items; streams keep 16 in flight.")
        md.append("")
        md.append("| case | metric | value | unit |")
        md.append("| --- | --- | --- | --- |")
        for r in recs:
            md.append("| %s | %s | %s | %s |" % (r["case"], r["metric"],
                                              self.fmt(r, 0 if r["unit"] == "1/s" else 2),
                                              r["unit"]))
        md.append("")

    def ipc_tables(self, md, kernel, where):
        rf = self.val("ipc", "raw-futex", "rtt-p50-ns", kernel)
        us = self.val("ipc", "unix-socket", "rtt-p50-ns", kernel)
        md.append("| case | kind | p50 ns | p99 ns | ops/s (QD1) | p50 / raw-futex | "
                  "p50 / unix-socket |")
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        cases = IPC_XSEG + IPC_EXTRA + IPC_BASE
        extra = sorted({r["case"] for r in self.records if r["suite"] == "ipc" and
                        r["kernel"] == kernel and "/" not in r["case"]} - set(cases))
        for c in cases + extra:
            p50 = self.get("ipc", c, "rtt-p50-ns", kernel)
            kind = "baseline" if c in IPC_BASE else "xseg"
            if p50 is None:
                why = "**MISSING** (see Status)"
                if c in IPC_KERNEL + ["kernel-to-user-futex-spin"] and where == "native":
                    why = "VM only"
                md.append("| %s | %s | %s | | | | |" % (c, kind, why))
                continue
            md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                c, kind, self.fmt(p50), self.fmt(self.get("ipc", c, "rtt-p99-ns", kernel)),
                self.fmt(self.get("ipc", c, "ops-per-s", kernel)),
                "%.2f" % (p50["value"] / rf) if rf else "-",
                "%.2f" % (p50["value"] / us) if us else "-"))
        md.append("")
        rows = [r for r in self.records if r["suite"] == "ipc" and r["kernel"] == kernel and
                r["metric"].startswith("wakes-per-req-qd")]
        if rows:
            md.append("Streaming (server busy 1 us per request), wake syscalls of both sides "
                      "per request:")
            md.append("")
            md.append("| case | QD | ops/s | wakes/request |")
            md.append("| --- | ---: | ---: | ---: |")
            for r in rows:
                qd = r["metric"][len("wakes-per-req-"):]
                md.append("| %s | %s | %s | %s |" % (
                    r["case"], qd[2:], self.fmt(self.get("ipc", r["case"], "ops-per-s-" + qd,
                                                         kernel)), self.fmt(r, 4)))
            md.append("")

    def blk_tables(self, md, k):
        for job in BLK_JOBS + sorted({r["metric"][:-5] for r in self.records
                                      if r["suite"] == "blk" and r["kernel"] == k and
                                      r["metric"].endswith("-iops") and
                                      r["metric"][:-5] not in BLK_JOBS}):
            md.append("**%s** (fio, io_uring, direct)" % job)
            md.append("")
            md.append("| target | IOPS | MiB/s | p50 us | p99 us | IOPS / null_blk | "
                      "IOPS / nbd-memory | IOPS / loop-tmpfs |")
            md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for t in BLK_XSEG + BLK_BASE:
                r = self.get("blk", t, job + "-iops", k)
                if r is None:
                    state, msg = self.state_of(k, t)
                    md.append("| %s | **%s**: %s | | | | | | |" % (
                        t, (state or "not run").upper(), msg.replace("|", "/") or
                        "no result"))
                    continue
                ratios = []
                for b in ("null_blk", "nbd-memory", "loop-tmpfs"):
                    rr = self.blk_ratio(k, t, b, job + "-iops") if t != b else None
                    ratios.append("%.2f" % rr[0] if rr else "-")
                md.append("| %s | %s | %s | %s | %s | %s |" % (
                    t, self.fmt(r), self.fmt(self.get("blk", t, job + "-bw", k), 1),
                    self.fmt(self.get("blk", t, job + "-lat-p50-us", k), 1),
                    self.fmt(self.get("blk", t, job + "-lat-p99-us", k), 1),
                    " | ".join(ratios)))
            md.append("")

    def targets(self, md):
        md.append("| ratio (issue) | target | where | value |")
        md.append("| --- | --- | --- | ---: |")
        for k in [self.host] + self.kernels:
            where = "native %s" % k if k == self.host else "VM %s" % k
            for base, target in (("raw-futex", "<= 1.3"), ("unix-socket", "<= 0.5")):
                v = self.val("ipc", "xseg-futex/" + base, "rtt-p50-ratio", k)
                md.append("| xseg-futex / %s, p50 round trip (#8) | %s | %s | %s |" % (
                    base, target, where, "%.2f" % v if v is not None else "not measured"))
            v = self.val("ipc", "xseg-futex", "wakes-per-req-qd64", k)
            md.append("| wake syscalls per request, QD64, busy receiver (#8) | < 0.05 | %s | %s |"
                      % (where, "%.4f" % v if v is not None else "not measured"))
        for k in self.kernels:
            for a, b, job, target in (("xsegbd-null", "null_blk", "randread-4k-qd32", ">= 0.85"),
                                      ("xsegbd-null", "loop-tmpfs", "randread-4k-qd1", ">= 1.1"),
                                      ("xsegbd-memd", "nbd-memory", "randread-4k-qd32", ">= 4")):
                r = self.get("blk", "%s/%s" % (a, b), job + "-iops-ratio", k)
                if r is None:
                    state, msg = self.state_of(k, a)
                    v = "not measured (%s: %s)" % (a, state or "not run")
                else:
                    v = self.fmt(r, 2)
                md.append("| %s / %s, %s IOPS (#5) | %s | VM %s | %s |" % (
                    a, b, job, target, k, v))
        md.append("")

    def scale_tables(self, md):
        h = self.host
        md.append("Memory of the segment's tables (from the layout; the data heap is extra):")
        md.append("")
        md.append("| what | bytes |")
        md.append("| --- | ---: |")
        for r in self.records:
            if r["suite"] == "scale" and r["case"] == "memory":
                md.append("| %s | %s |" % (r["metric"], self.fmt(r)))
        md.append("")
        for axis, head, metric in [("ports", "port pairs", "ops-per-s"),
                                   ("peers", "process pairs", "ops-per-s"),
                                   ("size", "bytes per request", "ops-per-s"),
                                   ("segment", "segment MiB", "ops-per-s")]:
            rows = self.scale_rows(axis, metric)
            if not rows:
                continue
            extra = {"size": ["mib-per-s"], "segment": ["create-ms", "join-ms"]}.get(axis, [])
            md.append("| %s | requests/s | %s cost per unit vs first |" % (
                head, "".join("%s | " % e for e in extra)))
            md.append("| ---: | ---: | %s---: |" % ("---: | " * len(extra)))
            first = None
            for x, v, lo, hi in rows:
                case = "%s-%s%s" % (axis, x, "m" if axis == "segment" else "")
                unitv = self.val("scale", case, "mib-per-s", h) if axis == "size" else v
                cost = 1.0 / unitv if unitv else 0
                first = first or cost
                md.append("| %s | %s | %s%.2f |" % (
                    x, self.fmt(self.get("scale", case, metric, h)),
                    "".join("%s | " % self.fmt(self.get("scale", case, e, h), 2)
                            for e in extra), cost / first if first else 0))
            md.append("")
        flags = self.scale_flags()
        md.append("**Worse than linear** (cost per unit of work more than %.0fx the best "
                  "smaller point):" % FLAG_FACTOR)
        md.append("")
        for f in flags:
            md.append("- FLAG: " + f[3])
        if not flags:
            md.append("- none")
        md.append("")

    def report(self, plots, problems):
        m = self.meta
        md = ["# xseg benchmark report, %s" % m["stamp"], ""]
        md.append("Command: `make bench%s` (commit %s). %s" % (
            " QUICK=1" if self.quick else "", m.get("commit", "?"),
            "QUICK smoke run: one run per figure, short runs; do not quote." if self.quick
            else "Each figure is the median of its runs, (min-max) beside it."))
        md.append("")
        md.append("- machine: %s, %s CPUs, %s MiB, load average at start %s (the machine is "
                  "shared: figures are noisy)" % (m.get("cpu"), m.get("cpus"),
                                                  m.get("mem_mb"), m.get("loadavg")))
        md.append("- native runs: host kernel %s" % self.host)
        times = [(k[len("time_"):].replace("_", " "), v) for k, v in m.items()
                 if k.startswith("time_")]
        if times:
            md.append("- wall time of the parts, in seconds (bench/run.sh): %s" %
                      ", ".join("%s %s" % t for t in times))
        if self.dropped:
            md.append("- **not in this report**: the VM runs on %s (the run was stopped "
                      "before them)" % ", ".join(self.dropped))
        md.append("- VM runs: %s under %s, TCG (no KVM), 2 vCPUs, 4 GiB; booted without "
                  "slub_debug (tests boot with it)" % (
            ", ".join(self.kernels), m.get("qemu")))
        md.append("- **Timings under QEMU TCG are relative, not absolute**: compare figures "
                  "within one table (same run, same machine), never with numbers from real "
                  "hardware. Ratios pair figures of the same session; block ratios pair run i "
                  "with run i and take the median.")
        md.append("")
        md.append("## Status")
        md.append("")
        if problems:
            md.append("**%d benchmark(s) failed to run** (make bench exits non-zero):" %
                      len(problems))
            md.append("")
            for p in problems:
                md.append("- " + p.replace("|", "/"))
        else:
            md.append("Every benchmark that should run ran.")
        md.append("")
        unav = [s for s in self.status if s[3] == "unavailable"]
        if unav:
            md.append("Not available in this tree (recorded, not dropped; `BENCH_STRICT=1` "
                      "makes these failures):")
            md.append("")
            for where, suite, case, state, msg in unav:
                md.append("- %s %s %s: %s" % (where, suite, case, msg))
            md.append("")
        md.append("## The ratios the issues ask for")
        md.append("")
        self.targets(md)
        md.append("## IPC (xseg-bench): round trip between two processes")
        md.append("")
        md.append("Client and server processes on two CPUs. xseg-futex spins up to 20 us "
                  "before sleeping (the default), xseg-futex-nospin sleeps at once, xseg-spin "
                  "is the built-in poll type (the waiter spins on the dirty word, yielding, "
                  "then napping; no wake syscall); the kernel cells (user-to-kernel-*, "
                  "kernel-to-user-*, against the kernel test peer) run in the VM only: "
                  "kernel-to-user-* replies come 100 us late so that the client is asleep "
                  "(kernel-to-user-futex is kicked every time, kernel-to-user-futex-spin "
                  "spins through the delay). Metric names "
                  "are the issue's (xseg-bench's rtt_p50 is rtt-p50-ns, and so on).")
        md.append("")
        md.append("### Native, %s" % self.host)
        md.append("")
        self.ipc_tables(md, self.host, "native")
        for k in self.kernels:
            md.append("### VM (TCG), %s" % k)
            md.append("")
            self.ipc_tables(md, k, k)
        md.append("## Block (fio in the VM)")
        md.append("")
        md.append("Targets: xsegbd with `xseg-memd --null` (xsegbd-null), with `xseg-memd` "
                  "(xsegbd-memd), with `xseg-filed` on tmpfs (xsegbd-filed); baselines "
                  "`null_blk` (the ceiling), `loop` over a tmpfs file, `nbd` served by "
                  "`nbdkit memory` over a UNIX socket. 512 MiB each.")
        md.append("")
        for k in self.kernels:
            md.append("### %s" % k)
            md.append("")
            self.blk_tables(md, k)
        md.append("## Scaling (xseg-scale, native, futex signal type)")
        md.append("")
        self.scale_tables(md)
        md.append("## Endpoints (xseg-idc-bench, native, futex signal type)")
        md.append("")
        self.idc_tables(md)
        md.append("## Plots")
        md.append("")
        for title, png in plots:
            md.append("- [%s](%s)" % (title, png))
        md.append("")
        for title, png in plots:
            md.append("![%s](%s)" % (title, png))
            md.append("")
        return "\n".join(md)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    strict = "--strict" in sys.argv
    out = os.path.join(HERE, "results")
    kernels = None
    if "--kernels" in sys.argv:
        kernels = sys.argv[sys.argv.index("--kernels") + 1]
        args.remove(kernels)
    if "--out" in sys.argv:
        out = sys.argv[sys.argv.index("--out") + 1]
        args.remove(out)
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    run = Run(args[0], out, kernels)
    run.load()
    plots = run.plots()
    problems = run.problems(strict)
    md = run.report(plots, problems)
    base = os.path.join(out, run.name)
    with open(base + ".json", "w") as f:
        json.dump(run.records, f, indent=1)
        f.write("\n")
    with open(base + ".md", "w") as f:
        f.write(md + "\n")
    shutil.copyfile(base + ".json", os.path.join(out, "latest.json"))
    shutil.copyfile(base + ".md", os.path.join(out, "latest.md"))
    print("report: %s.md, %d records, %d plots" % (base, len(run.records), len(plots)))
    for p in problems:
        print("report: FAILED: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
