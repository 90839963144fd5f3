/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * test-xnb: runs the registered suites.
 *
 *   test-xnb [EAL args] -- [SUITE ...]
 *
 * Without EAL args it uses "--no-huge --no-pci -m 512 --no-shconf". No
 * suite names, or "all", runs every suite. The last line is
 * "N passed, N failed" (skipped cases add ", N skipped").
 *
 * Exit: 1 when a case failed, 77 (skipped) when none passed, else 0.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_common.h"

static struct test_suite_entry *suites;

void
test_register_suite(struct test_suite_entry *e)
{
	struct test_suite_entry **p = &suites;

	/* Keep registration order (link order) for stable output. */
	while (*p != NULL)
		p = &(*p)->next;
	e->next = NULL;
	*p = e;
}

static unsigned int passed, failed, skipped;

static void
run_suite(struct unit_test_suite *s)
{
	const struct unit_test_case *tc;
	int rc;

	printf("=== suite %s\n", s->suite_name);
	fflush(stdout);
	rc = s->setup != NULL ? s->setup() : TEST_SUCCESS;
	if (rc == TEST_SKIPPED) {
		for (tc = s->unit_test_cases; tc->name != NULL; tc++) {
			printf("  skip %s (suite setup skipped)\n", tc->name);
			skipped++;
		}
		return;
	}
	if (rc != TEST_SUCCESS) {
		for (tc = s->unit_test_cases; tc->name != NULL; tc++) {
			printf("  FAIL %s (suite setup failed)\n", tc->name);
			failed++;
		}
		return;
	}
	for (tc = s->unit_test_cases; tc->name != NULL; tc++) {
		rc = TEST_SUCCESS;
		if (tc->setup != NULL)
			rc = tc->setup();
		if (rc == TEST_SUCCESS)
			rc = tc->testcase();
		else if (rc != TEST_SKIPPED)
			printf("  (case setup failed)\n");
		if (tc->teardown != NULL)
			tc->teardown();
		if (rc == TEST_SUCCESS) {
			printf("  ok   %s\n", tc->name);
			passed++;
		} else if (rc == TEST_SKIPPED) {
			printf("  skip %s\n", tc->name);
			skipped++;
		} else {
			printf("  FAIL %s\n", tc->name);
			failed++;
		}
		fflush(stdout);
	}
	if (s->teardown != NULL)
		s->teardown();
}

static int
suite_wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc == 0)
		return 1;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "all") == 0 || strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	char *def_args[] = { argv[0], "--no-huge", "--no-pci", "-m", "512",
		"--no-shconf", "--log-level=pmd.net.xnb:debug", NULL };
	struct test_suite_entry *e;
	int ret, i, nsel;
	char **sel;

	/* No "--": our own defaults, every argument names a suite. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	if (i == argc) {
		sel = argv + 1;
		nsel = argc - 1;
		ret = rte_eal_init(RTE_DIM(def_args) - 1, def_args);
	} else {
		sel = argv + i + 1;
		nsel = argc - i - 1;
		ret = rte_eal_init(i, argv);
	}
	if (ret < 0) {
		fprintf(stderr, "test-xnb: EAL init failed\n");
		return 1;
	}
	for (i = 0; i < nsel; i++) {
		for (e = suites; e != NULL; e = e->next)
			if (strcmp(sel[i], e->suite->suite_name) == 0 ||
					strcmp(sel[i], "all") == 0)
				break;
		if (e == NULL) {
			fprintf(stderr, "test-xnb: no suite named %s; suites:", sel[i]);
			for (e = suites; e != NULL; e = e->next)
				fprintf(stderr, " %s", e->suite->suite_name);
			fprintf(stderr, "\n");
			return 1;
		}
	}
	for (e = suites; e != NULL; e = e->next)
		if (suite_wanted(e->suite->suite_name, nsel, sel))
			run_suite(e->suite);

	if (skipped != 0)
		printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	else
		printf("%u passed, %u failed\n", passed, failed);
	rte_eal_cleanup();
	if (failed != 0)
		return 1;
	/* Nothing tested: meson reports the test as skipped. */
	return passed == 0 ? TEST_SKIPPED : 0;
}
