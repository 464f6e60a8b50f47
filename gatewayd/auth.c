/* auth.c: vendor authentication: the legal banner, then the person's methods in the order
 * auth_methods requires (public key or OpenSSH certificate, keyboard-interactive through PAM),
 * the person chosen by "PERSON+TARGET". Never tells the client whether a person exists or
 * why a method failed; the audit log gets the precise reason. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define AUTH_BANNER_MAX  16384
#define AUTH_REVOKED_MAX (4 << 20) /* bytes of one revocation list */

/* Does one "type base64 [comment]" line name the same key? */
static bool
auth_key_line_matches(const char *line, const ssh_key offered)
{
	char type[64], *b64;
	const char *sp, *end;
	ssh_key key = NULL;
	bool match;

	if ((sp = strchr(line, ' ')) == NULL || (size_t)(sp - line) >= sizeof(type))
		return false;
	memcpy(type, line, (size_t)(sp - line));
	type[sp - line] = '\0';
	sp += strspn(sp, " ");
	end = sp + strcspn(sp, " ");
	b64 = xstrndup(sp, (size_t)(end - sp));
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &key) != SSH_OK) {
		free(b64);
		return false;
	}
	free(b64);
	match = ssh_key_cmp(key, offered, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_key_free(key);
	return match;
}

static const struct gw_person *
auth_find_key(const struct gw_config *cfg, const char *person, const ssh_key offered)
{
	const struct gw_person *p = config_find_principal(cfg, person);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < p->nkeys; i++)
		if (auth_key_line_matches(p->keys[i], offered))
			return p;
	return NULL;
}

static void
auth_fingerprint(const ssh_key key, char *out, size_t outlen)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	out[0] = '\0';
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL) {
		snprintf(out, outlen, "%s", fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
}

/* A syntax problem in the user name is told to the client as an SSH banner: it
 * concerns what was typed, not which accounts exist. */
static void
auth_tell_banner(struct session *s, const char *text)
{
	char line[256];

	snprintf(line, sizeof(line), "gatewayd: %s\r\n", text);
	frontlink_send_banner(s->front, line);
}

static void
auth_record_failure(struct session *s, const char *method, const char *key_fp, const char *reason)
{
	s->auth_failures++;
	session_audit(s, "auth_failure",
	    audit_pack("{s:s, s:s, s:s, s:s, s:i}", "user", s->username, "method", method, "key_fp",
	        key_fp, "reason", reason, "attempt", s->auth_failures));
	if (guard_session_failure(s)) {
		/* Accepted before its source was locked out: it may try no further. */
		info_f("%s: source of %s is locked out: closing", s->id, s->client_addr);
		session_hang_up(s);
	} else if (s->auth_failures >= s->cfg->max_auth_tries) {
		info_f("%s: too many authentication failures from %s", s->id, s->client_addr);
		session_hang_up(s);
	}
}

/* The owner's legal notice, once, before any method is tried (the client shows it). */
static void
auth_show_banner(struct session *s)
{
	char *text = NULL;
	size_t len;

	if (s->banner_sent || s->cfg->banner_file == NULL)
		return;
	s->banner_sent = true;
	if (file_read_bounded(s->cfg->banner_file, AUTH_BANNER_MAX, &text, &len) != 0) {
		error_f("%s: banner_file %s cannot be read: %m", s->id, s->cfg->banner_file);
		return;
	}
	frontlink_send_banner(s->front, text);
	free(text);
}

static int
auth_libssh_methods(unsigned methods)
{
	return ((methods & GW_AUTH_PUBLICKEY) ? SSH_AUTH_METHOD_PUBLICKEY : 0) |
	    ((methods & GW_AUTH_KBDINT) ? SSH_AUTH_METHOD_INTERACTIVE : 0);
}

/* The user name of a request: valid syntax, and once a method has passed, the same name
 * (a login may not switch persons half-way). Sets s->uname; why for the vendor. */
static bool
auth_user_ok(struct session *s, const char *user, const char **why)
{
	*why = NULL;
	snprintf(s->username, sizeof(s->username), "%s", user);
	if (strlen(user) > GW_USERNAME_MAX || username_parse(user, &s->uname, why) != 0) {
		memset(&s->uname, 0, sizeof(s->uname)); /* no person: the source alone counts */
		if (*why == NULL)
			*why = "malformed user name";
		return false;
	}
	if (s->nauth_done > 0 && strcmp(s->auth_user, user) != 0) {
		*why = "user name changed during authentication";
		return false;
	}
	return true;
}

/* Whether method may come next for person p (NULL: unknown person, "publickey"). */
static bool
auth_method_allowed(struct session *s, const struct gw_person *p, unsigned method)
{
	if (p == NULL)
		return method == GW_AUTH_PUBLICKEY && s->nauth_done == 0;
	return (auth_methods_next(config_auth_methods(p), s->auth_done, s->nauth_done) & method) !=
	    0;
}

/* "publickey,keyboard-interactive": the methods passed so far. */
static void
auth_chain_text(const struct session *s, char *buf, size_t len)
{
	size_t i, used = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < s->nauth_done && used < len; i++) {
		n = snprintf(buf + used, len - used, "%s%s", i ? "," : "",
		    auth_method_name(s->auth_done[i]));
		used += n > 0 ? (size_t)n : 0;
	}
}

/* A method passed for p: either the login is complete, or the vendor is told which
 * methods remain (SSH_AUTH_PARTIAL, so a stock client continues with the next). */
static int
auth_method_passed(struct session *s, const struct gw_person *p, unsigned method)
{
	const struct gw_auth_methods *m = config_auth_methods(p);
	char chain[128];
	unsigned next;

	/* Locked out meanwhile (another connection's failures): the method fails like a wrong
	 * answer, after the whole conversation, so nothing tells a locked person apart. */
	if (guard_session_locked(s)) {
		auth_record_failure(s,
		    method == GW_AUTH_KBDINT ? "keyboard-interactive" : "publickey", s->key_fp,
		    "locked out");
		return SSH_AUTH_DENIED;
	}
	s->auth_done[s->nauth_done++] = method;
	snprintf(s->auth_user, sizeof(s->auth_user), "%s", s->username);
	auth_chain_text(s, chain, sizeof(chain));
	if (auth_methods_satisfied(m, s->auth_done, s->nauth_done)) {
		/* No login without its evidence (fail closed): the session then ends. */
		if (session_audit(s, "auth_success",
		        audit_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "person", p->id, "vendor",
		            p->vendor->id, "key_fp", s->key_fp, "method", chain, "cert_serial",
		            s->cert_serial[0] ? s->cert_serial : NULL, "cert_key_id",
		            s->cert_serial[0] ? s->cert_key_id : NULL)) != 0)
			return SSH_AUTH_DENIED;
		s->person = p;
		s->phase = PHASE_DECIDE;
		return SSH_AUTH_SUCCESS;
	}
	next = s->nauth_done < GW_AUTH_CHAIN_MAX ? auth_methods_next(m, s->auth_done, s->nauth_done)
	                                         : 0;
	if (session_audit(s, "auth_partial",
	        audit_pack("{s:s, s:s, s:s, s:s}", "person", p->id, "vendor", p->vendor->id,
	            "method", chain, "key_fp", s->key_fp)) != 0)
		return SSH_AUTH_DENIED;
	frontlink_send_methods(s->front, (unsigned)auth_libssh_methods(next));
	return SSH_AUTH_PARTIAL;
}

static void
auth_pam_end(struct session *s)
{
	gwpam_free(s->pam);
	s->pam = NULL;
	s->pam_nprompts = 0;
}

/* ---- publickey: plain keys and OpenSSH certificates ------------------------------------- */

static bool
auth_key_is_cert(const ssh_key key)
{
	const char *type = ssh_key_type_to_char(ssh_key_type(key));

	return type != NULL && strstr(type, "-cert-v01@openssh.com") != NULL;
}

/* Whether the revocation list at path names c; fail closed when it cannot be read. */
static bool
auth_cert_revoked(const char *path, const struct sshcert *c, char *why, size_t whylen)
{
	char *list = NULL, what[256];
	size_t len;
	int r;

	if (path == NULL)
		return false;
	if (file_read_bounded(path, AUTH_REVOKED_MAX, &list, &len) != 0) {
		snprintf(
		    why, whylen, "revocation list %s cannot be read: %s", path, strerror(errno));
		return true;
	}
	r = sshcert_revoked(list, c, what, sizeof(what));
	free(list);
	if (r == 0)
		return false;
	snprintf(why, whylen,
	    r > 0 ? "certificate revoked by %s %s"
	          : "revocation list %s is malformed (%s): refusing certificates",
	    path, what);
	return true;
}

/* A certificate for person p: parsed, signed by one of the vendor's CAs, admitted now from
 * the client's address, not revoked. c is filled when the certificate could be parsed. */
static bool
auth_cert_ok(struct session *s, const struct gw_person *p, const ssh_key key, struct sshcert *c,
    char *why, size_t whylen)
{
	const struct gw_vendor *v;
	unsigned char *blob = NULL;
	char err[128], *b64 = NULL;
	size_t i, len;
	int rc;

	memset(c, 0, sizeof(*c));
	if (p == NULL) {
		snprintf(why, whylen, "unknown person");
		return false;
	}
	/* libssh 0.10 exports a certificate key as the whole certificate, but only in base64. */
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
	    base64_decode(b64, strlen(b64), &blob, &len) != 0) {
		ssh_string_free_char(b64);
		snprintf(why, whylen, "certificate cannot be exported");
		return false;
	}
	ssh_string_free_char(b64);
	rc = sshcert_parse(blob, len, c, err, sizeof(err));
	free(blob);
	if (rc != 0) {
		snprintf(why, whylen, "malformed certificate: %s", err);
		return false;
	}
	v = p->vendor;
	for (i = 0; i < v->ncert_authorities; i++)
		if (v->cert_authorities[i].key_blob_len == c->ca_key_len &&
		    memcmp(v->cert_authorities[i].key_blob, c->ca_key, c->ca_key_len) == 0)
			break;
	if (i == v->ncert_authorities) {
		char fp[GW_FP_LEN];

		sshkey_fingerprint(c->ca_key, c->ca_key_len, fp);
		snprintf(why, whylen, "certificate signed by a CA vendor %s does not trust (%s)",
		    v->id, fp);
		return false;
	}
	if (sshcert_check(c, p->id, s->client_addr, time(NULL), why, whylen) != 0)
		return false;
	return !auth_cert_revoked(v->revoked_certs, c, why, whylen) &&
	    !auth_cert_revoked(s->cfg->revoked_certs, c, why, whylen);
}

/* The key (or certificate) that authenticated, for auth_recheck after a reload. */
static void
auth_keep_key(struct session *s, const ssh_key key)
{
	char *b64 = NULL;

	free(s->auth_key_b64);
	s->auth_key_b64 = NULL;
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return; /* auth_recheck then fails closed */
	s->auth_key_b64 = xstrdup(b64);
	s->auth_key_type = ssh_key_type(key);
	ssh_string_free_char(b64);
}

int
auth_recheck(struct session *s, const struct gw_config *cfg, const struct gw_person *p, char *why,
    size_t whylen)
{
	const struct gw_config *running = s->cfg;
	struct sshcert cert;
	ssh_key key = NULL;
	bool ok;

	if (s->key_fp[0] == '\0')
		return 0; /* no key: keyboard-interactive alone, re-checked by nothing here */
	if (s->auth_key_b64 == NULL ||
	    ssh_pki_import_pubkey_base64(s->auth_key_b64, s->auth_key_type, &key) != SSH_OK) {
		snprintf(
		    why, whylen, "the key %s it authenticated with cannot be checked", s->key_fp);
		return -1;
	}
	if (auth_key_is_cert(key)) {
		/* The checks of the login, against the new configuration's CAs and revocations. */
		s->cfg = cfg;
		ok = auth_cert_ok(s, p, key, &cert, why, whylen);
		s->cfg = running;
		sshcert_free(&cert);
	} else if (!(ok = auth_find_key(cfg, p->id, key) != NULL))
		snprintf(why, whylen, "key %s removed from person %s", s->key_fp, p->id);
	ssh_key_free(key);
	return ok ? 0 : -1;
}

static int
auth_pubkey(struct session *s, const char *user, const ssh_key pubkey, bool is_signed)
{
	const struct gw_person *p;
	struct sshcert cert;
	const char *why = NULL;
	char fp[128], reason[GW_REASON_MAX];
	bool is_cert, ok;
	int rc;

	if (!auth_user_ok(s, user, &why)) {
		if (!is_signed)
			auth_tell_banner(s, why);
		else
			auth_record_failure(s, "publickey", "", why);
		return SSH_AUTH_DENIED;
	}
	p = config_find_principal(s->cfg, s->uname.person);
	reason[0] = '\0';
	/* A locked-out source or person fails exactly like a wrong key (no oracle). */
	if (guard_session_locked(s)) {
		auth_fingerprint(pubkey, fp, sizeof(fp));
		auth_record_failure(s, "publickey", fp, "locked out");
		return SSH_AUTH_DENIED;
	}
	if ((is_cert = auth_key_is_cert(pubkey))) {
		ok = auth_cert_ok(s, p, pubkey, &cert, reason, sizeof(reason));
		if (cert.key != NULL)
			sshkey_fingerprint(cert.key, cert.key_len, fp);
		else
			auth_fingerprint(pubkey, fp, sizeof(fp));
	} else {
		ok = auth_find_key(s->cfg, s->uname.person, pubkey) != NULL;
		auth_fingerprint(pubkey, fp, sizeof(fp));
		if (!ok)
			snprintf(reason, sizeof(reason), "%s",
			    p ? "key not authorized for person" : "unknown person");
	}
	if (ok && !auth_method_allowed(s, p, GW_AUTH_PUBLICKEY)) {
		ok = false;
		snprintf(
		    reason, sizeof(reason), "publickey not allowed at this step of auth_methods");
	}
	if (!is_signed) {
		/* A refused key query is a failed attempt too: stock clients only sign keys (and
		 * certificates) the server accepted, so a refused one is never seen signed. */
		if (!ok)
			auth_record_failure(s, "publickey", fp, reason);
		if (is_cert)
			sshcert_free(&cert);
		return ok ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
	}
	/* Signed: libssh, in the vendor-facing process, checked the signature (with the
	 * certified key). The monitor cannot check it again (docs/privileges.md). */
	if (!ok) {
		auth_record_failure(s, "publickey", fp, reason);
		rc = SSH_AUTH_DENIED;
	} else {
		snprintf(s->key_fp, sizeof(s->key_fp), "%s", fp);
		auth_keep_key(s, pubkey);
		if (is_cert) {
			snprintf(s->cert_serial, sizeof(s->cert_serial), "%llu",
			    (unsigned long long)cert.serial);
			snprintf(s->cert_key_id, sizeof(s->cert_key_id), "%s", cert.key_id);
		}
		rc = auth_method_passed(s, p, GW_AUTH_PUBLICKEY);
	}
	if (is_cert)
		sshcert_free(&cert);
	return rc;
}

/* ---- keyboard-interactive: the PAM conversation, relayed ------------------------------- */

static void
auth_reply(struct session *s, int libssh_rc)
{
	frontlink_send_auth_result(s->front,
	    libssh_rc == SSH_AUTH_SUCCESS       ? FM_AUTH_SUCCESS
	        : libssh_rc == SSH_AUTH_PARTIAL ? FM_AUTH_PARTIAL
	                                        : FM_AUTH_DENIED);
}

/* The PAM process's next step answers the front: more prompts, or the method's result. */
static void
auth_pam_step(struct session *s)
{
	struct gwpam_step st;
	const struct gw_person *p;
	const char *prompts[GWPAM_PROMPTS_MAX];
	bool echo[GWPAM_PROMPTS_MAX];
	size_t i;

	if (gwpam_next(s->pam, &st) != 0) {
		error_f("%s: %s", s->id, st.detail);
		auth_pam_end(s);
		auth_record_failure(s, "keyboard-interactive", "", st.detail);
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	switch (st.kind) {
	case GWPAM_PROMPTS:
		for (i = 0; i < st.nprompts; i++) {
			prompts[i] = st.prompts[i] ? st.prompts[i] : "";
			echo[i] = st.echo[i];
		}
		s->pam_nprompts = st.nprompts;
		frontlink_send_prompts(
		    s->front, st.instruction ? st.instruction : "", st.nprompts, prompts, echo);
		break;
	case GWPAM_SUCCESS:
		auth_pam_end(s);
		p = config_find_principal(s->cfg, s->uname.person);
		auth_reply(s, auth_method_passed(s, p, GW_AUTH_KBDINT));
		break;
	case GWPAM_FAILURE:
		auth_pam_end(s);
		auth_record_failure(s, "keyboard-interactive", "", st.detail);
		auth_reply(s, SSH_AUTH_DENIED);
		break;
	}
	gwpam_step_clear(&st);
}

/* The vendor's answers to the prompts it was sent, passed on to PAM. */
static void
auth_kbdint_response(struct session *s, const struct frontreq *rq)
{
	const char *answers[GWPAM_PROMPTS_MAX];
	size_t i;

	if (s->pam == NULL || rq->nanswers != s->pam_nprompts) {
		auth_pam_end(s);
		auth_record_failure(
		    s, "keyboard-interactive", "", "unexpected or incomplete answers");
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	for (i = 0; i < rq->nanswers; i++)
		answers[i] = rq->answers[i];
	if (gwpam_answer(s->pam, answers, rq->nanswers) != 0) {
		auth_pam_end(s);
		auth_record_failure(s, "keyboard-interactive", "", "PAM process gone");
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	auth_pam_step(s);
}

static void
auth_kbdint_start(struct session *s, const char *user)
{
	const struct gw_person *p;
	const char *why;
	char err[128];

	auth_pam_end(s); /* a new request abandons a conversation under way */
	if (!auth_user_ok(s, user, &why)) {
		auth_record_failure(s, "keyboard-interactive", "", why);
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	p = config_find_principal(s->cfg, s->uname.person);
	if (!auth_method_allowed(s, p, GW_AUTH_KBDINT)) {
		auth_record_failure(s, "keyboard-interactive", "",
		    p ? "keyboard-interactive not allowed "
		        "at this step of auth_methods"
		      : "unknown person");
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	if ((s->pam = gwpam_start(
	         p->id, s->client_addr, s->cfg->login_grace_time, err, sizeof(err))) == NULL) {
		error_f("%s: PAM cannot start: %s", s->id, err);
		auth_record_failure(s, "keyboard-interactive", "", "PAM cannot start");
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	auth_pam_step(s);
}

/* A public key as the front reports it (type name and base64, as libssh exports it). */
static int
auth_front_pubkey(struct session *s, const struct frontreq *rq)
{
	ssh_key key = NULL;
	int rc;

	if (ssh_pki_import_pubkey_base64(rq->key, ssh_key_type_from_name(rq->text2), &key) !=
	    SSH_OK) {
		auth_record_failure(s, "publickey", "", "malformed key");
		return SSH_AUTH_DENIED;
	}
	rc = auth_pubkey(s, rq->text, key, rq->flag != 0);
	ssh_key_free(key);
	return rc;
}

void
auth_front_message(struct session *s, const struct frontreq *rq)
{
	if (s->phase != PHASE_AUTH) {
		auth_reply(s, SSH_AUTH_DENIED);
		return;
	}
	auth_show_banner(s); /* "none" is every client's first request: the moment for it */
	switch (rq->type) {
	case FM_AUTH_NONE:
		auth_reply(s, SSH_AUTH_DENIED);
		break;
	case FM_AUTH_PUBKEY:
		auth_pam_end(s); /* another request abandons a PAM conversation under way */
		auth_reply(s, auth_front_pubkey(s, rq));
		break;
	case FM_KBDINT_START:
		auth_kbdint_start(s, rq->text);
		break;
	case FM_KBDINT_ANSWERS:
		auth_kbdint_response(s, rq);
		break;
	}
}

unsigned
auth_methods_offered(const struct session *s)
{
	return (unsigned)auth_libssh_methods(config_auth_methods_offered(s->cfg));
}

void
auth_free(struct session *s)
{
	auth_pam_end(s);
	free(s->auth_key_b64);
	s->auth_key_b64 = NULL;
}
