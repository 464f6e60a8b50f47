/* test_registry.c: the listener's side of a session link as a hostile session process sees
 * it: what it answers, and that a malformed message closes the link at once. */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gatewayd/registry.h"
#include "gatewayd/registry_msg.h"

#define FAKE_PID 4242

struct fixture {
	struct registry *reg;
	char dir[64];
	int session; /* the session process's end of the link */
};

static void
fixture_open(struct fixture *fx)
{
	int pair[2];

	strcpy(fx->dir, "/tmp/test_registry.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	ck_assert_ptr_nonnull(fx->reg = registry_new(fx->dir));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
	registry_add(fx->reg, FAKE_PID, pair[0], "0123456789abcdef0123456789abcdef");
	fx->session = pair[1];
}

static void
fixture_close(struct fixture *fx)
{
	registry_free(fx->reg);
	close(fx->session);
	rmdir(fx->dir);
}

/* One listener round over the link, as the listener's poll loop runs it. */
static void
fixture_round(struct fixture *fx)
{
	struct pollfd pfd[4];
	size_t i, n = registry_npollfds(fx->reg);

	ck_assert_uint_le(n, 4);
	registry_pollfds(fx->reg, pfd);
	for (i = 0; i < n; i++)
		pfd[i].revents = POLLIN;
	registry_handle(fx->reg, pfd, NULL, NULL, NULL);
}

/* 1 when the listener closed its end of the link (EOF), 0 while it is open. */
static int
link_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n == -1)
		ck_assert_int_eq(errno, EAGAIN);
	return n == 0;
}

static void
send_bytes(int fd, const void *data, size_t len)
{
	ck_assert_int_eq(send(fd, data, len, 0), (ssize_t)len);
}

/* Sends the messages (each a datagram) on a fresh link, runs one listener round and returns
 * 1 when the listener closed the link. */
static int
link_closed_after(const char *const *msgs, size_t n)
{
	struct fixture fx;
	size_t i;
	int closed;

	fixture_open(&fx);
	for (i = 0; i < n; i++)
		send_bytes(fx.session, msgs[i], strlen(msgs[i]));
	fixture_round(&fx);
	closed = link_closed(fx.session);
	fixture_close(&fx);
	return closed;
}

START_TEST(test_wellformed_message_keeps_the_link)
{
	const char *const msgs[] = { "{\"type\": \"end\"}" };

	ck_assert_int_eq(link_closed_after(msgs, 1), 0);
}
END_TEST

START_TEST(test_malformed_json_closes_the_link)
{
	const char *const msgs[] = { "{\"type\": \"admit\", " };

	ck_assert_int_eq(link_closed_after(msgs, 1), 1);
}
END_TEST

START_TEST(test_json_that_is_not_an_object_closes_the_link)
{
	const char *const msgs[] = { "[\"admit\"]" };

	ck_assert_int_eq(link_closed_after(msgs, 1), 1);
}
END_TEST

START_TEST(test_message_after_a_valid_one_is_still_judged)
{
	const char *const msgs[] = { "{\"type\": \"end\"}", "\x01\x02" };

	ck_assert_int_eq(link_closed_after(msgs, 2), 1);
}
END_TEST

/* The listener's answer to a session's "vendor_state" question about vendor. */
static bool
vendor_state_disabled(struct fixture *fx, const char *vendor)
{
	json_t *reply;
	int fd;
	bool disabled;

	ck_assert_int_eq(registry_msg_send(fx->session,
	                     json_pack("{s:s, s:s}", "type", "vendor_state", "vendor", vendor), -1),
	    0);
	fixture_round(fx);
	ck_assert_int_eq(registry_msg_recv(fx->session, &reply, &fd), 1);
	ck_assert_str_eq(json_string_value(json_object_get(reply, "type")), "vendor_state");
	disabled = json_is_true(json_object_get(reply, "disabled"));
	json_decref(reply);
	return disabled;
}

/* A person's target listing asks the listener: only it knows the owner's disabled list. */
START_TEST(test_vendor_state_answers_the_owners_disabled_list)
{
	struct fixture fx;
	char *error = NULL, path[128];

	fixture_open(&fx);
	ck_assert(!vendor_state_disabled(&fx, "acme"));
	ck_assert_int_eq(registry_set_vendor_disabled(fx.reg, fx.dir, "acme", true, &error), 0);
	ck_assert(vendor_state_disabled(&fx, "acme"));
	ck_assert(!vendor_state_disabled(&fx, "beta"));
	ck_assert_int_eq(link_closed(fx.session), 0);
	snprintf(path, sizeof(path), "%s/%s", fx.dir, REGISTRY_DISABLED_FILE);
	unlink(path);
	fixture_close(&fx);
}
END_TEST

START_TEST(test_large_malformed_message_closes_the_link)
{
	struct fixture fx;
	size_t len = 64 * 1024; /* past what is received on the stack: the allocated path */
	char *big = malloc(len);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	big[0] = '{'; /* never closed */
	fixture_open(&fx);
	send_bytes(fx.session, big, len);
	fixture_round(&fx);
	ck_assert_int_eq(link_closed(fx.session), 1);
	fixture_close(&fx);
	free(big);
}
END_TEST

/* The race a session process can win against the listener: a message that lands after the
 * listener's peek found the link empty and before its read. This recv() stands in for libc's in
 * this program: armed, a peek sends race_msg from the session's end once it has looked. */
static int race_fd = -1;
static char *race_msg;

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL);
	int saved = errno;

	if ((flags & MSG_PEEK) != 0 && race_msg != NULL) {
		send_bytes(race_fd, race_msg, strlen(race_msg));
		race_msg = NULL;
	}
	errno = saved;
	return n;
}

START_TEST(test_large_message_landing_after_an_empty_peek_is_read_whole)
{
	const char head[] = "{\"type\": \"vendor_state\", \"pad\": \"";
	size_t len = 16 * 1024; /* past what is received on the stack */
	char *big = malloc(len + 1);
	int pair[2], fd = -1, rc;
	json_t *msg = NULL;

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	memcpy(big, head, sizeof(head) - 1);
	memcpy(big + len - 2, "\"}", 2);
	big[len] = '\0';
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
	race_fd = pair[1];
	race_msg = big;
	/* Nothing waited when it looked; the message is then read whole by the next call. */
	rc = registry_msg_recv(pair[0], &msg, &fd);
	ck_assert_ptr_null(race_msg);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(registry_msg_recv(pair[0], &msg, &fd), 1);
	ck_assert_str_eq(json_string_value(json_object_get(msg, "type")), "vendor_state");
	ck_assert_uint_eq(
	    strlen(json_string_value(json_object_get(msg, "pad"))), len - sizeof(head) - 1);
	json_decref(msg);
	close(pair[0]);
	close(pair[1]);
	free(big);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("link");

	tcase_add_test(tc, test_wellformed_message_keeps_the_link);
	tcase_add_test(tc, test_malformed_json_closes_the_link);
	tcase_add_test(tc, test_json_that_is_not_an_object_closes_the_link);
	tcase_add_test(tc, test_message_after_a_valid_one_is_still_judged);
	tcase_add_test(tc, test_large_malformed_message_closes_the_link);
	tcase_add_test(tc, test_large_message_landing_after_an_empty_peek_is_read_whole);
	tcase_add_test(tc, test_vendor_state_answers_the_owners_disabled_list);
	suite_add_tcase(s, tc);
	return s;
}
