/* sandbox_sshd.c: a minimal libssh server that serves one connection inside front/sandbox.c's
 * sandbox, the way gatewayd-front does: proves (with a real OpenSSH client, test_sandbox_libssh)
 * that the seccomp allow-list carries a whole session, and is what strace ran to find it.
 * usage: sandbox_sshd [-n] PORT HOSTKEY   (-n: no sandbox, for strace and comparison)
 * Any public key is accepted; exec answers with the command's text; a shell echoes its input. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/log.h"
#include "front/sandbox.h"

struct conn {
	ssh_session session;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct chan_cb;
	bool authenticated;
	bool exec_done;
	bool closed;
};

static int
conn_auth_pubkey(
    ssh_session s, const char *user, struct ssh_key_struct *key, char state, void *userdata)
{
	struct conn *c = userdata;

	if (state == SSH_PUBLICKEY_STATE_VALID)
		c->authenticated = true;
	return SSH_AUTH_SUCCESS;
}

static int
conn_chan_data(
    ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *userdata)
{
	return ssh_channel_write(ch, data, len) == SSH_ERROR ? 0 : (int)len;
}

static void
conn_chan_eof(ssh_session s, ssh_channel ch, void *userdata)
{
	ssh_channel_request_send_exit_status(ch, 0);
	ssh_channel_send_eof(ch);
	ssh_channel_close(ch);
}

static void
conn_chan_close(ssh_session s, ssh_channel ch, void *userdata)
{
	((struct conn *)userdata)->closed = true;
}

static int
conn_chan_pty(
    ssh_session s, ssh_channel ch, const char *term, int w, int h, int pw, int ph, void *userdata)
{
	return SSH_OK;
}

static int
conn_chan_shell(ssh_session s, ssh_channel ch, void *userdata)
{
	return SSH_OK;
}

static int
conn_chan_exec(ssh_session s, ssh_channel ch, const char *command, void *userdata)
{
	struct conn *c = userdata;

	ssh_channel_write(ch, command, strlen(command));
	ssh_channel_write(ch, "\n", 1);
	c->exec_done = true;
	return SSH_OK;
}

static ssh_channel
conn_chan_open(ssh_session s, void *userdata)
{
	struct conn *c = userdata;

	if (c->channel != NULL)
		return NULL;
	c->channel = ssh_channel_new(s);
	memset(&c->chan_cb, 0, sizeof(c->chan_cb));
	c->chan_cb.userdata = c;
	c->chan_cb.channel_data_function = conn_chan_data;
	c->chan_cb.channel_eof_function = conn_chan_eof;
	c->chan_cb.channel_close_function = conn_chan_close;
	c->chan_cb.channel_pty_request_function = conn_chan_pty;
	c->chan_cb.channel_shell_request_function = conn_chan_shell;
	c->chan_cb.channel_exec_request_function = conn_chan_exec;
	ssh_callbacks_init(&c->chan_cb);
	ssh_set_channel_callbacks(c->channel, &c->chan_cb);
	return c->channel;
}

/* Listens on 127.0.0.1:port, says "ready" on stdout, returns the one accepted connection. */
static int
accept_one(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, lfd, fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(lfd, 1) != 0) {
		perror("listen");
		return -1;
	}
	printf("ready\n");
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	return fd;
}

int
main(int argc, char **argv)
{
	struct ssh_server_callbacks_struct cb = { 0 };
	struct conn c = { 0 };
	bool sandbox = true;
	ssh_key key = NULL;
	ssh_bind b;
	ssh_event ev;
	int fd, i = 1;

	log_init("sandbox_sshd", 1, 0, 1);
	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		sandbox = false;
		i++;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: sandbox_sshd [-n] PORT HOSTKEY\n");
		return 2;
	}
	ssh_init();
	if (ssh_pki_import_privkey_file(argv[i + 1], NULL, NULL, NULL, &key) != SSH_OK) {
		fprintf(stderr, "cannot read %s\n", argv[i + 1]);
		return 1;
	}
	if ((fd = accept_one(atoi(argv[i]))) == -1)
		return 1;
	b = ssh_bind_new();
	c.session = ssh_new();
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK ||
	    ssh_bind_accept_fd(b, c.session, fd) != SSH_OK) {
		fprintf(stderr, "accept: %s\n", ssh_get_error(b));
		return 1;
	}
	/* The front's order: everything that opens files is done; not one vendor byte read. */
	if (sandbox && sandbox_enter() != 0)
		return 1;
	fprintf(stderr, "sandbox_sshd: %s\n", sandbox ? "sandboxed" : "not sandboxed");
	cb.userdata = &c;
	cb.auth_pubkey_function = conn_auth_pubkey;
	cb.channel_open_request_session_function = conn_chan_open;
	ssh_callbacks_init(&cb);
	ssh_set_server_callbacks(c.session, &cb);
	ssh_set_auth_methods(c.session, SSH_AUTH_METHOD_PUBLICKEY);
	if (ssh_handle_key_exchange(c.session) != SSH_OK) {
		fprintf(stderr, "key exchange: %s\n", ssh_get_error(c.session));
		return 1;
	}
	ev = ssh_event_new();
	ssh_event_add_session(ev, c.session);
	while (!c.closed && !(ssh_get_status(c.session) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
		if (ssh_event_dopoll(ev, 1000) == SSH_ERROR)
			break;
		if (c.exec_done && c.channel != NULL) {
			c.exec_done = false;
			conn_chan_eof(c.session, c.channel, &c);
		}
	}
	fprintf(stderr, "sandbox_sshd: session over (%s)\n",
	    c.authenticated ? "authenticated" : "not authenticated");
	ssh_event_free(ev);
	ssh_disconnect(c.session);
	ssh_free(c.session);
	ssh_bind_free(b); /* and the key it imported */
	return c.authenticated ? 0 : 1;
}
