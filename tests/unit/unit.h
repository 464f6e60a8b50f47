/* unit.h: what every Check test file (tests/unit/test_*.c) gives the shared runner in
 * unit_main.c: its suite. */
#ifndef GW_TESTS_UNIT_H
#define GW_TESTS_UNIT_H

#include <check.h>

Suite *unit_suite(void);

#endif
