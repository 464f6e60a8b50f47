/* pam.c: keyboard-interactive through PAM, service "gatewayd", PAM user = person id. As in
 * OpenSSH's auth-pam.c the PAM stack runs in a child process, so a slow or crashing module
 * never holds the session's state; its conversation is relayed prompt by prompt over a
 * socketpair. Never logs, keeps or echoes a response; the caller logs the precise result.
 * Names are gwpam_* because libpam owns the pam_* namespace. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <poll.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/wire.h"
#include "common/xmalloc.h"

#define GWPAM_SERVICE "gatewayd"
#define GWPAM_MSG_MAX 65536 /* one message on the socketpair (a datagram) */

struct gwpam {
	pid_t pid;
	int fd;
	int timeout_ms;
};

/* A message under construction (out, SSH wire encoding) or being read (in, over data): bounded
 * both ways. out is allocated once at its bound, so a secret is never left behind by a
 * reallocation; both are wiped once used. */
struct gwpam_buf {
	struct wbuf out;
	unsigned char data[GWPAM_MSG_MAX];
	struct wire in;
	bool bad;
};

static struct gwpam_buf *
buf_new(void)
{
	struct gwpam_buf *b = xcalloc(1, sizeof(*b));

	b->out.p = xmalloc(GWPAM_MSG_MAX);
	b->out.cap = GWPAM_MSG_MAX;
	return b;
}

static void
buf_free(struct gwpam_buf *b)
{
	explicit_bzero(b->out.p, b->out.cap);
	explicit_bzero(b->data, sizeof(b->data));
	wbuf_free(&b->out);
	free(b);
}

static void
buf_put_u8(struct gwpam_buf *b, unsigned v)
{
	if (b->bad || b->out.len + 1 > GWPAM_MSG_MAX) {
		b->bad = true;
		return;
	}
	wbuf_u8(&b->out, (uint8_t)v);
}

/* A string; longer text is cut to GWPAM_TEXT_MAX. */
static void
buf_put_text(struct gwpam_buf *b, const char *s)
{
	size_t n = s ? strnlen(s, GWPAM_TEXT_MAX) : 0;

	if (b->bad || b->out.len + 4 + n > GWPAM_MSG_MAX) {
		b->bad = true;
		return;
	}
	wbuf_string(&b->out, s, n);
}

static unsigned
buf_get_u8(struct gwpam_buf *b)
{
	uint8_t v;

	if (b->bad || wire_u8(&b->in, &v) != 0) {
		b->bad = true;
		return 0;
	}
	return v;
}

/* A NUL-terminated copy (caller frees), NULL when malformed. */
static char *
buf_get_text(struct gwpam_buf *b)
{
	const unsigned char *s;
	size_t n;

	if (b->bad || wire_string(&b->in, &s, &n) != 0 || n > GWPAM_TEXT_MAX ||
	    memchr(s, '\0', n) != NULL) {
		b->bad = true;
		return NULL;
	}
	return xstrndup((const char *)s, n);
}

static int
buf_send(int fd, struct gwpam_buf *b)
{
	ssize_t n;

	if (b->bad) {
		explicit_bzero(b->out.p, b->out.len);
		return -1;
	}
	do
		n = send(fd, b->out.p, b->out.len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	explicit_bzero(b->out.p, b->out.len);
	n = n == (ssize_t)b->out.len ? 0 : -1;
	b->out.len = 0;
	return (int)n;
}

/* Waits at most timeout_ms (-1: forever) for one message. */
static int
buf_recv(int fd, struct gwpam_buf *b, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	b->in.left = 0;
	b->bad = false;
	do
		r = poll(&p, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r != 1)
		return -1;
	if ((n = recv(fd, b->data, sizeof(b->data), 0)) <= 0)
		return -1;
	b->in.p = b->data;
	b->in.left = (size_t)n;
	return 0;
}

/* ---- the child: runs the PAM stack ------------------------------------------------------ */

struct gwpam_child {
	int fd;
	char info[GWPAM_TEXT_MAX]; /* PAM_TEXT_INFO / PAM_ERROR_MSG waiting for the next prompt */
};

static void
child_add_info(struct gwpam_child *c, const char *text)
{
	size_t used = strlen(c->info);

	if (text != NULL && used < sizeof(c->info) - 1)
		snprintf(c->info + used, sizeof(c->info) - used, "%s%s", used ? "\n" : "", text);
}

/* The PAM conversation: prompts go to the parent (and the vendor), answers come back. */
static int
child_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct gwpam_child *c = data;
	struct pam_response *r;
	struct gwpam_buf *b;
	int i, nprompts = 0;
	char *answer;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			nprompts++;
		else
			child_add_info(c, msg[i]->msg);
	if (nprompts > GWPAM_PROMPTS_MAX)
		return PAM_CONV_ERR;
	r = xcalloc((size_t)n, sizeof(*r));
	if (nprompts == 0) {
		*resp = r;
		return PAM_SUCCESS;
	}
	b = buf_new();
	buf_put_u8(b, 'P');
	buf_put_u8(b, (unsigned)nprompts);
	buf_put_text(b, c->info);
	c->info[0] = '\0';
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			buf_put_u8(b, msg[i]->msg_style == PAM_PROMPT_ECHO_ON);
			buf_put_text(b, msg[i]->msg);
		}
	if (buf_send(c->fd, b) != 0 || buf_recv(c->fd, b, -1) != 0 || buf_get_u8(b) != 'A' ||
	    buf_get_u8(b) != (unsigned)nprompts)
		goto fail;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if ((answer = buf_get_text(b)) == NULL)
			goto fail;
		r[i].resp = answer;
	}
	buf_free(b);
	*resp = r;
	return PAM_SUCCESS;
fail:
	buf_free(b);
	for (i = 0; i < n; i++)
		if (r[i].resp != NULL)
			freezero(r[i].resp, strlen(r[i].resp));
	free(r);
	return PAM_CONV_ERR;
}

static void __attribute__((noreturn))
child_run(int fd, const char *user, const char *rhost, int timeout_s)
{
	struct gwpam_child c = { .fd = fd };
	struct pam_conv conv = { child_conv, &c };
	struct gwpam_buf *b = buf_new();
	pam_handle_t *h = NULL;
	const char *stage = "pam_start";
	char result[GWPAM_TEXT_MAX];
	sigset_t none;
	int rc;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	alarm((unsigned)timeout_s); /* a module that hangs ends here, not in the session */
	rc = pam_start(GWPAM_SERVICE, user, &conv, &h);
	if (rc == PAM_SUCCESS) {
		pam_set_item(h, PAM_RHOST, rhost);
		stage = "pam_authenticate";
		rc = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
	}
	if (rc == PAM_SUCCESS) {
		stage = "pam_acct_mgmt";
		rc = pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
	}
	if (rc == PAM_SUCCESS)
		snprintf(result, sizeof(result), "PAM service %s: success", GWPAM_SERVICE);
	else
		snprintf(result, sizeof(result), "PAM service %s: %s: %s", GWPAM_SERVICE, stage,
		    pam_strerror(h, rc));
	if (h != NULL)
		pam_end(h, rc);
	buf_put_u8(b, rc == PAM_SUCCESS ? 'S' : 'F');
	buf_put_text(b, result);
	buf_send(fd, b);
	_exit(0);
}

/* ---- the parent: the session process ---------------------------------------------------- */

struct gwpam *
gwpam_start(const char *user, const char *rhost, int timeout_s, char *err, size_t errlen)
{
	struct gwpam *p;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		child_run(sv[1], user, rhost, timeout_s);
	}
	close(sv[1]);
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->fd = sv[0];
	p->timeout_ms = timeout_s * 1000;
	return p;
}

void
gwpam_step_clear(struct gwpam_step *st)
{
	size_t i;

	free(st->instruction);
	for (i = 0; i < st->nprompts; i++)
		free(st->prompts[i]);
	memset(st, 0, sizeof(*st));
}

int
gwpam_next(struct gwpam *p, struct gwpam_step *st)
{
	struct gwpam_buf *b = buf_new();
	unsigned kind;
	size_t i;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (buf_recv(p->fd, b, p->timeout_ms) != 0) {
		snprintf(st->detail, sizeof(st->detail),
		    "PAM service %s: no answer from the PAM "
		    "process (timeout or crash)",
		    GWPAM_SERVICE);
		goto out;
	}
	switch ((kind = buf_get_u8(b))) {
	case 'S':
	case 'F': {
		char *text = buf_get_text(b);

		st->kind = kind == 'S' ? GWPAM_SUCCESS : GWPAM_FAILURE;
		snprintf(
		    st->detail, sizeof(st->detail), "%s", text ? text : "PAM result unreadable");
		free(text);
		rc = b->bad ? -1 : 0;
		break;
	}
	case 'P':
		st->kind = GWPAM_PROMPTS;
		st->nprompts = buf_get_u8(b);
		if (st->nprompts == 0 || st->nprompts > GWPAM_PROMPTS_MAX) {
			st->nprompts = 0;
			break;
		}
		st->instruction = buf_get_text(b);
		for (i = 0; i < st->nprompts; i++) {
			st->echo[i] = buf_get_u8(b) != 0;
			st->prompts[i] = buf_get_text(b);
		}
		rc = b->bad ? -1 : 0;
		break;
	}
	if (rc != 0) {
		gwpam_step_clear(st);
		snprintf(st->detail, sizeof(st->detail),
		    "PAM service %s: malformed message from the "
		    "PAM process",
		    GWPAM_SERVICE);
	}
out:
	buf_free(b);
	return rc;
}

int
gwpam_answer(struct gwpam *p, const char *const *answers, size_t n)
{
	struct gwpam_buf *b = buf_new();
	size_t i;
	int rc;

	buf_put_u8(b, 'A');
	buf_put_u8(b, (unsigned)n);
	for (i = 0; i < n; i++)
		buf_put_text(b, answers[i]);
	rc = buf_send(p->fd, b); /* wipes what it sent */
	buf_free(b);
	return rc;
}

void
gwpam_free(struct gwpam *p)
{
	if (p == NULL)
		return;
	close(p->fd);
	kill(p->pid, SIGTERM); /* harmless when it already exited; ends an abandoned conversation */
	while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
		;
	free(p);
}
