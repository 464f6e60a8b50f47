/* auth.c: vendor authentication: a person's public key, chosen by "PERSON+TARGET".
 * Never tells the client whether a person exists; the audit log gets the precise reason. */
#include "gatewayd/gatewayd.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

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
	const struct gw_person *p = config_find_person(cfg, person);
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
	ssh_string banner;
	char line[256];

	snprintf(line, sizeof(line), "gatewayd: %s\r\n", text);
	if ((banner = ssh_string_from_char(line)) == NULL)
		return;
	ssh_send_issue_banner(s->vendor, banner);
	ssh_string_free(banner);
}

static void
auth_record_failure(struct session *s, const char *key_fp, const char *reason)
{
	s->auth_failures++;
	session_audit(s, "auth_failure",
	    json_pack("{s:s, s:s, s:s, s:i}", "user", s->username, "key_fp", key_fp, "reason",
		reason, "attempt", s->auth_failures));
	guard_session_failure(s);
	if (s->auth_failures >= s->cfg->max_auth_tries) {
		info_f("%s: too many authentication failures from %s", s->id, s->client_addr);
		ssh_disconnect(s->vendor);
	}
}

static int
auth_pubkey_cb(ssh_session vendor, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *userdata)
{
	struct session *s = userdata;
	const struct gw_person *p;
	const char *why = NULL;
	char fp[128];
	bool locked;

	if (s->phase != PHASE_AUTH || signature_state == SSH_PUBLICKEY_STATE_WRONG)
		return SSH_AUTH_DENIED;
	snprintf(s->username, sizeof(s->username), "%s", user);
	if (strlen(user) > GW_USERNAME_MAX || username_parse(user, &s->uname, &why) != 0) {
		memset(&s->uname, 0, sizeof(s->uname)); /* no person: the source alone counts */
		if (signature_state == SSH_PUBLICKEY_STATE_NONE)
			auth_tell_banner(s, why ? why : "malformed user name");
		else
			auth_record_failure(s, "", why ? why : "malformed user name");
		return SSH_AUTH_DENIED;
	}
	auth_fingerprint(pubkey, fp, sizeof(fp));
	/* A locked-out source or person fails exactly like a wrong key (no oracle). */
	locked = guard_session_locked(s);
	p = locked ? NULL : auth_find_key(s->cfg, s->uname.person, pubkey);
	if (p == NULL) {
		/* A refused key query is a failed attempt too: stock clients only sign keys the
		 * server accepted, so a wrong key is never seen with a signature. */
		auth_record_failure(s, fp,
		    locked ? "locked out"
			   : config_find_person(s->cfg, s->uname.person) ? "key not authorized for person"
									  : "unknown person");
		return SSH_AUTH_DENIED;
	}
	if (signature_state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;
	/* SSH_PUBLICKEY_STATE_VALID: libssh checked the signature. */
	s->person = p;
	snprintf(s->key_fp, sizeof(s->key_fp), "%s", fp);
	session_audit(s, "auth_success",
	    json_pack("{s:s, s:s, s:s, s:s}", "person", p->id, "vendor", p->vendor->id, "key_fp", fp,
		"method", "publickey"));
	s->phase = PHASE_DECIDE;
	(void)vendor;
	return SSH_AUTH_SUCCESS;
}

void
auth_install(struct session *s)
{
	s->server_cb.auth_pubkey_function = auth_pubkey_cb;
	ssh_set_auth_methods(s->vendor, SSH_AUTH_METHOD_PUBLICKEY);
}
