/* registry_msg.c: owns the links' framing (bounded JSON messages, SCM_RIGHTS), used by both sides.
 * Never blocks, keeps no state, and never hands on a malformed message or a stray descriptor. */
#include "gatewayd/registry_msg.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/* One message on a link. Most are small; an audit event carries vendor-chosen text (an exec
 * command can fill an SSH packet), so the bound is well above what a session may send. */
#define REGISTRY_MSG_MAX   (1024 * 1024)
#define REGISTRY_MSG_SMALL 4096 /* received on the stack */

void
registry_msg_prepare(int fd)
{
	int size = 2 * REGISTRY_MSG_MAX;

	/* Capped by net.core.wmem_max: a larger message then fails to send (fail closed). */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* Sends one JSON message (and optionally one fd); never blocks. Steals msg. */
int
registry_msg_send(int fd, json_t *msg, int pass_fd)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	json_decref(msg);
	if (text == NULL)
		return -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = text;
	iov.iov_len = strlen(text);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pass_fd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &pass_fd, sizeof(int));
	}
	n = iov.iov_len <= REGISTRY_MSG_MAX ? sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) : -1;
	free(text);
	return n == (ssize_t)iov.iov_len ? 0 : -1;
}

/* Receives one message: 1 with *msg (an object) and maybe *passed_fd, 0 at EOF, -1 when
 * nothing waits or on error, -2 for a malformed message (dropped, logged). */
int
registry_msg_recv(int fd, json_t **msg, int *passed_fd)
{
	char small[REGISTRY_MSG_SMALL], *buf = small;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = small, .iov_len = sizeof(small) };
	struct msghdr mh = { .msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*msg = NULL;
	*passed_fd = -1;
	/* The size first (MSG_TRUNC gives a datagram's whole length): a large one gets a buffer.
	 * Nothing waiting is the answer: a message that lands after this peek would be read
	 * into the small buffer unmeasured, truncated, and end its session as malformed. */
	n = recv(fd, small, sizeof(small), MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	if (n > (ssize_t)sizeof(small) && n <= REGISTRY_MSG_MAX) {
		buf = malloc((size_t)n);
		if (buf == NULL)
			buf = small; /* received truncated, then dropped below */
		else {
			iov.iov_base = buf;
			iov.iov_len = (size_t)n;
		}
	}
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0) {
		if (buf != small)
			free(buf);
		if (n == 0)
			return 0;
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *passed_fd == -1)
			memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (*msg = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(*msg)) {
		warn_f("malformed message on a session link dropped (%zd bytes%s%s)", n,
		    (mh.msg_flags & MSG_TRUNC) != 0 ? ", truncated" : "",
		    (mh.msg_flags & MSG_CTRUNC) != 0 ? ", control truncated" : "");
		json_decref(*msg);
		*msg = NULL;
		if (*passed_fd != -1)
			close(*passed_fd);
		*passed_fd = -1;
		if (buf != small)
			free(buf);
		return -2;
	}
	if (buf != small)
		free(buf);
	return 1;
}

const char *
registry_msg_type(json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "type"));

	return t != NULL ? t : "";
}

/* A string member of at most max-1 bytes without control characters, copied to out. */
bool
registry_msg_string(json_t *msg, const char *key, char *out, size_t max)
{
	json_t *v = json_object_get(msg, key);
	const char *s = json_string_value(v);
	size_t i;

	if (s == NULL || json_string_length(v) >= max || strlen(s) != json_string_length(v))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

/* Bytes as standard base64: JSON strings must be UTF-8, a configuration file need not be. */
json_t *
registry_msg_bytes(const void *buf, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *b64;
	json_t *v;

	if (len > REGISTRY_MSG_MAX)
		return NULL; /* could never be sent: json_pack then fails, and so the send */
	b64 = malloc(cap);
	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)b64, buf, (int)len);
	v = json_string(b64);
	free(b64);
	return v;
}

char *
registry_msg_get_bytes(json_t *msg, const char *key, size_t *len)
{
	const char *b64 = json_string_value(json_object_get(msg, key));
	size_t n, pad = 0;
	unsigned char *out;
	int got;

	if (b64 == NULL || (n = strlen(b64)) % 4 != 0)
		return NULL;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n)) < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's bytes as zeros. */
	pad = n > 0 ? (b64[n - 1] == '=') + (b64[n - 2] == '=') : 0;
	*len = (size_t)got - pad;
	out[*len] = '\0';
	return (char *)out;
}
