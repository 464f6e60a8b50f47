/* authmethods.c: required authentication methods in the style of OpenSSH's
 * AuthenticationMethods: parsing the list and following a login through its chains.
 * Pure functions: no I/O; the daemon keeps the methods done so far. */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned method;
} auth_method_names[] = {
	{ "publickey", GW_AUTH_PUBLICKEY },
	{ "keyboard-interactive", GW_AUTH_KBDINT },
};

const char *
auth_method_name(unsigned method)
{
	size_t i;

	for (i = 0; i < sizeof(auth_method_names) / sizeof(auth_method_names[0]); i++)
		if (auth_method_names[i].method == method)
			return auth_method_names[i].name;
	return "unknown";
}

int
auth_methods_parse(const char *text, struct gw_auth_methods *out, char *why, size_t whylen)
{
	const char *p = text, *end;
	size_t len, i, c;

	memset(out, 0, sizeof(*out));
	for (;;) {
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		if (out->nchains == GW_AUTH_CHAINS_MAX) {
			snprintf(why, whylen, "more than %d alternatives", GW_AUTH_CHAINS_MAX);
			return -1;
		}
		c = out->nchains++;
		/* One chain: names separated by commas, up to the next space. */
		for (;;) {
			end = p + strcspn(p, ", ");
			len = (size_t)(end - p);
			for (i = 0; i < sizeof(auth_method_names) / sizeof(auth_method_names[0]);
			     i++)
				if (strlen(auth_method_names[i].name) == len &&
				    strncmp(auth_method_names[i].name, p, len) == 0)
					break;
			if (i == sizeof(auth_method_names) / sizeof(auth_method_names[0])) {
				snprintf(why, whylen,
				    "unknown method \"%.*s\" (publickey, "
				    "keyboard-interactive)",
				    (int)(len > 40 ? 40 : len), p);
				return -1;
			}
			if (out->len[c] == GW_AUTH_CHAIN_MAX) {
				snprintf(why, whylen, "more than %d methods in one chain",
				    GW_AUTH_CHAIN_MAX);
				return -1;
			}
			out->chain[c][out->len[c]++] = auth_method_names[i].method;
			if (*end != ',')
				break;
			p = end + 1;
		}
		p = end;
	}
	if (out->nchains == 0) {
		snprintf(why, whylen, "no methods given");
		return -1;
	}
	return 0;
}

/* Whether chain c begins with the methods done, in that order. */
static bool
auth_chain_follows(const struct gw_auth_methods *m, size_t c, const unsigned *done, size_t ndone)
{
	size_t i;

	if (ndone > m->len[c])
		return false;
	for (i = 0; i < ndone; i++)
		if (m->chain[c][i] != done[i])
			return false;
	return true;
}

unsigned
auth_methods_next(const struct gw_auth_methods *m, const unsigned *done, size_t ndone)
{
	unsigned next = 0;
	size_t c;

	for (c = 0; c < m->nchains; c++)
		if (auth_chain_follows(m, c, done, ndone) && m->len[c] > ndone)
			next |= m->chain[c][ndone];
	return next;
}

bool
auth_methods_satisfied(const struct gw_auth_methods *m, const unsigned *done, size_t ndone)
{
	size_t c;

	for (c = 0; c < m->nchains; c++)
		if (m->len[c] == ndone && auth_chain_follows(m, c, done, ndone))
			return true;
	return false;
}
