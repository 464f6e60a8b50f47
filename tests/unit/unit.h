/* unit.h: what every Check test file (tests/unit/test_*.c) gives the shared runner in
 * unit_main.c: its suite. */
#ifndef GW_TESTS_UNIT_H
#define GW_TESTS_UNIT_H

#include <check.h>

Suite *unit_suite(void);

/* unit_assert_zero(expr): fails the test unless expr is 0, for loops of many thousands of calls.
 * ck_assert_* sends the runner a message for every assertion that holds; 1.6 million of them
 * were 3.4 of test_recorder's 4.9 seconds, and 8 of 12.4 under ASan. This one says nothing unless
 * it fails. */
#define unit_assert_zero(expr)                                                                     \
	do {                                                                                       \
		long long unit_v_ = (long long)(expr);                                             \
		if (unit_v_ != 0)                                                                  \
			ck_abort_msg("%s is %lld, not 0", #expr, unit_v_);                         \
	} while (0)

#endif
