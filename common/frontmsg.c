/* frontmsg.c: owns the framing of the monitor-front link: building, sending and receiving one
 * bounded message. Keeps no state; never hands on a malformed message or a passed descriptor. */
#include "common/frontmsg.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void
frontmsg_new(struct wbuf *b, enum frontmsg_type type, uint32_t chan)
{
	memset(b, 0, sizeof(*b));
	wbuf_u8(b, (uint8_t)type);
	wbuf_u32(b, chan);
}

int
frontmsg_send(int fd, struct wbuf *b)
{
	ssize_t n;

	if (b->len > FRONTMSG_MAX) {
		wbuf_free(b);
		errno = EMSGSIZE;
		return -1;
	}
	n = send(fd, b->p, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)b->len) {
		wbuf_free(b);
		return 0;
	}
	if (n >= 0)
		errno = EIO; /* a datagram is all or nothing */
	return -1;
}

void
frontmsg_new_data(struct wbuf *b, uint32_t chan, int stream, const void *data, size_t len)
{
	frontmsg_new(b, FM_DATA, chan);
	wbuf_u8(b, (uint8_t)stream);
	wbuf_string(b, data, len);
}

int
frontmsg_send_data(int fd, uint32_t chan, int stream, const void *data, size_t len)
{
	/* u8 type, u32 chan, u8 stream, u32 length: frontmsg_new_data's bytes before the data */
	unsigned char h[10] = { FM_DATA, (unsigned char)(chan >> 24), (unsigned char)(chan >> 16),
		(unsigned char)(chan >> 8), (unsigned char)chan, (unsigned char)stream,
		(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
		(unsigned char)len };
	struct iovec iov[2] = { { .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)data, .iov_len = len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (len > FRONTMSG_DATA_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)(sizeof(h) + len))
		return 0;
	if (n >= 0)
		errno = EIO; /* a datagram is all or nothing */
	return -1;
}

bool
frontmsg_send_again(int err)
{
	return err == EAGAIN || err == EINTR || err == ENOBUFS || err == ENOMEM;
}

int
frontmsg_send_wait(int fd, struct wbuf *b, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	for (;;) {
		if (frontmsg_send(fd, b) == 0)
			return 0;
		if (!frontmsg_send_again(errno))
			break;
		if (poll(&p, 1, timeout_ms) <= 0 || (p.revents & (POLLERR | POLLHUP)) != 0)
			break;
	}
	wbuf_free(b);
	return -1;
}

static void
frontmsg_close_passed(struct cmsghdr *c)
{
	size_t i, n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	int fd;

	for (i = 0; i < n; i++) {
		memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		close(fd);
	}
}

int
frontmsg_recv(int fd, struct frontmsg *m)
{
	struct iovec iov = { .iov_base = m->buf, .iov_len = sizeof(m->buf) };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { .msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf) };
	ssize_t n;

	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	/* Descriptors are never part of this protocol: any passed is closed and the link is
	 * treated as broken. */
	if (mh.msg_controllen != 0) {
		struct cmsghdr *c;

		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				frontmsg_close_passed(c);
		return -2;
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		return -2;
	m->body.p = m->buf;
	m->body.left = (size_t)n;
	if (wire_u8(&m->body, &m->type) != 0 || wire_u32(&m->body, &m->chan) != 0 || m->type == 0 ||
	    m->type >= FM_TYPE_MAX)
		return -2;
	return 1;
}

const char *
frontmsg_type_name(uint8_t type)
{
	static const char *const names[FM_TYPE_MAX] = { "?", "init", "ready", "gone", "auth-none",
		"auth-pubkey", "kbdint-start", "kbdint-answers", "auth-result", "kbdint-prompts",
		"methods", "banner", "channel-open", "pty", "env", "shell", "exec", "subsystem",
		"window-change", "signal", "result", "data", "ack", "eof", "close", "exit-status",
		"exit-signal", "keepalive", "disconnect", "forward-open" };

	return type < FM_TYPE_MAX ? names[type] : "?";
}
