/* SPDX-License-Identifier: BSD-3-Clause */

/* The clocks the benchmark's programs read: wall, thread CPU time, TSC. */

#ifndef XNB_BENCH_CLOCK_H
#define XNB_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread: less than wall time when it was off its cpu. */
static inline uint64_t
thread_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static inline uint64_t
tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return now_ns();
#endif
}

#endif /* XNB_BENCH_CLOCK_H */
