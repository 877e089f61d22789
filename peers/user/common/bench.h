/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks (xseg-bench, xseg-scale, xseg-idc-bench) share, in libpeer.a: figures
 * over runs with their median, percentiles of round-trip samples, and the JSON records that
 * bench/report.py reads, one per line:
 *
 *   [
 *     {"suite":S,"case":C,"metric":M,"value":MEDIAN,"unit":U,"runs":N,"min":MIN,"max":MAX},
 *     ...
 *   ]
 *
 * (the numbers with four decimals; the case and metric names are the caller's, unescaped).
 */
#ifndef _XSEG_BENCH_H
#define _XSEG_BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define BENCH_MAX_RUNS	15

/* One figure of a case, a value per run. */
struct bench_stat {
	double v[BENCH_MAX_RUNS];
	unsigned int n;
};

/* Sorts s->v and returns its median (the upper one of an even count); 0 without runs. */
double bench_median(struct bench_stat *s);

/* Sorts n samples in place, for bench_pct(). */
void bench_sort_u64(__u64 *v, unsigned long n);

/* Percentile pct (0..99) of n > 0 sorted samples: v[n * pct / 100] (pct 50: v[n / 2]). */
static inline __u64 bench_pct(const __u64 *v, unsigned long n, unsigned int pct)
{
	return v[n * pct / 100];
}

/* The records of one suite; with no file open, records are dropped. */
struct bench_json {
	FILE *f;
	const char *suite;	/* "ipc", "scale", "idc" */
	unsigned int nrec;	/* records written */
};

/* Creates path; 0 or -errno (errno set, for perror()). */
int bench_json_open(struct bench_json *j, const char *path, const char *suite);

/* A record of figure s (sorted: value its median, min and max its ends); s->n > 0. */
void bench_json_record(struct bench_json *j, const char *cas, const char *metric,
		       struct bench_stat *s, const char *unit);

/* complete: ends the array (else a failed run leaves it unterminated); closes the file. */
void bench_json_close(struct bench_json *j, bool complete);

#endif /* _XSEG_BENCH_H */
