/* auth.c: owns the vendor's authentication requests, each passed to the monitor and answered as
 * it says, and the monitor's banners and method lists. Decides nothing, never asks twice. */
#include "front/front.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

/* SSH_AUTH_METHOD_* bits libssh 0.10 knows. */
#define AUTH_METHODS_ALL                                                                           \
	(SSH_AUTH_METHOD_NONE | SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY |             \
	    SSH_AUTH_METHOD_HOSTBASED | SSH_AUTH_METHOD_INTERACTIVE | SSH_AUTH_METHOD_GSSAPI_MIC)

static bool
auth_text_ok(const char *s)
{
	return s != NULL && strlen(s) < FRONTMSG_TEXT_MAX;
}

/* The monitor's FM_AUTH_RESULT, checked. */
static uint8_t
auth_read_result(struct front *f, struct frontmsg *m)
{
	uint8_t r;

	if (wire_u8(&m->body, &r) != 0 || m->body.left != 0 || r > FM_AUTH_SUCCESS)
		link_violation(f, m, "malformed");
	return r;
}

static int
auth_libssh_result(uint8_t r)
{
	return r == FM_AUTH_SUCCESS ? SSH_AUTH_SUCCESS
	    : r == FM_AUTH_PARTIAL  ? SSH_AUTH_PARTIAL
	                            : SSH_AUTH_DENIED;
}

/* A request that only an FM_AUTH_RESULT answers. */
static int
auth_ask(struct front *f, struct wbuf *b)
{
	struct frontmsg *m;
	uint8_t r;

	if (link_send(&f->link, b) != 0) {
		info_f("the monitor is gone");
		front_die(f, 0);
	}
	m = xmalloc(sizeof(*m));
	link_wait(f, FM_AUTH_RESULT, 0, 0, m);
	r = auth_read_result(f, m);
	free(m);
	return auth_libssh_result(r);
}

static int
auth_none_cb(ssh_session session, const char *user, void *userdata)
{
	struct front *f = userdata;
	struct wbuf b;

	(void)session;
	if (!auth_text_ok(user))
		return SSH_AUTH_DENIED;
	frontmsg_new(&b, FM_AUTH_NONE, 0);
	wbuf_cstring(&b, user);
	return auth_ask(f, &b);
}

static int
auth_pubkey_cb(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *userdata)
{
	struct front *f = userdata;
	const char *type;
	char *b64 = NULL;
	struct wbuf b;

	(void)session;
	/* libssh found the signature wrong: nothing for the monitor to decide. */
	if (signature_state != SSH_PUBLICKEY_STATE_NONE &&
	    signature_state != SSH_PUBLICKEY_STATE_VALID)
		return SSH_AUTH_DENIED;
	if (!auth_text_ok(user) || (type = ssh_key_type_to_char(ssh_key_type(pubkey))) == NULL)
		return SSH_AUTH_DENIED;
	/* libssh 0.10 exports a certificate as the whole certificate: the monitor checks it. */
	if (ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK || b64 == NULL ||
	    strlen(b64) >= FRONTMSG_MAX - FRONTMSG_TEXT_MAX - 256) {
		ssh_string_free_char(b64);
		return SSH_AUTH_DENIED;
	}
	frontmsg_new(&b, FM_AUTH_PUBKEY, 0);
	wbuf_cstring(&b, user);
	wbuf_cstring(&b, type);
	wbuf_cstring(&b, b64);
	wbuf_u8(&b, signature_state == SSH_PUBLICKEY_STATE_VALID ? 1 : 0);
	ssh_string_free_char(b64);
	return auth_ask(f, &b);
}

/* ---- keyboard-interactive: libssh 0.10 has no server callback, it comes as a message ---- */

/* The monitor's next step of the conversation answers msg: prompts, or the result. */
static void
auth_kbdint_step(struct front *f, ssh_message msg, struct frontmsg *m)
{
	char *instruction, *prompts[FRONTMSG_PROMPTS_MAX];
	const char *cprompts[FRONTMSG_PROMPTS_MAX];
	char echo[FRONTMSG_PROMPTS_MAX];
	uint32_t n, i;
	uint8_t e;

	link_wait(f, FM_KBDINT_PROMPTS, FM_AUTH_RESULT, 0, m);
	if (m->type == FM_AUTH_RESULT) {
		switch (auth_read_result(f, m)) {
		case FM_AUTH_SUCCESS:
			ssh_message_auth_reply_success(msg, 0);
			break;
		case FM_AUTH_PARTIAL:
			ssh_message_auth_reply_success(msg, 1);
			break;
		default:
			ssh_message_reply_default(msg);
		}
		return;
	}
	instruction = xmalloc(FRONTMSG_TEXT_MAX);
	if (wire_cstring(&m->body, instruction, FRONTMSG_TEXT_MAX) != 0 ||
	    wire_u32(&m->body, &n) != 0 || n > FRONTMSG_PROMPTS_MAX)
		link_violation(f, m, "malformed");
	for (i = 0; i < n; i++) {
		prompts[i] = xmalloc(FRONTMSG_TEXT_MAX);
		if (wire_cstring(&m->body, prompts[i], FRONTMSG_TEXT_MAX) != 0 ||
		    wire_u8(&m->body, &e) != 0 || e > 1)
			link_violation(f, m, "malformed");
		cprompts[i] = prompts[i];
		echo[i] = (char)e;
	}
	if (m->body.left != 0)
		link_violation(f, m, "malformed");
	ssh_message_auth_interactive_request(msg, "", instruction, n, cprompts, echo);
	for (i = 0; i < n; i++)
		free(prompts[i]);
	free(instruction);
}

/* The vendor's answers, passed on; the buffer that held them is wiped. */
static void
auth_kbdint_answers(struct front *f, ssh_message msg, struct frontmsg *m)
{
	int n = ssh_userauth_kbdint_getnanswers(f->vendor), i;
	const char *a;
	struct wbuf b;

	if (n < 0 || n > FRONTMSG_PROMPTS_MAX) {
		ssh_message_reply_default(msg);
		return;
	}
	frontmsg_new(&b, FM_KBDINT_ANSWERS, 0);
	link_reserve(&b);
	wbuf_u32(&b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if ((a = ssh_userauth_kbdint_getanswer(f->vendor, (unsigned)i)) == NULL)
			a = "";
		if (!auth_text_ok(a) || b.len + strlen(a) + 4 > FRONTMSG_MAX) {
			freezero(b.p, b.cap);
			ssh_message_reply_default(msg);
			return;
		}
		wbuf_cstring(&b, a);
	}
	if (link_send_secret(&f->link, &b) != 0) {
		info_f("the monitor is gone");
		front_die(f, 0);
	}
	auth_kbdint_step(f, msg, m);
}

static void
auth_kbdint_start(struct front *f, ssh_message msg, struct frontmsg *m)
{
	const char *user = ssh_message_auth_user(msg);
	struct wbuf b;

	if (!auth_text_ok(user)) {
		ssh_message_reply_default(msg);
		return;
	}
	frontmsg_new(&b, FM_KBDINT_START, 0);
	wbuf_cstring(&b, user);
	if (link_send(&f->link, &b) != 0) {
		info_f("the monitor is gone");
		front_die(f, 0);
	}
	auth_kbdint_step(f, msg, m);
}

static int
auth_message_cb(ssh_session session, ssh_message msg, void *userdata)
{
	struct front *f = userdata;
	struct frontmsg *m;

	(void)session;
	/* A tunnel's open is the one other message the monitor decides (channel.c). */
	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL_OPEN &&
	    ssh_message_subtype(msg) == SSH_CHANNEL_DIRECT_TCPIP && !f->disconnecting)
		return channel_open_tunnel(f, msg);
	/* Everything else (other methods, other channel types, global requests such as
	 * tcpip-forward) gets libssh's refusal. */
	if (ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE || f->disconnecting)
		return 1;
	m = xmalloc(sizeof(*m));
	if (ssh_message_auth_kbdint_is_response(msg))
		auth_kbdint_answers(f, msg, m);
	else
		auth_kbdint_start(f, msg, m);
	free(m);
	return 0;
}

void
auth_apply(struct front *f, const struct frontmsg *msg)
{
	struct wire w = msg->body;
	const unsigned char *s;
	ssh_string banner;
	uint32_t methods;
	size_t len;

	if (msg->chan != 0)
		link_violation(f, msg, "a channel number on a connection message");
	if (msg->type == FM_METHODS) {
		if (wire_u32(&w, &methods) != 0 || w.left != 0 ||
		    (methods & ~AUTH_METHODS_ALL) != 0)
			link_violation(f, msg, "malformed");
		ssh_set_auth_methods(f->vendor, (int)methods);
		return;
	}
	if (wire_string(&w, &s, &len) != 0 || w.left != 0 || len >= FRONTMSG_BANNER_MAX ||
	    memchr(s, '\0', len) != NULL)
		link_violation(f, msg, "malformed");
	if ((banner = ssh_string_new(len)) == NULL)
		return;
	ssh_string_fill(banner, s, len);
	ssh_send_issue_banner(f->vendor, banner);
	ssh_string_free(banner);
}

void
auth_install(struct front *f)
{
	f->server_cb.auth_none_function = auth_none_cb;
	f->server_cb.auth_pubkey_function = auth_pubkey_cb;
	ssh_set_message_callback(f->vendor, auth_message_cb, f);
}
