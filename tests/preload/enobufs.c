/* enobufs.c: LD_PRELOAD shim for the integration tests. Every GW_ENOBUFS_EVERY-th (default 5)
 * data message gatewayd sends to a vendor-facing process (sendmsg with frontmsg's 10-byte
 * header and a payload of more than 4 KiB) fails with ENOBUFS, as the kernel answers when it
 * cannot allocate the message's buffer (memory pressure). The link is still sound: the send
 * is only to be retried. Never changes anything else. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static unsigned long every = 5, count;

__attribute__((constructor)) static void
enobufs_init(void)
{
	const char *e = getenv("GW_ENOBUFS_EVERY");

	real_sendmsg = (ssize_t(*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	if (e != NULL && atol(e) > 0)
		every = (unsigned long)atol(e);
}

ssize_t
sendmsg(int fd, const struct msghdr *mh, int flags)
{
	if (mh->msg_iovlen == 2 && mh->msg_iov[0].iov_len == 10 && mh->msg_iov[1].iov_len > 4096 &&
	    ++count % every == 0) {
		errno = ENOBUFS;
		return -1;
	}
	return real_sendmsg(fd, mh, flags);
}
