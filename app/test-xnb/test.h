/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A small test harness in the spirit of DPDK's app/test/test.h (which
 * Debian does not ship): suites with setup/teardown, test cases,
 * TEST_ASSERT* macros that return TEST_FAILED with a message, and
 * registration by constructor. test_xnb.c runs them and ends with the
 * line "N passed, N failed".
 *
 * A case, its setup or its suite's setup returns TEST_SKIPPED to skip
 * (the suite's setup: every case of the suite). test-xnb exits 77, the
 * code meson reads as skipped, when nothing passed and nothing failed.
 */

#ifndef XNB_TEST_H
#define XNB_TEST_H

#include <stdio.h>
#include <string.h>

#define TEST_SUCCESS 0
#define TEST_FAILED (-1)
#define TEST_SKIPPED 77

#define TEST_TRACE_FAILURE(file, line, func) \
	fprintf(stderr, "    at %s:%d %s()\n", file, line, func)

#define TEST_ASSERT(cond, msg, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "    assertion failed: " msg "\n", ##__VA_ARGS__); \
		TEST_TRACE_FAILURE(__FILE__, __LINE__, __func__); \
		return TEST_FAILED; \
	} \
} while (0)

#define TEST_ASSERT_EQUAL(a, b, msg, ...) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "    assertion failed: %s == %s (%lld != %lld): " msg "\n", \
			#a, #b, a_, b_, ##__VA_ARGS__); \
		TEST_TRACE_FAILURE(__FILE__, __LINE__, __func__); \
		return TEST_FAILED; \
	} \
} while (0)

#define TEST_ASSERT_NOT_EQUAL(a, b, msg, ...) \
	TEST_ASSERT((a) != (b), "%s != %s: " msg, #a, #b, ##__VA_ARGS__)
#define TEST_ASSERT_SUCCESS(val, msg, ...) do { \
	long long v_ = (long long)(val); \
	if (v_ != 0) { \
		fprintf(stderr, "    assertion failed: %s == 0 (got %lld): " msg "\n", \
			#val, v_, ##__VA_ARGS__); \
		TEST_TRACE_FAILURE(__FILE__, __LINE__, __func__); \
		return TEST_FAILED; \
	} \
} while (0)
#define TEST_ASSERT_FAIL(val, msg, ...) \
	TEST_ASSERT((val) != 0, "%s != 0: " msg, #val, ##__VA_ARGS__)
#define TEST_ASSERT_NULL(val, msg, ...) \
	TEST_ASSERT((val) == NULL, "%s == NULL: " msg, #val, ##__VA_ARGS__)
#define TEST_ASSERT_NOT_NULL(val, msg, ...) \
	TEST_ASSERT((val) != NULL, "%s != NULL: " msg, #val, ##__VA_ARGS__)
#define TEST_ASSERT_BUFFERS_ARE_EQUAL(a, b, len, msg, ...) \
	TEST_ASSERT(memcmp((a), (b), (len)) == 0, "buffers differ: " msg, ##__VA_ARGS__)

struct unit_test_case {
	const char *name;
	int (*setup)(void);
	void (*teardown)(void);
	int (*testcase)(void);
};

#define TEST_CASE(fn) { #fn, NULL, NULL, fn }
#define TEST_CASE_ST(setup, teardown, fn) { #fn, setup, teardown, fn }
#define TEST_CASES_END() { NULL, NULL, NULL, NULL }

struct unit_test_suite {
	const char *suite_name;
	int (*setup)(void);
	void (*teardown)(void);
	struct unit_test_case unit_test_cases[];
};

struct test_suite_entry {
	struct test_suite_entry *next;
	struct unit_test_suite *suite;
};

void test_register_suite(struct test_suite_entry *e);

/* Register a suite: it runs when test-xnb is asked for its name or "all". */
#define REGISTER_TEST_SUITE(suite) \
	static struct test_suite_entry suite ## _entry = { NULL, &(suite) }; \
	static void __attribute__((constructor)) suite ## _register(void) \
	{ \
		test_register_suite(&suite ## _entry); \
	}

#endif /* XNB_TEST_H */
