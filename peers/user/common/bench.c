// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics and JSON records of the benchmarks (bench.h).  The record format is what
 * bench/report.py and bench/selftest.sh check: keep it byte for byte.
 */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

static int bench_cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

double bench_median(struct bench_stat *s)
{
	qsort(s->v, s->n, sizeof(s->v[0]), bench_cmp_d);
	return s->n ? s->v[s->n / 2] : 0;
}

void bench_sort_u64(__u64 *v, unsigned long n)
{
	qsort(v, n, sizeof(*v), bench_cmp_u64);
}

int bench_json_open(struct bench_json *j, const char *path, const char *suite)
{
	j->f = fopen(path, "w");
	j->suite = suite;
	j->nrec = 0;
	return j->f ? 0 : -errno;
}

void bench_json_record(struct bench_json *j, const char *cas, const char *metric,
		       struct bench_stat *s, const char *unit)
{
	double m = bench_median(s);

	if (!j->f)
		return;
	fprintf(j->f, "%s\n  {\"suite\":\"%s\",\"case\":\"%s\",\"metric\":\"%s\",\"value\":%.4f,"
		"\"unit\":\"%s\",\"runs\":%u,\"min\":%.4f,\"max\":%.4f}",
		j->nrec ? "," : "[", j->suite, cas, metric, m, unit, s->n, s->v[0],
		s->v[s->n - 1]);
	j->nrec++;
}

void bench_json_close(struct bench_json *j, bool complete)
{
	if (!j->f)
		return;
	if (complete)
		fprintf(j->f, "%s\n]\n", j->nrec ? "" : "[");
	fclose(j->f);
	j->f = NULL;
}
