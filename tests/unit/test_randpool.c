/* test_randpool.c: the random pool behind OpenSSL's RAND_bytes: a forked child never hands out
 * its parent's bytes, concurrent callers never get the same bytes, every size is served. */
#include "unit.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/randpool.h"

#define DRAW 16

START_TEST(test_a_forked_child_does_not_hand_out_its_parents_bytes)
{
	unsigned char before[DRAW], parent[DRAW], child[DRAW];
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(randpool_install(), 0);
	ck_assert_int_eq(RAND_bytes(before, DRAW), 1); /* the pool is full from here */
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		_exit(RAND_bytes(child, DRAW) == 1 && write(fds[1], child, DRAW) == DRAW ? 0 : 1);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(RAND_bytes(parent, DRAW), 1);
	ck_assert_int_eq(read(fds[0], child, DRAW), DRAW);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(memcmp(parent, child, DRAW) != 0);
	ck_assert(memcmp(before, child, DRAW) != 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

#define THREAD_DRAWS 20000

static void *
draw_many(void *arg)
{
	unsigned char *out = arg;
	size_t i;

	for (i = 0; i < THREAD_DRAWS; i++)
		if (RAND_bytes(out + i * DRAW, DRAW) != 1)
			return NULL;
	return out;
}

static int
cmp_draw(const void *a, const void *b)
{
	return memcmp(a, b, DRAW);
}

START_TEST(test_concurrent_callers_never_get_the_same_bytes)
{
	unsigned char *all = calloc(2 * THREAD_DRAWS, DRAW);
	pthread_t t[2];
	void *rv[2];
	size_t i;

	ck_assert_ptr_nonnull(all);
	ck_assert_int_eq(randpool_install(), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, draw_many, all + i * THREAD_DRAWS * DRAW), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rv[i]), 0);
		ck_assert_ptr_nonnull(rv[i]);
	}
	qsort(all, 2 * THREAD_DRAWS, DRAW, cmp_draw);
	for (i = 1; i < 2 * THREAD_DRAWS; i++)
		if (memcmp(all + (i - 1) * DRAW, all + i * DRAW, DRAW) == 0)
			ck_abort_msg("draw %zu handed out twice", i);
	free(all);
}
END_TEST

/* Padding's few bytes, keys' tens, and a request larger than the pool itself. */
START_TEST(test_every_size_is_served_with_fresh_bytes)
{
	static const int sizes[] = { 1, 4, 19, 32, 64, 65, 255, 1024, 1025, 5000 };
	unsigned char a[5000], b[5000];
	size_t i;

	ck_assert_int_eq(randpool_install(), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int n = sizes[i];

		ck_assert_int_eq(RAND_bytes(a, n), 1);
		ck_assert_int_eq(RAND_priv_bytes(b, n), 1);
		if (n >= 4) /* 2^-32 of a false alarm */
			ck_assert_msg(memcmp(a, b, (size_t)n) != 0, "%d bytes", n);
	}
	ck_assert_int_eq(RAND_bytes(a, 0), 1);
	ck_assert_int_eq(RAND_status(), 1);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("randpool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_a_forked_child_does_not_hand_out_its_parents_bytes);
	tcase_add_test(tc, test_concurrent_callers_never_get_the_same_bytes);
	tcase_add_test(tc, test_every_size_is_served_with_fresh_bytes);
	suite_add_tcase(s, tc);
	return s;
}
