// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* User domain support for the core: libc memory, stderr logging, clocks, liveness by pid. */
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <uapi/xseg/xseg.h>
#include <xseg/domain.h>

void *xseg_dom_zalloc(size_t size)
{
	return calloc(1, size);
}

void xseg_dom_free(void *ptr)
{
	free(ptr);
}

/*
 * $XSEG_LOG: the most verbose level printed, 0 (errors) .. 3 (debug), or "none"; by default
 * errors and warnings.
 */
static int xseg_log_level(void)
{
	static int level = -2;	/* not read yet */
	int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
	const char *env;

	if (l != -2)
		return l;
	env = getenv("XSEG_LOG");
	if (env && !strcmp(env, "none"))
		l = -1;
	else if (env && *env >= '0' && *env <= '9')
		l = *env - '0';
	else
		l = XSEG_LOG_WARN;
	__atomic_store_n(&level, l, __ATOMIC_RELAXED);
	return l;
}

void xseg_dom_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > xseg_log_level())
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

u64 xseg_dom_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void xseg_dom_relax(unsigned int round)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 50000 };

	/* yield while the wait is likely short, then stop burning the CPU */
	if (round < 256)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

u64 xseg_dom_peer_tag(void)
{
	static u32 counter;
	u32 nonce;

	nonce = (u32)xseg_dom_now_ns() ^ (__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) *
					  0x9e3779b9U);
	nonce = (nonce & 0x7fffffffU) | 1;
	return ((u64)nonce << 32) | (u32)getpid();
}

int xseg_dom_peer_alive(u64 tag)
{
	pid_t pid = XSEG_TAG_PID(tag);

	/* a kernel peer leaves explicitly; userspace cannot judge it */
	if (tag & XSEG_TAG_KERNEL)
		return 1;
	if (pid <= 0)
		return 0;
	if (!kill(pid, 0) || errno == EPERM)
		return 1;
	return errno == ESRCH ? 0 : 1;
}

static pthread_mutex_t xseg_registry_mutex = PTHREAD_MUTEX_INITIALIZER;

void xseg_dom_registry_lock(void)
{
	pthread_mutex_lock(&xseg_registry_mutex);
}

void xseg_dom_registry_unlock(void)
{
	pthread_mutex_unlock(&xseg_registry_mutex);
}

const struct xseg_signal_type *const xseg_dom_types[] = {
	&xseg_futex_type,
	&xseg_sigio_type,
	&xseg_user_waitqueue_type,
	&xseg_user_callback_type,
	NULL
};
