/* hostkey.c: the gateway's SSH host keys; generated on first start like sshd-keygen, read
 * by the listener into the running configuration snapshot at start and at each reload.
 * Private keys are created 0600; their texts are wiped when the snapshot is freed. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

static enum ssh_keytypes_e
hostkey_type_for(const char *path)
{
	if (strstr(path, "rsa") != NULL)
		return SSH_KEYTYPE_RSA;
	if (strstr(path, "ecdsa") != NULL)
		return SSH_KEYTYPE_ECDSA_P256;
	return SSH_KEYTYPE_ED25519;
}

int
hostkey_ensure(const char *path)
{
	enum ssh_keytypes_e type = hostkey_type_for(path);
	ssh_key key = NULL;
	mode_t old;
	int rc;

	if (access(path, F_OK) == 0)
		return 0;
	if (errno != ENOENT) {
		error_f("host key %s: %s", path, strerror(errno));
		return -1;
	}
	if (ssh_pki_generate(type, type == SSH_KEYTYPE_RSA ? 3072 : 0, &key) != SSH_OK) {
		error_f("cannot generate host key %s", path);
		return -1;
	}
	old = umask(077);
	rc = ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path);
	umask(old);
	ssh_key_free(key);
	if (rc != SSH_OK) {
		error_f("cannot write host key %s", path);
		return -1;
	}
	info_f("generated host key %s", path);
	return 0;
}

/* A private key file of at most this many bytes (RSA 16384 in PEM is about 13 kB). */
#define HOSTKEY_FILE_MAX 65536

int
hostkeys_load(const struct gw_config *cfg, struct hostkeys **out, char *err, size_t errlen)
{
	struct hostkeys *hk = xcalloc(1, sizeof(*hk));
	ssh_key key = NULL;
	size_t i, len;
	char *text;

	*out = NULL;
	hk->path = xcalloc(cfg->nhost_keys, sizeof(*hk->path));
	hk->pem = xcalloc(cfg->nhost_keys, sizeof(*hk->pem));
	for (i = 0; i < cfg->nhost_keys; i++) {
		if (hostkey_ensure(cfg->host_keys[i]) != 0) {
			snprintf(err, errlen, "host key %s cannot be created", cfg->host_keys[i]);
			goto fail;
		}
		if (file_read_bounded(cfg->host_keys[i], HOSTKEY_FILE_MAX, &text, &len) != 0) {
			snprintf(
			    err, errlen, "host key %s: %s", cfg->host_keys[i], strerror(errno));
			goto fail;
		}
		hk->path[hk->n] = xstrdup(cfg->host_keys[i]);
		hk->pem[hk->n++] = text;
		/* Parsed once here, so that a key that cannot be used refuses the start or the
		 * reload instead of every connection. */
		if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &key) != SSH_OK) {
			snprintf(err, errlen, "host key %s cannot be read", cfg->host_keys[i]);
			goto fail;
		}
		ssh_key_free(key);
		key = NULL;
	}
	*out = hk;
	return 0;
fail:
	hostkeys_free(hk);
	return -1;
}

int
hostkeys_apply_bind(const struct hostkeys *hk, ssh_bind bind)
{
	size_t i;

	for (i = 0; i < hk->n; i++) {
		ssh_key key = NULL;

		if (ssh_pki_import_privkey_base64(hk->pem[i], NULL, NULL, NULL, &key) != SSH_OK) {
			error_f("cannot read host key %s", hk->path[i]);
			return -1;
		}
		/* The bind takes ownership of the imported key. */
		if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
			error_f("cannot use host key %s: %s", hk->path[i], ssh_get_error(bind));
			ssh_key_free(key);
			return -1;
		}
	}
	return 0;
}
