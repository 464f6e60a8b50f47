/* relay.c: each vendor session channel and its twin on the target: requests, data,
 * EOF, exit status, in order, with every forwarded byte recorded where it is forwarded.
 * Never blocks on data: writes at most the peer's window, the rest waits in libssh. */
#include "gatewayd/gatewayd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/console.h"

static void relay_fail(struct relay *r, const char *reason);

static bool
relay_env_allowed(const char *name)
{
	return strcmp(name, "TERM") == 0 || strcmp(name, "LANG") == 0 ||
	    strncmp(name, "LC_", 3) == 0;
}

/* A message to the vendor on the channel's stderr; not part of the target's output. Sent only
 * when the vendor's window takes all of it (a cut message cut short misleads): true then.
 * Never waits for the window: a client that does not read must not hold off anything. */
static bool
relay_tell(struct relay *r, const char *text)
{
	char line[512];
	uint32_t len;

	/* A tunnel's bytes are the application's: no text of ours goes into them. */
	if (r->vendor == NULL || r->tunnel != NULL || r->close_sent || r->vendor_closed)
		return false;
	snprintf(line, sizeof(line), "%sgatewayd: %s\r\n", r->pty ? "\r\n" : "", text);
	len = (uint32_t)strnlen(line, sizeof(line));
	if (vchan_window(r->vendor) < len)
		return false;
	vchan_write(r->vendor, line, len, 1);
	if (r->rec != NULL)
		recorder_write_note(r->rec, text);
	return true;
}

/* Target requests are answered within one round trip; they run blocking (bounded by
 * the target's connect timeout) so their replies are seen in order. */
static int
relay_target_request(struct relay *r, int rc_blocking_call(ssh_channel, void *), void *arg)
{
	ssh_session t = r->session->target;
	int rc;

	ssh_set_blocking(t, 1);
	rc = rc_blocking_call(r->target, arg);
	ssh_set_blocking(t, 0);
	return rc;
}

struct pty_args {
	const char *term;
	int width, height;
};

static int
relay_call_pty(ssh_channel c, void *arg)
{
	struct pty_args *a = arg;

	return ssh_channel_request_pty_size(c, a->term, a->width, a->height);
}

static int
relay_call_shell(ssh_channel c, void *arg)
{
	(void)arg;
	return ssh_channel_request_shell(c);
}

static int
relay_call_exec(ssh_channel c, void *arg)
{
	return ssh_channel_request_exec(c, arg);
}

static int
relay_call_env(ssh_channel c, void *arg)
{
	const char *const *kv = arg;

	return ssh_channel_request_env(c, kv[0], kv[1]);
}

static int
relay_call_subsystem(ssh_channel c, void *arg)
{
	return ssh_channel_request_subsystem(c, arg);
}

static int
relay_call_open(ssh_channel c, void *arg)
{
	(void)arg;
	return ssh_channel_open_session(c);
}

/* A refused request is accepted, then explained on stderr with exit status 1 and closed:
 * OpenSSH's client drops stderr that arrives before a request failure. */
static int
relay_refuse(struct relay *r, const char *msg)
{
	if (r->notice == NULL) {
		r->notice = xstrdup(msg);
		r->notice_status = 1;
	}
	return 0;
}

/* The server modes of transfer tools whose protocol the gateway does not follow would move
 * files past the inspector: refused, with the way that works. (Legacy `scp -O` runs
 * "scp -t|-f" on the target, rsync "rsync --server".) SFTP is recognised by its content
 * whatever command serves it (relay_sniff). */
static bool
relay_exec_is_transfer(const char *command)
{
	const char *p = command + strspn(command, " \t");

	return strncmp(p, "scp ", 4) == 0 || strstr(command, "rsync --server") != NULL;
}

static const char *
relay_kind_name(unsigned kind)
{
	return kind == GW_CHAN_SHELL ? "shell" : kind == GW_CHAN_EXEC ? "exec" : "sftp";
}

/* The recording's file is the listener's to create (registry_link_open_recording): this process
 * cannot open recording_dir (monitor_sandbox.c). NULL with errno. */
static struct recording *
relay_open_recording(struct session *s, const struct recording_meta *m)
{
	struct recording *rec;
	char *path;
	int fd;

	if ((fd = registry_link_open_recording(s->link, m->channel, false, &path)) == -1)
		return NULL;
	rec = recorder_open_fd(fd, path, m, s->signer);
	free(path);
	return rec;
}

/* Recording starts before the target sees the request: no unrecorded session (R9).
 * kind is one channel kind, or upload|download for the sftp subsystem (either will do). */
static int
relay_start(struct relay *r, const char *command, unsigned kind)
{
	struct session *s = r->session;
	struct recording_meta m = {
		.session_id = s->id,
		.channel = r->index,
		.person = s->person->id,
		.vendor = s->person->vendor->id,
		.target = s->target_cfg->name,
		.target_user = s->target_cfg->user,
		.client_addr = s->client_addr,
		.client_port = s->client_port,
		.key_fp = s->key_fp,
		.ticket_id = s->decision.ticket_id[0] != '\0' ? s->decision.ticket_id : NULL,
		.approvers = s->decision.approvers[0] != '\0' ? s->decision.approvers : NULL,
		.kind = relay_kind_name(kind),
		.command = kind == GW_CHAN_SHELL ? NULL
		    : kind == GW_CHAN_EXEC       ? command
		                                 : "sftp",
		.term = r->pty ? r->term : NULL,
		.width = r->pty ? r->width : 80,
		.height = r->pty ? r->height : 24,
		.started = time(NULL),
	};
	int rc;

	if (r->started) {
		relay_tell(r, "a channel runs one shell or command only");
		return -1;
	}
	if ((s->decision.channels & kind) == 0 ||
	    (kind == GW_CHAN_EXEC && relay_exec_is_transfer(command))) {
		relay_refuse(r,
		    kind == GW_CHAN_SHELL ? "interactive shell is not granted for this target"
		        : kind == GW_CHAN_EXEC && (s->decision.channels & kind) != 0
		        ? "legacy scp (-O) and rsync are not allowed; use scp or sftp (SFTP)"
		        : kind == GW_CHAN_EXEC ? "command execution is not granted for this target"
		                               : "file transfer is not granted for this target");
		session_audit(s, "channel_refused",
		    audit_pack("{s:s, s:s, s:I, s:s?}", "person", s->person->id, "what",
		        relay_kind_name(kind), "channel", (json_int_t)r->index, "command",
		        kind == GW_CHAN_EXEC ? command : NULL));
		return 0;
	}
	if ((r->rec = relay_open_recording(s, &m)) == NULL) {
		relay_refuse(r, "session refused: the recording cannot be written");
		error_f("%s: cannot create recording in %s: %m", s->id, s->cfg->recording_dir);
		session_audit(s, "recorder_failure",
		    audit_pack(
		        "{s:s, s:s}", "person", s->person->id, "error", "cannot create recording"));
		s->fatal = true;
		return 0;
	}
	if (session_audit(s, "channel_start",
	        audit_pack("{s:s, s:s, s:s, s:I, s:s?, s:s}", "person", s->person->id, "vendor",
	            s->person->vendor->id, "target", s->target_cfg->name, "channel",
	            (json_int_t)r->index, "command", command, "recording",
	            recorder_path(r->rec))) != 0) {
		return relay_refuse(r, "session refused: the audit log cannot be written");
	}
	if (kind != GW_CHAN_SHELL && kind != GW_CHAN_EXEC && transfer_start(r) != 0)
		return -1;
	if (kind == GW_CHAN_EXEC)
		rc = relay_target_request(r, relay_call_exec, (void *)command);
	else if (kind == GW_CHAN_SHELL)
		rc = relay_target_request(r, relay_call_shell, NULL);
	else
		rc = relay_target_request(r, relay_call_subsystem, "sftp");
	if (rc != SSH_OK) {
		relay_refuse(r, "the target refused the request");
		snprintf(r->end_reason, sizeof(r->end_reason), "target refused %s",
		    relay_kind_name(kind));
		return 0;
	}
	r->sniffing = kind == GW_CHAN_EXEC;
	r->started = true;
	r->kind = kind;
	if (kind == GW_CHAN_SHELL && s->decision.ends_at != 0) {
		/* A person at a terminal learns at login when and why the access ends. */
		char at[96], line[256];

		time_format_site(
		    s->cfg->display_tz, s->decision.ends_at, time(NULL), at, sizeof(at));
		snprintf(line, sizeof(line), "access to %s until %s (%s)", s->target_cfg->name, at,
		    s->decision.ends_by);
		relay_tell(r, line);
	}
	return 0;
}

/* An SFTP stream the channel was not granted or not meant to carry: what the audit log says. */
static void
relay_audit_sftp_refused(struct relay *r, const char *what)
{
	session_audit(r->session, "channel_refused",
	    audit_pack("{s:s, s:s, s:I}", "person", r->session->person->id, "what", what, "channel",
	        (json_int_t)r->index));
}

/*
 * An exec channel whose first bytes from the vendor are an SFTP INIT speaks SFTP, whatever
 * command serves it (`sftp -s /path/to/sftp-server`): it goes under the inspector and the
 * file-transfer grant like the sftp subsystem, or is refused. Decided once, on the first
 * SFTP_INIT_SHAPE bytes (fewer wait in libssh, until EOF); returns false while undecided.
 */
static bool
relay_sniff(struct relay *r, const uint8_t *data, uint32_t len)
{
	struct session *s = r->session;
	int shape;

	if (!r->sniffing)
		return true;
	if ((shape = sftp_stream_starts_init(data, len)) == 0 && !r->vendor_eof)
		return false;
	r->sniffing = false;
	if (shape != 1)
		return true;
	if ((s->decision.channels & (GW_CHAN_UPLOAD | GW_CHAN_DOWNLOAD)) == 0) {
		relay_refuse(
		    r, "file transfer is not granted for this target (the command speaks SFTP)");
		relay_audit_sftp_refused(r, "sftp by exec");
		return true;
	}
	if (recorder_write_note(r->rec, "the command speaks SFTP: inspected as a file transfer") !=
	        0 ||
	    transfer_start(r) != 0)
		relay_fail(r, "file transfer inspection could not start");
	return true;
}

/*
 * Best effort on a shell (and on a command that did not start with SFTP): an SFTP INIT in
 * the input means an SFTP server was started by hand (`exec sftp-server`). The channel is
 * closed before the INIT reaches it. A shell can always move bytes (cat, base64); those
 * are in the recording, but no SFTP session passes uninspected this way.
 */
static bool
relay_input_speaks_sftp(struct relay *r, const void *data, uint32_t n)
{
	if (r->notice != NULL)
		return true; /* refused already: the rest is dropped until the channel closes */
	if (!sftp_scan_init(&r->init_scan, data, n))
		return false;
	relay_refuse(r, "SFTP started inside a shell or command is not allowed; use scp or sftp");
	if (r->rec != NULL)
		recorder_write_note(r->rec, "SFTP INIT in the input: channel closed");
	relay_audit_sftp_refused(r, "sftp in a shell");
	return true;
}

/* ---- vendor side ---- */

/* The two sides of a relay: the target's channel (libssh) and the vendor's (through the
 * vendor-facing process). transfer.c moves bytes through these too. */
uint32_t
relay_side_window(struct relay *r, bool target)
{
	return target ? ssh_channel_window_size(r->target) : vchan_window(r->vendor);
}

int
relay_side_write(struct relay *r, bool target, const void *data, uint32_t n, int is_stderr)
{
	if (!target)
		return vchan_write(r->vendor, data, n, is_stderr);
	return is_stderr ? ssh_channel_write_stderr(r->target, data, n)
	                 : ssh_channel_write(r->target, data, n);
}

/* Only a channel whose data callback ran is asked: bytes reach libssh's channel buffer
 * through that callback alone, and asking an empty one costs a poll(2) per drain, four per
 * keystroke's round trip. */
int
relay_side_poll(struct relay *r, bool target, int is_stderr)
{
	int n;

	if (!target)
		return is_stderr ? 0 : (int)vchan_poll(r->vendor);
	if (!r->target_data[is_stderr != 0])
		return 0;
	if ((n = ssh_channel_poll(r->target, is_stderr)) <= 0)
		r->target_data[is_stderr != 0] = false;
	return n;
}

int
relay_side_read(struct relay *r, bool target, void *buf, uint32_t n, int is_stderr)
{
	int got;

	if (!target)
		return vchan_read(r->vendor, buf, n);
	got = ssh_channel_read_nonblocking(r->target, buf, n, is_stderr);
	/* Fewer bytes than asked for: libssh gave all it held, and only target_data_cb fills its
	 * buffer again. Asking it once more (relay_side_poll) would cost a poll(2) of every
	 * socket after each echoed key. */
	if (got >= 0 && (uint32_t)got < n)
		r->target_data[is_stderr != 0] = false;
	return got;
}

/* Sends what a direction holds; true once it holds nothing more. */
static bool
relay_release(struct relay *r, bool to_target, struct relay_held *h, int is_stderr)
{
	int w;

	if (r->writing)
		return false;
	r->writing = true;
	while (h->off < h->len) {
		w = relay_side_write(r, to_target, h->buf + h->off, h->len - h->off, is_stderr);
		if (w < 0)
			relay_fail(r, "relay write failed");
		if (w <= 0) {
			r->writing = false;
			return false;
		}
		h->off += (uint32_t)w;
	}
	r->writing = false;
	free(h->buf);
	memset(h, 0, sizeof(*h));
	return true;
}

/* Records, then forwards, up to the peer's window from data into to: the one place bytes
 * cross the gateway. Nothing is forwarded that the recording does not already hold (R9);
 * what libssh does not take at once is held and sent first later. Returns the count
 * consumed (0: no room, the recording failed, or the connection broke). */
static int
relay_forward(struct relay *r, const void *data, uint32_t len, bool to_target, int is_stderr)
{
	struct relay_held *h = &r->held[to_target ? 2 : is_stderr];
	uint32_t n;
	int rc, w;

	/* ssh_channel_write polls every session of the event, so data callbacks can run inside
	 * it: a nested call takes nothing (libssh keeps the bytes), or the order would break. */
	if (r->writing || (h->len > 0 && !relay_release(r, to_target, h, is_stderr)))
		return 0;
	if ((n = relay_side_window(r, to_target)) > len)
		n = len;
	if (n == 0)
		return 0;
	if (to_target && relay_input_speaks_sftp(r, data, n))
		return (int)n; /* taken, never forwarded: the channel closes */
	if (to_target) {
		rc = recorder_write_input(r->rec, data, n);
		r->bytes_in += n;
	} else {
		rc = is_stderr ? recorder_write_stderr(r->rec, data, n)
		               : recorder_write_output(r->rec, data, n);
		r->bytes_out += n;
	}
	if (rc != 0) {
		relay_fail(r, "recording write failed");
		return 0;
	}
	registry_link_data(r->session->link, to_target, data, n);
	r->writing = true;
	w = relay_side_write(r, to_target, data, n, is_stderr);
	r->writing = false;
	if (w < 0) {
		relay_fail(r, "relay write failed");
		return 0;
	}
	if ((uint32_t)w < n) {
		h->buf = xmalloc(n - (uint32_t)w);
		memcpy(h->buf, (const char *)data + w, n - (uint32_t)w);
		h->len = n - (uint32_t)w;
	}
	return (int)n;
}

/* Sends what the relay holds in every direction still open. */
static void
relay_release_all(struct relay *r)
{
	if (r->held[2].len > 0 && !r->target_closed)
		relay_release(r, true, &r->held[2], 0);
	if (!r->vendor_closed && !r->close_sent) {
		if (r->held[0].len > 0)
			relay_release(r, false, &r->held[0], 0);
		if (r->held[1].len > 0)
			relay_release(r, false, &r->held[1], 1);
	}
}

/* ---- what the vendor sends, as the front reports it ---- */

static int
vendor_data(struct relay *r, const void *data, uint32_t len)
{
	/* After a cut nothing more goes to the target; left unread, the vendor's window stays. */
	if (r->session->closing)
		return 0;
	if (r->console != NULL)
		return console_input(r, data, len);
	if (r->tunnel != NULL)
		return tunnel_from_vendor(r, data, len);
	if (r->target == NULL || !r->started || r->vendor_eof_sent || r->target_closed ||
	    r->close_sent)
		return (int)len; /* nothing to feed: discarded, like sshd does before a command */
	if (!relay_sniff(r, data, len))
		return 0; /* libssh keeps them until more come */
	if (r->notice != NULL)
		return (int)len; /* refused: the channel closes */
	if (r->transfer != NULL)
		return transfer_from_vendor(r, data, len);
	return relay_forward(r, data, len, true, 0);
}

static void
vendor_close(struct relay *r)
{
	r->vendor_closed = true;
	if (r->end_reason[0] == '\0')
		snprintf(r->end_reason, sizeof(r->end_reason), "vendor closed the channel");
}

static void
vendor_signal(struct relay *r, const char *sig)
{
	char note[64];

	if (r->target == NULL || !r->started || r->close_sent || r->session->closing ||
	    strlen(sig) > 16)
		return;
	snprintf(note, sizeof(note), "signal %s", sig);
	if (r->rec != NULL)
		recorder_write_note(r->rec, note);
	ssh_channel_request_send_signal(r->target, sig);
}

static int
vendor_pty(struct relay *r, const char *term, int width, int height)
{
	struct pty_args a = { .term = term, .width = width, .height = height };

	if (r->started || r->session->closing || strlen(term) >= sizeof(r->term) || width < 0 ||
	    height < 0 || width > 10000 || height > 10000)
		return -1;
	r->pty = true;
	snprintf(r->term, sizeof(r->term), "%s", term);
	r->width = width;
	r->height = height;
	if (r->target == NULL)
		return 0;
	return relay_target_request(r, relay_call_pty, &a) == SSH_OK ? 0 : -1;
}

static int
vendor_window_change(struct relay *r, int width, int height)
{
	if (!r->pty || r->close_sent || r->session->closing || width < 0 || height < 0 ||
	    width > 10000 || height > 10000)
		return -1;
	r->width = width;
	r->height = height;
	if (r->target == NULL)
		return 0;
	if (r->rec != NULL && recorder_write_resize(r->rec, width, height) != 0)
		relay_fail(r, "recording write failed");
	ssh_channel_change_pty_size(r->target, width, height);
	return 0;
}

static int
vendor_env(struct relay *r, const char *name, const char *value)
{
	const char *kv[2] = { name, value };

	if (r->target == NULL || r->started || r->session->closing || !relay_env_allowed(name) ||
	    strlen(value) > 256)
		return -1;
	return relay_target_request(r, relay_call_env, kv) == SSH_OK ? 0 : -1;
}

static int
vendor_shell(struct relay *r)
{
	if (r->session->closing)
		return -1;
	r->asked = true;
	if (r->target == NULL)
		return 0; /* the notice is sent once the request is answered */
	return relay_start(r, NULL, GW_CHAN_SHELL);
}

static int
vendor_exec(struct relay *r, const char *command)
{
	if (r->session->closing)
		return -1;
	r->asked = true;
	if (r->target == NULL && r->session->phase == PHASE_CONSOLE)
		return console_exec(r, command);
	if (r->target == NULL)
		return 0;
	return relay_start(r, command, GW_CHAN_EXEC);
}

static int
vendor_subsystem(struct relay *r, const char *subsystem)
{
	char msg[128];

	if (r->session->closing)
		return -1;
	r->asked = true;
	if (r->target == NULL)
		return 0;
	if (strcmp(subsystem, "sftp") == 0)
		return relay_start(r, NULL, GW_CHAN_UPLOAD | GW_CHAN_DOWNLOAD);
	snprintf(
	    msg, sizeof(msg), "subsystem %.32s is not available through this gateway", subsystem);
	session_audit(r->session, "channel_refused",
	    audit_pack("{s:s, s:s, s:s}", "person", r->session->person->id, "what", "subsystem",
	        "subsystem", subsystem));
	return relay_refuse(r, msg);
}

/* ---- target side ---- */

static int
target_data_cb(
    ssh_session sess, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *userdata)
{
	struct relay *r = userdata;

	(void)sess, (void)ch;
	r->target_data[is_stderr != 0] = true;
	if (r->session->closing)
		return 0; /* the window left is for why the session ended */
	/* nobody reads them now; but a transfer reads on after the vendor left: the answers to
	 * its own clean-up (transfer_pump) */
	if ((r->vendor_closed || r->close_sent) && r->transfer == NULL)
		return (int)len;
	/* Never forwarded from here: a write to the vendor polls, and what that poll reads from
	 * the vendor (a channel open, an exec, a pty request) needs the target, whose socket
	 * libssh keeps locked until this callback returns, so it would time out and be refused.
	 * The bytes wait in libssh (its window does not grow meanwhile); relay_pump moves them
	 * right after this poll round, outside every callback. */
	(void)data, (void)len;
	r->session->repump = true;
	return 0;
}

static void
target_eof_cb(ssh_session sess, ssh_channel ch, void *userdata)
{
	struct relay *r = userdata;

	r->target_eof = true;
	(void)sess, (void)ch;
}

static void
target_close_cb(ssh_session sess, ssh_channel ch, void *userdata)
{
	struct relay *r = userdata;

	r->target_closed = true;
	(void)sess, (void)ch;
}

static void
target_exit_status_cb(ssh_session sess, ssh_channel ch, int status, void *userdata)
{
	struct relay *r = userdata;

	r->has_exit_status = true;
	r->exit_status = status;
	(void)sess, (void)ch;
}

static void
target_exit_signal_cb(ssh_session sess, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *userdata)
{
	struct relay *r = userdata;

	r->has_exit_signal = true;
	snprintf(r->exit_signal, sizeof(r->exit_signal), "%s", sig);
	r->exit_core = core != 0;
	(void)sess, (void)ch, (void)errmsg, (void)lang;
}

/*
 * The text on the stderr of the first started channel with window for it, and in its
 * recording: relay_tell_all would wait up to 2 s for each channel whose window is full,
 * which is what a vendor that does not read has.
 */
void
relay_tell_one(struct session *s, const char *text)
{
	struct relay *r;

	TAILQ_FOREACH (r, &s->relays, entry)
		if (r->started && !r->vendor_closed && relay_tell(r, text))
			return;
}

/*
 * max_channels (the vendor's, else the gateway's) bounds what one connection holds: each
 * channel may buffer megabytes (docs/limits.md). Every channel counts, sftp included. One
 * more is refused: libssh answers OPEN_FAILURE "administratively prohibited" (0.10 has no
 * way to add text), so the vendor reads why on a channel it has (one with room), once. The
 * audit log gets the 1st, 10th, 100th... refusal: a client looping on opens cannot fill it.
 */
static bool
relay_channels_full(struct session *s)
{
	int max = s->person != NULL && s->person->vendor->max_channels > 0
	    ? s->person->vendor->max_channels
	    : s->cfg->max_channels;
	char msg[128];
	unsigned n;

	if (s->nrelays_open < (unsigned)max)
		return false;
	n = ++s->channels_refused;
	snprintf(msg, sizeof(msg), "max_channels %d", max);
	if (n == 1)
		relay_tell_one(s, "a channel was refused: this connection has max_channels open");
	for (; n % 10 == 0; n /= 10)
		;
	if (n == 1)
		session_audit(s, "channel_refused",
		    audit_pack("{s:s?, s:s, s:s, s:I}", "person",
		        s->person != NULL ? s->person->id : NULL, "what", "channel", "reason", msg,
		        "refused", (json_int_t)s->channels_refused));
	return true;
}

/* A "session" channel the vendor opens (numbered by the front); false: refused. */
static bool
relay_open(struct session *s, uint32_t num)
{
	char msg[256];
	struct relay *r;

	if (s->closing ||
	    (s->phase != PHASE_RELAY && s->phase != PHASE_DENIED && s->phase != PHASE_CONSOLE))
		return false;
	if (relay_channels_full(s))
		return false;
	r = xcalloc(1, sizeof(*r));
	r->session = s;
	r->index = s->next_index++;
	if ((r->vendor = vchan_new(s->front, num, r)) == NULL) {
		free(r);
		return false;
	}
	if (s->phase == PHASE_RELAY && s->target == NULL) {
		snprintf(msg, sizeof(msg),
		    "access denied: %s has no SSH service; it is reached by forwarding only (ssh "
		    "-N "
		    "-L PORT:%s:PORT ...)",
		    s->target_cfg->name, s->target_cfg->name);
		r->notice = xstrdup(msg);
		r->notice_status = 1;
	} else if (s->phase == PHASE_RELAY) {
		/* A cut decided while the target answered (its packets are read in the same poll)
		 * opens nothing either. */
		if ((r->target = ssh_channel_new(s->target)) == NULL ||
		    relay_target_request(r, relay_call_open, NULL) != SSH_OK || s->closing) {
			if (!s->closing)
				error_f("%s: cannot open a channel on target %s: %s", s->id,
				    s->target_cfg->name, ssh_get_error(s->target));
			if (r->target != NULL)
				ssh_channel_free(r->target);
			vchan_free(r->vendor);
			free(r);
			return false;
		}
		r->target_cb.userdata = r;
		r->target_cb.channel_data_function = target_data_cb;
		r->target_cb.channel_eof_function = target_eof_cb;
		r->target_cb.channel_close_function = target_close_cb;
		r->target_cb.channel_exit_status_function = target_exit_status_cb;
		r->target_cb.channel_exit_signal_function = target_exit_signal_cb;
		ssh_callbacks_init(&r->target_cb);
		ssh_set_channel_callbacks(r->target, &r->target_cb);
		r->target_data[0] = r->target_data[1] = true;
	} else {
		r->notice = xstrdup(s->refusal);
		r->notice_status = s->phase == PHASE_CONSOLE ? 0 : 1;
	}
	TAILQ_INSERT_TAIL(&s->relays, r, entry);
	s->nrelays_open++;
	return true;
}

/* A "direct-tcpip" channel (ssh -L, -D): a tunnel if its destination is granted (tunnel.c). */
static bool
relay_open_tunnel(struct session *s, const struct frontreq *rq)
{
	struct relay *r;

	if (s->closing || s->phase != PHASE_RELAY || relay_channels_full(s))
		return false;
	r = xcalloc(1, sizeof(*r));
	r->session = s;
	r->index = s->next_index++;
	if ((r->vendor = vchan_new(s->front, rq->chan, r)) == NULL) {
		free(r);
		return false;
	}
	if (!tunnel_open(r, rq->text, rq->num[0], rq->text2, rq->num[1])) {
		vchan_free(r->vendor);
		free(r);
		return false;
	}
	TAILQ_INSERT_TAIL(&s->relays, r, entry);
	s->nrelays_open++;
	return true;
}

/* One message of the front about a channel: requests are answered (the front waits), data
 * goes where it would have gone from libssh's callback, and what is not taken is kept. */
void
relay_front_message(struct session *s, const struct frontreq *rq)
{
	struct relay *r = vchan_owner_of(s->front, rq->chan);
	int ok = -1;

	if (rq->type == FM_CHAN_OPEN || rq->type == FM_FWD_OPEN) {
		frontlink_send_result(s->front, rq->chan,
		    rq->type == FM_CHAN_OPEN ? relay_open(s, rq->chan) : relay_open_tunnel(s, rq));
		return;
	}
	if (r == NULL) {
		/* a channel already let go: requests are refused, the rest dropped */
		if (rq->type != FM_DATA && rq->type != FM_EOF && rq->type != FM_CLOSE &&
		    rq->type != FM_SIGNAL)
			frontlink_send_result(s->front, rq->chan, false);
		return;
	}
	switch (rq->type) {
	case FM_DATA:
		if (vchan_poll(r->vendor) == 0 && !r->vendor_eof) {
			int took = vendor_data(r, rq->data, (uint32_t)rq->len);

			if (took < 0)
				took = 0;
			if (vchan_keep(r->vendor, rq->data + took, rq->len - (size_t)took) != 0)
				relay_fail(r, "vendor-facing process overran the window");
		} else if (vchan_keep(r->vendor, rq->data, rq->len) != 0)
			relay_fail(r, "vendor-facing process overran the window");
		s->repump = true;
		return;
	case FM_EOF:
		r->vendor_eof = true;
		return;
	case FM_CLOSE:
		vendor_close(r);
		return;
	case FM_SIGNAL:
		vendor_signal(r, rq->text);
		return;
	case FM_PTY:
		ok = rq->num[0] > 10000 || rq->num[1] > 10000
		    ? -1
		    : vendor_pty(r, rq->text, (int)rq->num[0], (int)rq->num[1]);
		break;
	case FM_WINDOW_CHANGE:
		ok = rq->num[0] > 10000 || rq->num[1] > 10000
		    ? -1
		    : vendor_window_change(r, (int)rq->num[0], (int)rq->num[1]);
		break;
	case FM_ENV:
		ok = vendor_env(r, rq->text, rq->text2);
		break;
	case FM_SHELL:
		ok = vendor_shell(r);
		break;
	case FM_EXEC:
		ok = vendor_exec(r, rq->text);
		break;
	case FM_SUBSYSTEM:
		ok = vendor_subsystem(r, rq->text);
		break;
	default:
		return;
	}
	frontlink_send_result(s->front, rq->chan, ok == 0);
}

static void
relay_fail(struct relay *r, const char *reason)
{
	struct session *s = r->session;

	if (s->fatal)
		return;
	s->fatal = true;
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", reason);
	crit_f("%s: %s: ending the session (fail closed)", s->id, reason);
}

/* Moves what one side holds into the other, as far as the other's window allows. */
static void
relay_drain(struct relay *r, bool to_target, int is_stderr)
{
	static char buf[RELAY_CHUNK];
	struct relay_held *h = &r->held[to_target ? 2 : is_stderr];
	uint32_t room;
	int n, avail;

	/* Held bytes go first; until they are gone the rest waits in libssh. */
	while (!r->session->fatal && !r->session->closing &&
	    (h->len == 0 || relay_release(r, to_target, h, is_stderr)) &&
	    (avail = relay_side_poll(r, !to_target, is_stderr)) > 0 &&
	    (room = relay_side_window(r, to_target)) > 0) {
		/* What the target sent is taken from libssh whole or not at all: a channel buffer
		 * left part-read is moved (memmove) each time a packet joins it, which costs more
		 * than the whole relay at bulk rates. The link's window is larger than libssh's
		 * channel window, so room for all of it always comes. */
		if (!to_target && (uint32_t)avail > room && room < FRONTMSG_WINDOW_OUT / 2)
			return;
		if (room > sizeof(buf))
			room = sizeof(buf);
		if ((n = relay_side_read(r, !to_target, buf, room, is_stderr)) <= 0)
			return;
		/* Read no more than the window: all of it must go, or bytes would be lost. */
		if (relay_forward(r, buf, (uint32_t)n, to_target, is_stderr) != n) {
			relay_fail(r, "relay write failed");
			return;
		}
	}
}

static void
relay_send_exit(struct relay *r)
{
	char note[64];

	if (r->exit_sent)
		return;
	r->exit_sent = true;
	if (r->has_exit_signal) {
		vchan_send_exit_signal(r->vendor, r->exit_signal, r->exit_core);
		snprintf(note, sizeof(note), "exit signal %s", r->exit_signal);
	} else if (r->has_exit_status) {
		vchan_send_exit_status(r->vendor, r->exit_status);
		snprintf(note, sizeof(note), "exit status %d", r->exit_status);
	} else {
		return;
	}
	if (r->rec != NULL)
		recorder_write_note(r->rec, note);
}

/* Ends the channel's evidence: the transfer's last events (files the gateway closed), then
 * the seal. Once only; nothing is recorded after it. */
static void
relay_seal(struct relay *r)
{
	if (r->tunnel != NULL) {
		tunnel_seal(r);
		return;
	}
	transfer_free(r);
	if (r->rec == NULL || r->sealed)
		return;
	r->sealed = true;
	if (recorder_seal(r->rec, r->end_reason[0] ? r->end_reason : "channel closed") != 0)
		error_f("%s: sealing %s failed: %m", r->session->id, recorder_path(r->rec));
}

/* Each side is closed by us exactly once, whoever closed first: SSH wants both CLOSEs. A
 * vendor still there learns of the end only once the recording is sealed, so whoever runs
 * `verify` as the client returns finds it whole (after the vendor's own close, a transfer
 * still reads the target's answers to its clean-up: relay_free seals then). */
static void
relay_close_vendor(struct relay *r)
{
	if (r->close_sent)
		return;
	r->close_sent = true;
	if (!r->vendor_closed)
		relay_seal(r);
	vchan_close(r->vendor);
}

static void
relay_close_target(struct relay *r)
{
	if (r->target == NULL || r->target_close_sent)
		return;
	r->target_close_sent = true;
	ssh_channel_close(r->target);
}

static void
relay_pump_notice(struct relay *r)
{
	if (r->close_sent || r->vendor_closed)
		return;
	if (r->notice_status == 0 || r->notice_err != NULL)
		vchan_write(r->vendor, r->notice, (uint32_t)strlen(r->notice), 0);
	else if (r->notice[0] != '\0') /* an auditor's command told its own error */
		relay_tell(r, r->notice);
	if (r->notice_err != NULL)
		relay_tell(r, r->notice_err);
	vchan_send_exit_status(r->vendor, r->notice_status);
	vchan_send_eof(r->vendor);
	relay_close_vendor(r);
}

static void
relay_pump_one(struct relay *r)
{
	if (r->tunnel != NULL) {
		tunnel_pump(r);
		return;
	}
	if (r->target == NULL || r->notice != NULL) {
		/* A refused connection's notice answers the vendor's shell, command or subsystem:
		 * sent before it, the channel would be closed under that request. */
		if (r->target == NULL && !r->asked && !r->vendor_eof && !r->vendor_closed)
			return;
		if (console_waiting(r) || console_watch_pump(r))
			return;
		relay_pump_notice(r);
		relay_close_target(r);
		r->done = r->vendor_closed && r->close_sent &&
		    (r->target == NULL || r->target_close_sent);
		return;
	}
	if (r->transfer != NULL) {
		transfer_pump(r);
		if (r->transfer_failed && !r->close_sent) {
			relay_tell(r, r->end_reason);
			relay_close_vendor(r);
			relay_close_target(r);
		}
	} else {
		relay_release_all(r);
		if (!r->vendor_closed && !r->close_sent)
			relay_drain(r, false, 0);
	}
	if (!r->vendor_closed && !r->close_sent)
		relay_drain(r, false, 1);
	/* fewer bytes than an INIT before EOF: not SFTP, they go as they are */
	if (r->sniffing && r->vendor_eof)
		r->sniffing = false;
	if (r->transfer == NULL && !r->sniffing && !r->target_closed && !r->vendor_eof_sent &&
	    !r->close_sent)
		relay_drain(r, true, 0);

	if (r->vendor_eof && !r->vendor_eof_sent && vchan_poll(r->vendor) == 0 &&
	    r->held[2].len == 0 && (r->transfer == NULL || transfer_idle_from_vendor(r))) {
		r->vendor_eof_sent = true;
		if (!r->target_closed)
			ssh_channel_send_eof(r->target);
	}
	/* EOF waits for the exit status and goes after it: clients such as plink close the
	 * channel on EOF, and a status sent after that is never seen. */
	if ((r->target_eof || r->target_closed) && !r->target_eof_sent &&
	    (r->has_exit_status || r->has_exit_signal || r->target_closed) &&
	    ssh_channel_poll(r->target, 0) <= 0 && ssh_channel_poll(r->target, 1) <= 0 &&
	    r->held[0].len == 0 && r->held[1].len == 0 &&
	    (r->transfer == NULL || transfer_idle_from_target(r))) {
		r->target_eof_sent = true;
		if (!r->close_sent && !r->vendor_closed) {
			if (r->has_exit_status || r->has_exit_signal)
				relay_send_exit(r);
			vchan_send_eof(r->vendor);
		}
	}
	/* Exit status follows the last byte of output, as sshd orders it. */
	if (r->target_closed && r->target_eof_sent) {
		if (!r->close_sent && !r->vendor_closed)
			relay_send_exit(r);
		if (r->end_reason[0] == '\0')
			snprintf(r->end_reason, sizeof(r->end_reason), "target closed the channel");
		relay_close_vendor(r);
	}
	/* Closing our end makes libssh refuse to read what it still buffers from the target:
	 * after the target closed, only once all of that has gone to the vendor. After the
	 * vendor closed, a transfer first discards the uploads it left open. */
	if ((r->vendor_closed &&
	        (r->transfer == NULL || r->transfer_failed || transfer_idle_from_vendor(r))) ||
	    (r->target_closed && r->target_eof_sent))
		relay_close_target(r);
	r->done = r->vendor_closed && r->close_sent && r->target_close_sent;
}

void
relay_free(struct relay *r)
{
	int i;

	if (r == NULL)
		return;
	relay_seal(r);
	tunnel_free(r);
	for (i = 0; i < 3; i++)
		free(r->held[i].buf);
	if (r->rec != NULL) {
		r->session->disk.closed += recorder_size(r->rec);
		recorder_free(r->rec);
	}
	if (r->target != NULL) {
		ssh_remove_channel_callbacks(r->target, &r->target_cb);
		ssh_channel_free(r->target);
	}
	vchan_free(r->vendor);
	console_free(r);
	free(r->notice);
	free(r->notice_err);
	free(r);
}

static void
relay_finish(struct session *s, struct relay *r)
{
	if (r->started && r->tunnel == NULL) /* a tunnel's end is tunnel_close (tunnel_free) */
		session_audit(s, "channel_end",
		    audit_pack("{s:s, s:I, s:s, s:I, s:I, s:i}", "person", s->person->id, "channel",
		        (json_int_t)r->index, "reason", r->end_reason[0] ? r->end_reason : "closed",
		        "bytes_in", (json_int_t)r->bytes_in, "bytes_out", (json_int_t)r->bytes_out,
		        "exit_status", r->has_exit_status ? r->exit_status : -1));
	TAILQ_REMOVE(&s->relays, r, entry);
	s->nrelays_open--;
	relay_free(r);
}

void
relay_pump(struct session *s)
{
	struct relay *r, *next;

	s->repump = false;
	if (s->closing)
		return; /* relay_close_all ends every channel; nothing more moves */
	for (r = TAILQ_FIRST(&s->relays); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		relay_pump_one(r);
		if (r->done)
			relay_finish(s, r);
	}
	tunnel_report(s);
}

/* What a closing channel is told: its own notice (a refusal not yet sent) or message. */
static const char *
relay_close_text(const struct relay *r, const char *message)
{
	return r->notice != NULL && !r->close_sent ? r->notice : message;
}

/* Tells every channel not yet told whose window takes it; true when none is left waiting. */
static bool
relay_tell_closing(struct session *s, const char *message)
{
	struct relay *r;
	const char *text;
	bool done = true;

	TAILQ_FOREACH (r, &s->relays, entry) {
		if (r->told || r->tunnel != NULL || (text = relay_close_text(r, message)) == NULL ||
		    r->close_sent || r->vendor_closed)
			continue;
		r->told = relay_tell(r, text);
		done = done && r->told;
	}
	return done;
}

void
relay_close_all(struct session *s, const char *message, const char *reason)
{
	long long deadline, left;
	struct relay *r;

	/* From here nothing more is relayed and no channel opens (s->closing gates the
	 * callbacks). The vendor is told where its windows allow; a client that reads lets the
	 * windows open within one budget for the whole connection, one that does not read is
	 * not told, and holds off nothing. */
	s->closing = true;
	deadline = (s->cut ? s->cut_ms : session_now_ms()) + RELAY_TELL_BUDGET_MS;
	while (!relay_tell_closing(s, message) && !frontlink_gone(s->front) &&
	    (left = deadline - session_now_ms()) > 0) {
		session_front_poll(s);
		if (ssh_event_dopoll(s->event, left < 50 ? (int)left : 50) == SSH_ERROR)
			break;
	}
	session_front_poll(s);
	while ((r = TAILQ_FIRST(&s->relays)) != NULL) {
		if (r->end_reason[0] == '\0' || reason != NULL)
			snprintf(
			    r->end_reason, sizeof(r->end_reason), "%s", reason ? reason : "closed");
		if (!r->told && r->rec != NULL && !r->sealed &&
		    relay_close_text(r, message) != NULL)
			recorder_write_note(r->rec, "the vendor's window was shut: not told why");
		if (!r->close_sent && !r->vendor_closed && r->vendor != NULL) {
			relay_send_exit(r);
			vchan_send_eof(r->vendor);
		}
		relay_close_vendor(r);
		relay_close_target(r);
		relay_finish(s, r);
	}
}

/* How long a vendor's hang-up may wait for the target to discard its unfinished uploads:
 * the target first works through the writes the vendor had in flight (a megabyte or more
 * from pscp; about a second measured). The bound is for a target that stalls. */
#define RELAY_SETTLE_MS 5000

void
relay_settle_transfers(struct session *s)
{
	struct timespec t0, now;
	struct relay *r;
	bool busy;

	/* The vendor is gone: its link leaves the event, which now moves only the target. */
	session_front_unpoll(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		busy = false;
		TAILQ_FOREACH (r, &s->relays, entry) {
			if (r->transfer == NULL || r->target == NULL || r->target_closed ||
			    r->transfer_failed)
				continue;
			/* nobody to answer: the target's answers are dropped */
			r->vendor_closed = true;
			transfer_pump(r);
			busy |= !transfer_idle_from_vendor(r);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!busy || s->fatal || s->target == NULL || !ssh_is_connected(s->target) ||
		    (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
		        RELAY_SETTLE_MS)
			return;
		ssh_event_dopoll(s->event, 50);
	}
}

int
relay_close_ungranted(struct session *s)
{
	struct relay *r;
	char msg[128];
	int n = 0;

	TAILQ_FOREACH (r, &s->relays, entry) {
		/* An sftp channel (kind upload|download) stays while either is granted. */
		if (!r->started || r->tunnel != NULL || r->close_sent ||
		    (s->decision.channels & r->kind) != 0)
			continue;
		snprintf(msg, sizeof(msg),
		    "%s is no longer granted for this target: channel closed",
		    r->kind == GW_CHAN_SHELL      ? "interactive shell"
		        : r->kind == GW_CHAN_EXEC ? "command execution"
		                                  : "file transfer");
		relay_tell(r, msg);
		snprintf(r->end_reason, sizeof(r->end_reason),
		    "%s no longer granted (configuration reloaded)", relay_kind_name(r->kind));
		relay_close_vendor(r);
		relay_close_target(r);
		n++;
	}
	return n;
}

int
relay_tell_all(struct session *s, const char *text)
{
	struct relay *r;
	int n = 0;

	TAILQ_FOREACH (r, &s->relays, entry)
		if (r->started && !r->close_sent && relay_tell(r, text))
			n++;
	return n;
}

int
relay_flush_recordings(struct session *s)
{
	struct relay *r;
	int rc = 0;

	TAILQ_FOREACH (r, &s->relays, entry)
		if ((r->rec != NULL && !r->sealed && recorder_flush(r->rec) != 0) ||
		    tunnel_flush(r) != 0) {
			relay_fail(r, "recording flush failed");
			rc = -1;
		}
	return rc;
}

time_t
relay_flush_due(struct session *s)
{
	struct relay *r;
	time_t t, oldest = 0;

	TAILQ_FOREACH (r, &s->relays, entry) {
		t = r->rec != NULL ? recorder_pending_since(r->rec) : tunnel_pending_since(r);
		if (t != 0 && (oldest == 0 || t < oldest))
			oldest = t;
	}
	return oldest;
}

unsigned long long
relay_recorded_bytes(const struct session *s)
{
	const struct relay *r;
	unsigned long long n = s->disk.closed;

	TAILQ_FOREACH (r, &s->relays, entry)
		n += r->rec != NULL ? recorder_size(r->rec) : tunnel_size(r);
	return n;
}
