/* sshcert.c: OpenSSH user certificates (PROTOCOL.certkeys): parses the blob a vendor offers,
 * checks the CA signature, validity, principals, critical options and revocation list text.
 * A parser of hostile bytes: every length is bounded before use; no I/O, no clock, no log. */
#include "policy/policy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* The certificate types OpenSSH issues and the plain key type each certifies. The fields
 * between nonce and serial are the plain key's own fields, copied as they are. */
static const struct cert_type {
	const char *cert;
	const char *plain;
	int nfields; /* strings (mpints are strings on the wire) making up the key */
} cert_types[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", 1 },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa", 2 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", 2 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", 2 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", 2 },
};

static void __attribute__((format(printf, 3, 4)))
cert_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A string field as text: bounded, without NUL bytes. */
static char *
cert_text(const unsigned char *s, size_t len)
{
	if (len > SSHCERT_TEXT_MAX || memchr(s, '\0', len) != NULL)
		return NULL;
	return xstrndup((const char *)s, len);
}

static unsigned char *
cert_copy(const unsigned char *s, size_t len)
{
	unsigned char *p = xmalloc(len > 0 ? len : 1);

	memcpy(p, s, len);
	return p;
}

static int
cert_principals(struct sshcert *c, const unsigned char *s, size_t len, char *err, size_t errlen)
{
	struct wire w = { s, len };
	const unsigned char *p;
	size_t plen;

	while (w.left > 0) {
		if (c->nprincipals == SSHCERT_PRINCIPALS_MAX) {
			cert_err(err, errlen, "more than %d principals", SSHCERT_PRINCIPALS_MAX);
			return -1;
		}
		if (wire_string(&w, &p, &plen) != 0) {
			cert_err(err, errlen, "malformed principals");
			return -1;
		}
		c->principals = xreallocarray(c->principals, c->nprincipals + 1, sizeof(char *));
		if ((c->principals[c->nprincipals] = cert_text(p, plen)) == NULL) {
			cert_err(err, errlen, "principal too long or with NUL bytes");
			return -1;
		}
		c->nprincipals++;
	}
	return 0;
}

/* Critical options: (string name, string data) pairs, data a string holding the value.
 * Unknown names are kept so that the check can refuse the certificate (never ignored). */
static int
cert_critical(struct sshcert *c, const unsigned char *s, size_t len, char *err, size_t errlen)
{
	struct wire w = { s, len }, dw;
	const unsigned char *name, *data, *v;
	size_t nlen, dlen, vlen;
	char **slot;

	while (w.left > 0) {
		if (wire_string(&w, &name, &nlen) != 0 || wire_string(&w, &data, &dlen) != 0) {
			cert_err(err, errlen, "malformed critical options");
			return -1;
		}
		if (wire_equals(name, nlen, "force-command"))
			slot = &c->force_command;
		else if (wire_equals(name, nlen, "source-address"))
			slot = &c->source_address;
		else
			slot = &c->unknown_critical;
		if (slot == &c->unknown_critical) {
			if (c->unknown_critical == NULL &&
			    (c->unknown_critical = cert_text(name, nlen)) == NULL) {
				cert_err(err, errlen, "malformed critical option name");
				return -1;
			}
			continue;
		}
		dw.p = data;
		dw.left = dlen;
		if (*slot != NULL || wire_string(&dw, &v, &vlen) != 0 || dw.left != 0 ||
		    (*slot = cert_text(v, vlen)) == NULL) {
			cert_err(err, errlen, "malformed or repeated critical option");
			return -1;
		}
	}
	return 0;
}

/* Extensions (permit-pty and so on) grant, never restrict: only their framing is checked. */
static int
cert_extensions(const unsigned char *s, size_t len)
{
	struct wire w = { s, len };
	const unsigned char *x;
	size_t xlen;

	while (w.left > 0)
		if (wire_string(&w, &x, &xlen) != 0 || wire_string(&w, &x, &xlen) != 0)
			return -1;
	return 0;
}

int
sshcert_parse(const unsigned char *blob, size_t len, struct sshcert *out, char *err, size_t errlen)
{
	const struct cert_type *ct = NULL;
	const unsigned char *type, *nonce, *f, *keystart, *keyid, *princ, *crit, *ext, *res, *ca,
	    *sig;
	size_t tlen, nlen, flen, kidlen, plen, clen, elen, rlen, calen, siglen, signed_len, i,
	    plainlen;
	struct wire w = { blob, len };
	struct sshcert c;
	unsigned char *p;
	int k;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (len > SSHCERT_BLOB_MAX) {
		cert_err(err, errlen, "certificate larger than %d bytes", SSHCERT_BLOB_MAX);
		return -1;
	}
	if (wire_string(&w, &type, &tlen) != 0) {
		cert_err(err, errlen, "truncated certificate");
		return -1;
	}
	for (i = 0; i < sizeof(cert_types) / sizeof(cert_types[0]); i++)
		if (wire_equals(type, tlen, cert_types[i].cert))
			ct = &cert_types[i];
	if (ct == NULL) {
		cert_err(err, errlen, "not a supported certificate type");
		return -1;
	}
	snprintf(c.key_type, sizeof(c.key_type), "%s", ct->cert);
	if (wire_string(&w, &nonce, &nlen) != 0)
		goto truncated;
	keystart = w.p;
	for (k = 0; k < ct->nfields; k++)
		if (wire_string(&w, &f, &flen) != 0)
			goto truncated;
	/* The plain key blob: string plain type, then the key fields as they were. */
	plainlen = 4 + strlen(ct->plain) + (size_t)(w.p - keystart);
	c.key = p = xmalloc(plainlen);
	c.key_len = plainlen;
	p[0] = p[1] = 0;
	p[2] = (unsigned char)(strlen(ct->plain) >> 8);
	p[3] = (unsigned char)strlen(ct->plain);
	memcpy(p + 4, ct->plain, strlen(ct->plain));
	memcpy(p + 4 + strlen(ct->plain), keystart, (size_t)(w.p - keystart));
	if (wire_u64(&w, &c.serial) != 0 || wire_u32(&w, &c.type) != 0 ||
	    wire_string(&w, &keyid, &kidlen) != 0 || wire_string(&w, &princ, &plen) != 0 ||
	    wire_u64(&w, &c.valid_after) != 0 || wire_u64(&w, &c.valid_before) != 0 ||
	    wire_string(&w, &crit, &clen) != 0 || wire_string(&w, &ext, &elen) != 0 ||
	    wire_string(&w, &res, &rlen) != 0 || wire_string(&w, &ca, &calen) != 0)
		goto truncated;
	signed_len = (size_t)(w.p - blob);
	if (wire_string(&w, &sig, &siglen) != 0)
		goto truncated;
	if (w.left != 0) {
		cert_err(err, errlen, "trailing bytes after the signature");
		goto fail;
	}
	if ((c.key_id = cert_text(keyid, kidlen)) == NULL) {
		cert_err(err, errlen, "key id too long or with NUL bytes");
		goto fail;
	}
	if (cert_principals(&c, princ, plen, err, errlen) != 0 ||
	    cert_critical(&c, crit, clen, err, errlen) != 0)
		goto fail;
	if (cert_extensions(ext, elen) != 0) {
		cert_err(err, errlen, "malformed extensions");
		goto fail;
	}
	if (calen == 0) {
		cert_err(err, errlen, "no signature key");
		goto fail;
	}
	c.ca_key = cert_copy(ca, calen);
	c.ca_key_len = calen;
	c.signature_valid = sshkey_verify_blob(ca, calen, sig, siglen, blob, signed_len);
	*out = c;
	return 0;
truncated:
	cert_err(err, errlen, "truncated certificate");
fail:
	sshcert_free(&c);
	return -1;
}

void
sshcert_free(struct sshcert *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->key_id);
	for (i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	free(c->force_command);
	free(c->source_address);
	free(c->unknown_critical);
	free(c->key);
	free(c->ca_key);
	memset(c, 0, sizeof(*c));
}

/* One "ADDR[/BITS]" entry; -1 when malformed. */
static int
cert_cidr_match(const char *entry, size_t len, const unsigned char *addr, int family)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned char net[16];
	int fam, max, bits, i;
	long v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, net) == 1)
		fam = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, net) == 1)
		fam = AF_INET6, max = 128;
	else
		return -1;
	bits = max;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9' || (v = strtol(slash, &end, 10)) < 0 || v > max ||
		    *end != '\0')
			return -1;
		bits = (int)v;
	}
	if (fam != family)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (net[i] != addr[i])
			return 0;
	if (bits % 8 != 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));

		if ((net[i] & mask) != (addr[i] & mask))
			return 0;
	}
	return 1;
}

int
sshcert_source_allows(const char *list, const char *addr)
{
	unsigned char a[16];
	const char *e, *comma;
	int family, m, found = 0;

	if (inet_pton(AF_INET, addr, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		family = AF_INET6;
	else
		family = AF_UNSPEC; /* unknown peer: nothing matches */
	for (e = list;; e = comma + 1) {
		comma = strchr(e, ',');
		m = cert_cidr_match(e, comma ? (size_t)(comma - e) : strlen(e), a, family);
		if (m < 0)
			return -1;
		found |= m;
		if (comma == NULL)
			break;
	}
	return found;
}

int
sshcert_check(const struct sshcert *c, const char *person, const char *addr, time_t now, char *why,
    size_t whylen)
{
	char t[GW_TIME_UTC_LEN];
	size_t i;
	int m;

	if (!c->signature_valid) {
		cert_err(why, whylen, "certificate signature does not verify");
		return -1;
	}
	if (c->type != SSHCERT_TYPE_USER) {
		cert_err(why, whylen, "not a user certificate");
		return -1;
	}
	for (i = 0; i < c->nprincipals; i++)
		if (strcmp(c->principals[i], person) == 0)
			break;
	/* An empty list means "any principal" to OpenSSH; here the person must be named. */
	if (i == c->nprincipals) {
		cert_err(why, whylen, "certificate principals do not name %s", person);
		return -1;
	}
	if (now < 0 || (uint64_t)now < c->valid_after) {
		time_format_utc(
		    (time_t)(c->valid_after > INT64_MAX ? INT64_MAX : c->valid_after), t);
		cert_err(why, whylen, "certificate not yet valid (from %s)", t);
		return -1;
	}
	if ((uint64_t)now >= c->valid_before) {
		time_format_utc(
		    (time_t)(c->valid_before > INT64_MAX ? INT64_MAX : c->valid_before), t);
		cert_err(why, whylen, "certificate expired (at %s)", t);
		return -1;
	}
	if (c->unknown_critical != NULL) {
		cert_err(why, whylen, "unknown critical option \"%.64s\"", c->unknown_critical);
		return -1;
	}
	/* The gateway decides what runs on the target: a forced command cannot be honoured. */
	if (c->force_command != NULL) {
		cert_err(why, whylen, "certificate has force-command, which the gateway refuses");
		return -1;
	}
	if (c->source_address != NULL) {
		if ((m = sshcert_source_allows(c->source_address, addr)) < 0) {
			cert_err(why, whylen, "malformed source-address option");
			return -1;
		}
		if (m == 0) {
			cert_err(why, whylen, "source-address does not allow %s", addr);
			return -1;
		}
	}
	return 0;
}

int
sshcert_revoked(const char *list, const struct sshcert *c, char *what, size_t whatlen)
{
	const char *line = list, *nl, *v;
	char buf[SSHCERT_TEXT_MAX + 32], fp[GW_FP_LEN], *end;
	unsigned long long serial;
	size_t len;
	int lineno = 0;

	sshkey_fingerprint(c->key, c->key_len, fp);
	for (; *line != '\0'; line = nl + 1) {
		lineno++;
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len >= sizeof(buf)) {
			cert_err(what, whatlen, "line %d too long", lineno);
			return -1;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		while (len > 0 &&
		    (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			buf[--len] = '\0';
		if (buf[0] == '\0' || buf[0] == '#') {
			if (nl == NULL)
				break;
			continue;
		}
		if (strncmp(buf, "serial ", 7) == 0) {
			v = buf + 7;
			if (*v < '0' || *v > '9' ||
			    (serial = strtoull(v, &end, 10), *end != '\0')) {
				cert_err(what, whatlen, "line %d: bad serial", lineno);
				return -1;
			}
			if (serial == c->serial)
				goto revoked;
		} else if (strncmp(buf, "key-id ", 7) == 0) {
			if (strcmp(buf + 7, c->key_id) == 0)
				goto revoked;
		} else if (strncmp(buf, "fingerprint ", 12) == 0) {
			if (!fingerprint_is_valid(buf + 12)) {
				cert_err(what, whatlen, "line %d: bad fingerprint", lineno);
				return -1;
			}
			if (strcmp(buf + 12, fp) == 0)
				goto revoked;
		} else {
			cert_err(what, whatlen, "line %d: expected serial, key-id or fingerprint",
			    lineno);
			return -1;
		}
		if (nl == NULL)
			break;
	}
	return 0;
revoked:
	cert_err(what, whatlen, "line %d: %.200s", lineno, buf);
	return 1;
}
