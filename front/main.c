/* main.c: gatewayd-front, exec'd by a session's monitor with the vendor's socket on fd 3 and the
 * link on fd 4: FM_INIT, the key exchange, the event loop, the exit. Owns the only state. */
#include "front/front.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/randpool.h"
#include "common/xmalloc.h"
#include "front/sandbox.h"

#define FRONT_VENDOR_FD 3
#define FRONT_LINK_FD   4
#define FRONT_INIT_MS   10000 /* how long the monitor has to send FM_INIT */
#define FRONT_LEAVE_MS  2000  /* to send what waits on the link before leaving */
#define FRONT_GRACE_MAX 86400
#define FRONT_ALGOS_MAX FRONTMSG_TEXT_MAX

long long
front_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
front_die(struct front *f, int code)
{
	if (f != NULL && f->vendor != NULL)
		ssh_disconnect(f->vendor);
	exit(code);
}

/* Tells the monitor why the vendor's connection ended. */
static void
front_send_gone(struct front *f, const char *why)
{
	struct wbuf b;

	frontmsg_new(&b, FM_GONE, 0);
	wbuf_cstring(&b, why);
	link_send(&f->link, &b);
	link_flush_wait(&f->link, FRONT_LEAVE_MS);
}

/* FM_INIT, within FRONT_INIT_MS; m holds it on return. */
static int
front_read_init(struct front *f, struct frontmsg *m)
{
	long long end = front_now_ms() + FRONT_INIT_MS, left;
	struct pollfd p = { .fd = f->link.fd, .events = POLLIN };
	uint32_t version;
	int rc;

	for (;;) {
		if ((rc = frontmsg_recv(f->link.fd, m)) == 1)
			break;
		if (rc == 0 || rc == -2) {
			error_f("no FM_INIT: the link %s", rc == 0 ? "closed" : "sent garbage");
			return -1;
		}
		if ((left = end - front_now_ms()) <= 0) {
			error_f("no FM_INIT within %d ms", FRONT_INIT_MS);
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			error_f("poll: %s", strerror(errno));
			return -1;
		}
	}
	if (m->type != FM_INIT || m->chan != 0 || wire_u32(&m->body, &version) != 0) {
		error_f("expected FM_INIT, got %s", frontmsg_type_name(m->type));
		return -1;
	}
	if (version != FRONTMSG_VERSION) {
		error_f("monitor speaks version %u, this front %u", version, FRONTMSG_VERSION);
		return -1;
	}
	return 0;
}

/* The host keys of FM_INIT into the bind; each PEM copy wiped once imported. */
static int
front_import_keys(ssh_bind bind, struct wire *w)
{
	const unsigned char *s;
	uint32_t nkeys, i;
	ssh_key key;
	size_t len;
	char *pem;
	int rc;

	if (wire_u32(w, &nkeys) != 0 || nkeys == 0 || nkeys > FRONTMSG_KEYS_MAX) {
		error_f("FM_INIT: bad host key count");
		return -1;
	}
	for (i = 0; i < nkeys; i++) {
		if (wire_string(w, &s, &len) != 0 || memchr(s, '\0', len) != NULL) {
			error_f("FM_INIT: malformed host key %u", i);
			return -1;
		}
		pem = xmalloc(len + 1);
		memcpy(pem, s, len);
		pem[len] = '\0';
		key = NULL;
		rc = ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &key);
		freezero(pem, len + 1);
		if (rc != SSH_OK) {
			error_f("FM_INIT: host key %u cannot be imported", i);
			return -1;
		}
		/* The bind takes ownership of the imported key. */
		if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
			error_f("FM_INIT: host key %u: %s", i, ssh_get_error(bind));
			ssh_key_free(key);
			return -1;
		}
	}
	return 0;
}

/* One algorithm list of FM_INIT: "" keeps libssh's default. */
static int
front_set_algorithms(ssh_bind bind, struct wire *w, const char *what, enum ssh_bind_options_e o1,
    enum ssh_bind_options_e o2)
{
	char *list = xmalloc(FRONT_ALGOS_MAX);
	int rc = 0;

	if (wire_cstring(w, list, FRONT_ALGOS_MAX) != 0) {
		error_f("FM_INIT: malformed %s", what);
		rc = -1;
	} else if (list[0] != '\0' &&
	    (ssh_bind_options_set(bind, o1, list) != SSH_OK ||
	        (o2 != o1 && ssh_bind_options_set(bind, o2, list) != SSH_OK))) {
		error_f("%s \"%s\": %s", what, list, ssh_get_error(bind));
		rc = -1;
	}
	free(list);
	return rc;
}

/* Everything FM_INIT says, into a new bind; *methods and *grace_s for the session. */
static ssh_bind
front_configure(struct frontmsg *m, uint32_t *methods, long *grace_s)
{
	int no = 0, verbosity = SSH_LOG_NOLOG;
	ssh_bind bind = ssh_bind_new();
	uint32_t grace;
	int rc;

	if (bind == NULL)
		return NULL;
	/* No file is read: the monitor's word is the whole configuration. */
	ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	ssh_bind_options_set(bind, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity);
	rc = front_import_keys(bind, &m->body);
	if (rc == 0)
		rc = front_set_algorithms(bind, &m->body, "kex", SSH_BIND_OPTIONS_KEY_EXCHANGE,
		    SSH_BIND_OPTIONS_KEY_EXCHANGE);
	if (rc == 0)
		rc = front_set_algorithms(bind, &m->body, "ciphers", SSH_BIND_OPTIONS_CIPHERS_C_S,
		    SSH_BIND_OPTIONS_CIPHERS_S_C);
	if (rc == 0)
		rc = front_set_algorithms(
		    bind, &m->body, "macs", SSH_BIND_OPTIONS_HMAC_C_S, SSH_BIND_OPTIONS_HMAC_S_C);
	if (rc == 0)
		rc = front_set_algorithms(bind, &m->body, "hostkeys",
		    SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS);
	if (rc == 0 &&
	    (wire_u32(&m->body, methods) != 0 || wire_u32(&m->body, &grace) != 0 ||
	        m->body.left != 0 || grace == 0 || grace > FRONT_GRACE_MAX)) {
		error_f("FM_INIT: malformed methods or grace time");
		rc = -1;
	}
	/* The host keys' text goes from memory whatever happened. */
	explicit_bzero(m->buf, sizeof(m->buf));
	if (rc != 0) {
		ssh_bind_free(bind);
		return NULL;
	}
	*grace_s = (long)grace;
	return bind;
}

static int
front_link_cb(socket_t fd, int revents, void *userdata)
{
	struct front *f = userdata;

	(void)fd;
	/* Read after the poll round (link_dispatch), outside every libssh callback. */
	if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0)
		f->link.readable = true;
	return 0;
}

/* The link is polled for writing only while messages wait for it. */
static void
front_watch_link(struct front *f, short *events)
{
	short want = POLLIN | (link_busy(&f->link) ? POLLOUT : 0);

	if (want == *events)
		return;
	if (*events != 0)
		ssh_event_remove_fd(f->event, f->link.fd);
	ssh_event_add_fd(f->event, f->link.fd, want, front_link_cb, f);
	*events = want;
}

static bool
front_vendor_gone(const struct front *f)
{
	return !ssh_is_connected(f->vendor) ||
	    (ssh_get_status(f->vendor) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

static int
front_poll_timeout(const struct front *f)
{
	long long left;

	if (link_pending(&f->link))
		return 0; /* messages queued during a wait: no poll would announce them */
	if (f->disconnecting) {
		left = f->disconnect_at - front_now_ms();
		return left <= 0 ? 0 : left > 1000 ? 1000 : (int)left;
	}
	return -1;
}

static void
front_loop(struct front *f)
{
	short events = 0;
	const char *err;

	while (!f->done) {
		front_watch_link(f, &events);
		ssh_event_dopoll(f->event, front_poll_timeout(f));
		if (link_flush(&f->link) != 0)
			f->link_lost = f->done = true;
		/* Only when there is something to read: at bulk rates most rounds are the vendor's
		 * socket alone (libssh reads it 4 KiB a round), and a recvmsg that finds nothing
		 * was a syscall in each of them. */
		if (!f->done && (f->link.readable || link_pending(&f->link))) {
			f->link.readable = false;
			link_dispatch(f);
		}
		if (!f->done)
			channel_pump_all(f);
		/* A queue this flush empties was holding back what libssh keeps of the vendor's
		 * bytes (channel_pump_in): they go now, for no event may come for them (the vendor
		 * has used its window, and the monitor acknowledged all it will). */
		while (!f->done && link_busy(&f->link)) {
			if (link_flush(&f->link) != 0)
				f->link_lost = f->done = true;
			else if (link_busy(&f->link))
				break; /* the socket is full: its POLLOUT wakes the next round */
			else
				channel_pump_all(f);
		}
		if (f->done)
			break;
		if (front_vendor_gone(f)) {
			err = ssh_get_error(f->vendor);
			snprintf(f->why, sizeof(f->why), "%s",
			    err != NULL && err[0] != '\0' ? err : "vendor disconnected");
			f->done = true;
			break;
		}
		/* Ordered to leave: once the vendor's windows took what was queued and libssh
		 * wrote it to the socket (a close loses what it still holds), or at the deadline.
		 */
		if (f->disconnecting &&
		    ((!channel_output_pending(f) &&
		         (ssh_get_poll_flags(f->vendor) & SSH_WRITE_PENDING) == 0) ||
		        front_now_ms() >= f->disconnect_at))
			f->done = true;
	}
}

/* Until the key exchange: INIT, the bind, the confinement; exits on failure. */
static void
front_start(struct front *f)
{
	struct frontmsg *m = xmalloc(sizeof(*m));
	uint32_t methods = 0;
	long grace_s = 0;
	ssh_bind bind;
	struct wbuf b;
	int one = 1;

	if (front_read_init(f, m) != 0 || (bind = front_configure(m, &methods, &grace_s)) == NULL)
		exit(1);
	free(m);
	if ((f->vendor = ssh_new()) == NULL)
		exit(1);
	setsockopt(FRONT_VENDOR_FD, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ssh_bind_accept_fd(bind, f->vendor, FRONT_VENDOR_FD) != SSH_OK) {
		error_f("ssh_bind_accept_fd: %s", ssh_get_error(bind));
		exit(1);
	}
	/* The session holds copies of the host keys now. */
	ssh_bind_free(bind);
	/* After accept_fd, which with PROCESS_CONFIG off and imported keys opens no file but
	 * does touch the PRNG (ssh_reseed); before the first vendor byte is read. */
	if (sandbox_enter() != 0)
		front_die(f, 1);
	f->server_cb.userdata = f;
	f->server_cb.channel_open_request_session_function = channel_open_cb;
	auth_install(f);
	ssh_callbacks_init(&f->server_cb);
	ssh_set_server_callbacks(f->vendor, &f->server_cb);
	ssh_set_auth_methods(f->vendor, (int)methods);
	ssh_options_set(f->vendor, SSH_OPTIONS_TIMEOUT, &grace_s);
	if (ssh_handle_key_exchange(f->vendor) != SSH_OK) {
		char why[300];

		snprintf(why, sizeof(why), "key exchange failed: %s", ssh_get_error(f->vendor));
		debug_f("%s", why);
		front_send_gone(f, why);
		front_die(f, 1);
	}
	frontmsg_new(&b, FM_READY, 0);
	wbuf_cstring(&b, ssh_get_clientbanner(f->vendor));
	if (link_send(&f->link, &b) != 0)
		front_die(f, 0);
	f->ready = true;
}

static void
front_usage(void)
{
	fprintf(stderr, "usage: gatewayd-front [-d]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct front *f;
	bool debug = false;
	int ch;

	while ((ch = getopt(argc, argv, "d")) != -1) {
		if (ch == 'd')
			debug = true;
		else
			front_usage();
	}
	if (optind != argc)
		front_usage();
	log_init("gatewayd-front", true, false, debug);
	xmalloc_tune_relay();
	if (randpool_install() != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(FRONT_VENDOR_FD, F_GETFD) == -1 || fcntl(FRONT_LINK_FD, F_GETFD) == -1) {
		error_f(
		    "fd %d (vendor) and fd %d (link) must be open", FRONT_VENDOR_FD, FRONT_LINK_FD);
		return 2;
	}
	f = xcalloc(1, sizeof(*f));
	link_init(&f->link, FRONT_LINK_FD);
	front_start(f);

	ssh_set_blocking(f->vendor, 0);
	if ((f->event = ssh_event_new()) == NULL ||
	    ssh_event_add_session(f->event, f->vendor) != SSH_OK)
		front_die(f, 1);
	front_loop(f);

	if (f->why[0] != '\0') {
		debug_f("vendor gone: %s", f->why);
		front_send_gone(f, f->why);
	} else {
		/* The monitor's order, or the monitor gone: the vendor hears the end. */
		link_flush_wait(&f->link, f->link_lost ? 0 : FRONT_LEAVE_MS);
	}
	ssh_event_remove_fd(f->event, f->link.fd);
	ssh_event_remove_session(f->event, f->vendor);
	ssh_event_free(f->event);
	/* Frees libssh's channels: the front's go after it, without touching them. */
	ssh_disconnect(f->vendor);
	channel_free_all(f);
	ssh_free(f->vendor);
	link_free(&f->link);
	free(f);
	ssh_finalize();
	return 0;
}
