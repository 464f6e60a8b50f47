/* username.c: the SSH user name "PERSON+TARGET" that lets stock clients pick a target.
 * Treats the name as hostile: bounded, a closed character set, never echoed unchecked. */
#include "policy/policy.h"

#include <string.h>

bool
name_is_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > GW_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (alnum)
			continue;
		if (i == 0 || (c != '.' && c != '_' && c != '-'))
			return false;
	}
	return true;
}

int
username_parse(const char *name, struct gw_username *out, const char **why)
{
	const char *plus;
	size_t plen, n = strnlen(name, GW_USERNAME_MAX + 1);

	memset(out, 0, sizeof(*out));
	if (n > GW_USERNAME_MAX) {
		*why = "user name too long";
		return -1;
	}
	plus = strchr(name, '+');
	plen = plus ? (size_t)(plus - name) : n;
	if (plen == 0 || plen > GW_ID_MAX) {
		*why = "user name must be PERSON+TARGET";
		return -1;
	}
	memcpy(out->person, name, plen);
	if (!name_is_valid(out->person)) {
		*why =
		    "user name must be PERSON+TARGET (lower-case letters, digits, '.', '_', '-')";
		return -1;
	}
	if (plus == NULL)
		return 0;
	if (n - plen - 1 == 0 || n - plen - 1 > GW_ID_MAX) {
		*why = "target name missing or too long after '+'";
		return -1;
	}
	memcpy(out->target, plus + 1, n - plen - 1);
	if (!name_is_valid(out->target)) {
		*why = "target name has characters other than lower-case letters, digits, '.', "
		       "'_', '-'";
		return -1;
	}
	return 0;
}
