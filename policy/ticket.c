/* ticket.c: approval tickets (R2): parsing the signed text, verifying signer and approver
 * scope, and the in-memory set the decision reads. No file I/O (ticketstore.c does that);
 * a ticket's text is hostile until its signature and signer are checked. */
#include "policy/policy.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* Work-order numbers are upper case: a ticket id is a name that may also hold A-Z. */
bool
ticket_id_is_valid(const char *id)
{
	char folded[GW_ID_MAX + 1];
	size_t i, n = strnlen(id, GW_ID_MAX + 1);

	if (n > GW_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		folded[i] = id[i] >= 'A' && id[i] <= 'Z' ? (char)(id[i] - 'A' + 'a') : id[i];
	folded[n] = '\0';
	return name_is_valid(folded);
}

const char *
ticket_status_name(enum ticket_status s)
{
	switch (s) {
	case TICKET_VALID:
		return "valid";
	case TICKET_UNSIGNED:
		return "unsigned";
	case TICKET_BAD_SIGNATURE:
		return "bad_signature";
	case TICKET_WRONG_NAMESPACE:
		return "wrong_namespace";
	case TICKET_UNSUPPORTED_SIGNATURE:
		return "unsupported_signature";
	case TICKET_UNKNOWN_SIGNER:
		return "unknown_signer";
	case TICKET_WRONG_SIGNER:
		return "wrong_signer";
	case TICKET_UNKNOWN_APPROVER:
		return "unknown_approver";
	case TICKET_OUT_OF_SCOPE:
		return "approver_out_of_scope";
	}
	return "unknown";
}

struct ticket_parser {
	const char *origin;
	char *errors;
	int nerrors;
};

static void __attribute__((format(printf, 3, 4)))
parser_error(struct ticket_parser *tp, const config_setting_t *s, const char *fmt, ...)
{
	char msg[300], *joined;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xasprintf(&joined, "%s%s:%d: %s\n", tp->errors ? tp->errors : "", tp->origin,
	    s ? config_setting_source_line(s) : 0, msg);
	free(tp->errors);
	tp->errors = joined;
	tp->nerrors++;
}

/* Whether s may be quoted in an error as it is (parser_string() already refused controls). */
static bool
text_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* A printable string setting, at most max bytes; NULL when absent (reported if required). */
static char *
parser_string(struct ticket_parser *tp, const config_setting_t *root, const char *key,
    bool required, size_t max)
{
	const config_setting_t *s = config_setting_get_member(root, key);
	const char *v;
	size_t i, n;

	if (s == NULL) {
		if (required)
			parser_error(tp, root, "missing required setting \"%s\"", key);
		return NULL;
	}
	if ((v = config_setting_get_string(s)) == NULL || *v == '\0' || (n = strlen(v)) > max) {
		parser_error(
		    tp, s, "\"%s\" must be a non-empty string of at most %zu bytes", key, max);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			parser_error(tp, s, "\"%s\" must not contain control characters", key);
			return NULL;
		}
	return xstrdup(v);
}

static time_t
parser_time(struct ticket_parser *tp, const config_setting_t *root, const char *key)
{
	const config_setting_t *s = config_setting_get_member(root, key);
	const char *v;
	time_t t;

	if (s == NULL) {
		parser_error(tp, root, "missing required setting \"%s\"", key);
		return 0;
	}
	if ((v = config_setting_get_string(s)) == NULL || time_parse_utc(v, &t) != 0) {
		parser_error(tp, s, "\"%s\" must be a UTC time like 2027-03-01T07:00:00Z", key);
		return 0;
	}
	return t;
}

static void
parser_targets(struct ticket_parser *tp, const config_setting_t *root, struct gw_ticket *t)
{
	const config_setting_t *s = config_setting_get_member(root, "targets");
	int i, n;

	if (s == NULL || !config_setting_is_array(s) || (n = config_setting_length(s)) == 0 ||
	    n > TICKET_TARGETS_MAX) {
		parser_error(tp, s ? s : root, "\"targets\" must be a list of 1 to %d target names",
		    TICKET_TARGETS_MAX);
		return;
	}
	t->targets = xcalloc((size_t)n, sizeof(*t->targets));
	for (i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(s, i);

		if (v == NULL || !name_is_valid(v)) {
			parser_error(tp, s, "target %d is not a valid target name", i + 1);
			continue;
		}
		t->targets[t->ntargets++] = xstrdup(v);
	}
}

static void
parser_check_keys(struct ticket_parser *tp, const config_setting_t *root)
{
	static const char *const known[] = { "id", "vendor", "person", "targets", "not_before",
		"not_after", "approver", "reason", "max_sessions", NULL };
	int i, n = config_setting_length(root);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, i);
		const char *const *k;

		for (k = known; *k != NULL; k++)
			if (strcmp(*k, config_setting_name(s)) == 0)
				break;
		if (*k == NULL)
			parser_error(tp, s, "unknown setting \"%s\"", config_setting_name(s));
	}
}

static void
parser_fields(struct ticket_parser *tp, const config_setting_t *root, struct gw_ticket *t)
{
	const config_setting_t *ms;
	char *vendor;

	parser_check_keys(tp, root);
	t->id = parser_string(tp, root, "id", true, GW_ID_MAX);
	if (t->id != NULL && !ticket_id_is_valid(t->id))
		parser_error(tp, config_setting_get_member(root, "id"),
		    "ticket id \"%s\" is not valid: at most %d letters, digits, '.', '_' and '-', "
		    "starting with a letter or digit",
		    text_is_ascii(t->id) ? t->id : "(non-ASCII)", GW_ID_MAX);
	vendor = parser_string(tp, root, "vendor", false, GW_ID_MAX);
	t->person = parser_string(tp, root, "person", false, GW_ID_MAX);
	if ((vendor == NULL) == (t->person == NULL))
		parser_error(tp, root, "a ticket names exactly one of \"vendor\" and \"person\"");
	if (vendor != NULL && (!name_is_valid(vendor) || strchr(vendor, '.') != NULL))
		parser_error(tp, config_setting_get_member(root, "vendor"), "bad vendor name");
	if (t->person != NULL) {
		const char *dot = strchr(t->person, '.');

		if (!name_is_valid(t->person) || dot == NULL || dot == t->person)
			parser_error(tp, config_setting_get_member(root, "person"),
			    "person must be VENDOR.NAME");
		else if (vendor == NULL)
			vendor = xstrndup(t->person, (size_t)(dot - t->person));
	}
	t->vendor = vendor;
	parser_targets(tp, root, t);
	t->not_before = parser_time(tp, root, "not_before");
	t->not_after = parser_time(tp, root, "not_after");
	if (t->not_after <= t->not_before)
		parser_error(tp, config_setting_get_member(root, "not_after"),
		    "not_after must be later than not_before");
	/* Optional: without it, any approver whose scope covers the ticket may sign. */
	t->approver = parser_string(tp, root, "approver", false, GW_ID_MAX);
	if (t->approver != NULL && !name_is_valid(t->approver))
		parser_error(tp, config_setting_get_member(root, "approver"), "bad approver name");
	t->reason = parser_string(tp, root, "reason", true, GW_REASON_MAX - 1);
	if ((ms = config_setting_get_member(root, "max_sessions")) != NULL) {
		long long v = config_setting_get_int64(ms);

		if ((config_setting_type(ms) != CONFIG_TYPE_INT &&
		        config_setting_type(ms) != CONFIG_TYPE_INT64) ||
		    v < 1 || v > 1000000)
			parser_error(
			    tp, ms, "\"max_sessions\" must be an integer from 1 to 1000000");
		else
			t->max_sessions = (unsigned)v;
	}
}

int
ticket_parse(
    const char *text, size_t len, const char *origin, struct gw_ticket **out, char **errors)
{
	struct ticket_parser tp = { .origin = origin };
	struct gw_ticket *t;
	config_t lc;
	char *buf;

	*out = NULL;
	*errors = NULL;
	/* libconfig 1.5 cannot switch @include off; a signed ticket must never read files. */
	if (len > TICKET_TEXT_MAX || memchr(text, '\0', len) != NULL ||
	    memmem(text, len, "@include", 8) != NULL) {
		xasprintf(errors, "%s:0: not a ticket (too long, NUL bytes or @include)\n", origin);
		return -1;
	}
	buf = xstrndup(text, len);
	config_init(&lc);
	if (!config_read_string(&lc, buf)) {
		xasprintf(
		    errors, "%s:%d: %s\n", origin, config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		free(buf);
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->status = TICKET_UNSIGNED;
	snprintf(t->problem, sizeof(t->problem), "ticket has no signature");
	parser_fields(&tp, config_root_setting(&lc), t);
	config_destroy(&lc);
	free(buf);
	if (tp.nerrors > 0) {
		*errors = tp.errors;
		ticket_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

static void __attribute__((format(printf, 3, 4)))
ticket_refuse(struct gw_ticket *t, enum ticket_status s, const char *fmt, ...)
{
	va_list ap;

	t->status = s;
	va_start(ap, fmt);
	vsnprintf(t->problem, sizeof(t->problem), fmt, ap);
	va_end(ap);
}

static const struct gw_approver *
approver_by_key(const struct gw_config *cfg, const unsigned char *blob, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->napprovers; i++)
		if (cfg->approvers[i].key_blob_len == len &&
		    memcmp(cfg->approvers[i].key_blob, blob, len) == 0)
			return &cfg->approvers[i];
	return NULL;
}

int
ticket_split_signatures(const char *sig, size_t siglen, size_t off[TICKET_SIGS_MAX],
    size_t blen[TICKET_SIGS_MAX], size_t *n)
{
	static const char begin[] = "-----BEGIN SSH SIGNATURE-----";
	static const char end[] = "-----END SSH SIGNATURE-----";
	const char *p = sig, *limit = sig + siglen, *b, *e;

	*n = 0;
	for (;;) {
		while (p < limit && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p == limit)
			return *n > 0 ? 0 : -1;
		b = p;
		if ((size_t)(limit - b) < sizeof(begin) - 1 ||
		    memcmp(b, begin, sizeof(begin) - 1) != 0 || *n == TICKET_SIGS_MAX)
			return -1;
		if ((e = memmem(b, (size_t)(limit - b), end, sizeof(end) - 1)) == NULL)
			return -1;
		p = e + sizeof(end) - 1;
		off[*n] = (size_t)(b - sig);
		blen[(*n)++] = (size_t)(p - b);
	}
}

static enum ticket_status
status_for_sshsig(enum sshsig_result r)
{
	switch (r) {
	case SSHSIG_OK:
		return TICKET_VALID;
	case SSHSIG_WRONG_NAMESPACE:
		return TICKET_WRONG_NAMESPACE;
	case SSHSIG_UNSUPPORTED:
		return TICKET_UNSUPPORTED_SIGNATURE;
	case SSHSIG_MALFORMED:
	case SSHSIG_BAD_SIGNATURE:
		break;
	}
	return TICKET_BAD_SIGNATURE;
}

/* Verifies block i of n over text and finds its approver; NULL after ticket_refuse(). The
 * first block's key fingerprint becomes t->signer. */
static const struct gw_approver *
ticket_verify_block(struct gw_ticket *t, const char *text, size_t len, const char *block,
    size_t blen, size_t i, size_t n, const struct gw_config *cfg, char fp[GW_FP_LEN])
{
	const struct gw_approver *a;
	enum sshsig_result r;
	unsigned char *blob;
	size_t bloblen;
	char which[64] = ""; /* two size_t in decimal fit */

	/* A lone signature keeps the messages of single-approver tickets. */
	if (n > 1)
		snprintf(which, sizeof(which), " (signature %zu of %zu)", i + 1, n);
	r = sshsig_verify(block, blen, text, len, TICKET_NAMESPACE, &blob, &bloblen);
	if (r != SSHSIG_OK) {
		ticket_refuse(t, status_for_sshsig(r), "ticket %s%s: %s", t->id, which,
		    sshsig_result_text(r));
		return NULL;
	}
	sshkey_fingerprint(blob, bloblen, fp);
	if (i == 0)
		snprintf(t->signer, sizeof(t->signer), "%s", fp);
	a = approver_by_key(cfg, blob, bloblen);
	free(blob);
	if (a == NULL)
		ticket_refuse(t, TICKET_UNKNOWN_SIGNER,
		    "ticket %s was signed by key %s, which is no approver's key%s", t->id, fp,
		    which);
	return a;
}

static void
ticket_clear_approvers(struct gw_ticket *t)
{
	size_t i;

	for (i = 0; i < t->napprovers; i++)
		free(t->approvers[i]);
	free(t->approvers);
	free(t->approver_fps);
	t->approvers = NULL;
	t->approver_fps = NULL;
	t->napprovers = 0;
}

void
ticket_verify(struct gw_ticket *t, const char *text, size_t len, const char *sig, size_t siglen,
    const struct gw_config *cfg)
{
	const struct gw_approver *signers[TICKET_SIGS_MAX] = { NULL }, *named = NULL, *a;
	char fps[TICKET_SIGS_MAX][GW_FP_LEN];
	size_t off[TICKET_SIGS_MAX], blen[TICKET_SIGS_MAX], nblocks, nsigners = 0, i, j;

	t->signer[0] = '\0';
	ticket_clear_approvers(t);
	if (sig == NULL) {
		ticket_refuse(t, TICKET_UNSIGNED, "ticket %s has no signature", t->id);
		return;
	}
	if (ticket_split_signatures(sig, siglen, off, blen, &nblocks) != 0) {
		ticket_refuse(t, TICKET_BAD_SIGNATURE,
		    "ticket %s: the signature file is not 1 to %d armored SSH signatures", t->id,
		    TICKET_SIGS_MAX);
		return;
	}
	/* Every block must verify: a bad one in the file is tampering, never ignored. */
	for (i = 0; i < nblocks; i++) {
		if ((a = ticket_verify_block(t, text, len, sig + off[i], blen[i], i, nblocks, cfg,
		         fps[nsigners])) == NULL)
			return;
		for (j = 0; j < nsigners && signers[j] != a; j++)
			;
		if (j == nsigners) /* the same approver again is still one approval */
			signers[nsigners++] = a;
	}
	if (t->approver != NULL && (named = config_find_approver(cfg, t->approver)) == NULL) {
		ticket_refuse(t, TICKET_UNKNOWN_APPROVER,
		    "ticket %s names approver %s, who is not configured (signed by approver %s)",
		    t->id, t->approver, signers[0]->name);
		return;
	}
	for (j = 0; named != NULL && j < nsigners && signers[j] != named; j++)
		;
	if (named != NULL && j == nsigners) {
		ticket_refuse(t, TICKET_WRONG_SIGNER,
		    "ticket %s names approver %s but was signed by approver %s", t->id, named->name,
		    signers[0]->name);
		return;
	}
	for (j = 0; j < nsigners; j++)
		for (i = 0; i < t->ntargets; i++)
			if (!approver_may_approve(signers[j], t->vendor, t->targets[i])) {
				ticket_refuse(t, TICKET_OUT_OF_SCOPE,
				    "approver %s may not approve vendor %s on target %s (ticket "
				    "%s)",
				    signers[j]->name, t->vendor, t->targets[i], t->id);
				return;
			}
	t->approvers = xcalloc(nsigners, sizeof(*t->approvers));
	t->approver_fps = xcalloc(nsigners, sizeof(*t->approver_fps));
	for (j = 0; j < nsigners; j++) {
		t->approvers[j] = xstrdup(signers[j]->name);
		snprintf(t->approver_fps[j], GW_FP_LEN, "%s", fps[j]);
	}
	t->napprovers = nsigners;
	t->status = TICKET_VALID;
	t->problem[0] = '\0';
}

void
ticket_free(struct gw_ticket *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ntargets; i++)
		free(t->targets[i]);
	free(t->targets);
	free(t->id);
	free(t->vendor);
	free(t->person);
	free(t->approver);
	ticket_clear_approvers(t);
	free(t->reason);
	free(t);
}

bool
ticket_names_target(const struct gw_ticket *t, const char *target)
{
	size_t i;

	for (i = 0; i < t->ntargets; i++)
		if (strcmp(t->targets[i], target) == 0)
			return true;
	return false;
}

bool
ticket_covers(const struct gw_ticket *t, const struct gw_person *p, const char *target)
{
	if (t->person != NULL ? strcmp(t->person, p->id) != 0
	                      : strcmp(t->vendor, p->vendor->id) != 0)
		return false;
	return ticket_names_target(t, target);
}

struct ticket_set *
ticketset_new(void)
{
	return xcalloc(1, sizeof(struct ticket_set));
}

void
ticketset_free(struct ticket_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->ntickets; i++)
		ticket_free(set->tickets[i]);
	free(set->tickets);
	for (i = 0; i < set->nrevocations; i++) {
		free(set->revocations[i].id);
		free(set->revocations[i].reason);
	}
	free(set->revocations);
	free(set);
}

void
ticketset_add_ticket(struct ticket_set *set, struct gw_ticket *t)
{
	set->tickets = xreallocarray(set->tickets, set->ntickets + 1, sizeof(*set->tickets));
	set->tickets[set->ntickets++] = t;
}

void
ticketset_add_revocation(struct ticket_set *set, const char *id, time_t at, const char *reason)
{
	struct gw_revocation *r;

	set->revocations =
	    xreallocarray(set->revocations, set->nrevocations + 1, sizeof(*set->revocations));
	r = &set->revocations[set->nrevocations++];
	r->id = xstrdup(id);
	r->at = at;
	r->reason = xstrdup(reason);
}

const struct gw_revocation *
ticketset_find_revocation(const struct ticket_set *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->nrevocations; i++)
		if (strcmp(set->revocations[i].id, id) == 0)
			return &set->revocations[i];
	return NULL;
}

struct gw_ticket *
ticketset_find_ticket(const struct ticket_set *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->ntickets; i++)
		if (strcmp(set->tickets[i]->id, id) == 0)
			return set->tickets[i];
	return NULL;
}
