/* hostkey.c: the gateway's SSH host keys; generated on first start like sshd-keygen.
 * Private keys are created 0600 and never leave this process's memory. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

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

int
hostkey_load_all(const struct gw_config *cfg, ssh_bind bind)
{
	size_t i;

	for (i = 0; i < cfg->nhost_keys; i++) {
		ssh_key key = NULL;

		if (hostkey_ensure(cfg->host_keys[i]) != 0)
			return -1;
		if (ssh_pki_import_privkey_file(cfg->host_keys[i], NULL, NULL, NULL, &key) !=
		    SSH_OK) {
			error_f("cannot read host key %s", cfg->host_keys[i]);
			return -1;
		}
		/* The bind takes ownership of the imported key. */
		if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
			error_f(
			    "cannot use host key %s: %s", cfg->host_keys[i], ssh_get_error(bind));
			ssh_key_free(key);
			return -1;
		}
	}
	return 0;
}
