/* target.c: the client leg from the gateway to an OT target, with the gateway's own
 * credential and a pinned host key. The credential never reaches the vendor or a log. */
#include "gatewayd/gatewayd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define TARGET_PASSWORD_MAX 1024
/* The gateway's own leg offers AES-GCM first (a target's `ciphers` overrides it): approved
 * under FIPS 140, which many plants require; untouched by the Terrapin prefix truncation
 * (CVE-2023-48795) even against a target without strict key exchange; and done by OpenSSL
 * with AES-NI on both ends, where OpenSSH's sshd computes chacha20-poly1305's MAC in plain
 * C: bulk output through the gateway ran 1.1-1.2 times as fast (bench/relay). ChaCha20 and
 * CTR stay for targets without GCM. */
#define TARGET_CIPHERS                                                                             \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,"  \
	"aes192-ctr,aes128-ctr"

static int
target_check_hostkey(ssh_session t, const struct gw_target *tc, char *seen, size_t seenlen)
{
	unsigned char *hash = NULL;
	ssh_key key = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	int ok = -1;

	seen[0] = '\0';
	if (ssh_get_server_publickey(t, &key) != SSH_OK)
		return -1;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0 &&
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL) {
		snprintf(seen, seenlen, "%s", fp);
		ok = fingerprint_matches(tc, fp) ? 0 : -1;
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return ok;
}

/* Reads the gateway-held password; the buffer is wiped by the caller. */
static int
target_read_password(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int
target_authenticate(ssh_session t, const struct gw_target *tc)
{
	char password[TARGET_PASSWORD_MAX];
	ssh_key key = NULL;
	int rc;

	if (tc->key_file != NULL) {
		if (ssh_pki_import_privkey_file(tc->key_file, NULL, NULL, NULL, &key) != SSH_OK) {
			error_f("target %s: cannot read key_file %s", tc->name, tc->key_file);
			return -1;
		}
		rc = ssh_userauth_publickey(t, NULL, key);
		ssh_key_free(key);
		return rc == SSH_AUTH_SUCCESS ? 0 : -1;
	}
	if (target_read_password(tc->password_file, password, sizeof(password)) != 0) {
		error_f("target %s: cannot read password_file %s", tc->name, tc->password_file);
		explicit_bzero(password, sizeof(password));
		return -1;
	}
	rc = ssh_userauth_password(t, NULL, password);
	explicit_bzero(password, sizeof(password));
	return rc == SSH_AUTH_SUCCESS ? 0 : -1;
}

ssh_session
target_connect(const struct gw_target *tc, char *why, size_t whylen, char *detail, size_t detaillen)
{
	long timeout = tc->connect_timeout;
	int no = 0, one = 1, port = tc->port;
	const char *ciphers = tc->ciphers != NULL ? tc->ciphers : TARGET_CIPHERS;
	char seen[128];
	ssh_session t;

	if ((t = ssh_new()) == NULL) {
		snprintf(why, whylen, "gateway error");
		snprintf(detail, detaillen, "ssh_new failed");
		return NULL;
	}
	/* The gateway's policy is the only configuration: no ~/.ssh/config, no known_hosts. */
	ssh_options_set(t, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(t, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(t, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	ssh_options_set(t, SSH_OPTIONS_HOST, tc->address);
	ssh_options_set(t, SSH_OPTIONS_PORT, &port);
	ssh_options_set(t, SSH_OPTIONS_USER, tc->user);
	ssh_options_set(t, SSH_OPTIONS_TIMEOUT, &timeout);
	/* Without it Nagle holds each small SFTP request until the target acknowledges the
	 * last one (a delayed ACK): downloads ran at half the speed of ProxyJump. */
	ssh_options_set(t, SSH_OPTIONS_NODELAY, &one);
	if (tc->hostkey_algorithms != NULL &&
	    ssh_options_set(t, SSH_OPTIONS_HOSTKEYS, tc->hostkey_algorithms) != SSH_OK)
		goto config_error;
	if (tc->kex_algorithms != NULL &&
	    ssh_options_set(t, SSH_OPTIONS_KEY_EXCHANGE, tc->kex_algorithms) != SSH_OK)
		goto config_error;
	if (ssh_options_set(t, SSH_OPTIONS_CIPHERS_C_S, ciphers) != SSH_OK ||
	    ssh_options_set(t, SSH_OPTIONS_CIPHERS_S_C, ciphers) != SSH_OK)
		goto config_error;

	if (ssh_connect(t) != SSH_OK) {
		snprintf(why, whylen, "target %s is unreachable", tc->name);
		snprintf(detail, detaillen, "connect to %s:%d failed: %s", tc->address, tc->port,
		    ssh_get_error(t));
		goto fail;
	}
	if (target_check_hostkey(t, tc, seen, sizeof(seen)) != 0) {
		snprintf(why, whylen, "target host key mismatch");
		snprintf(detail, detaillen, "target %s presented host key %s, not a pinned one",
		    tc->name, seen[0] ? seen : "(none)");
		goto fail;
	}
	if (target_authenticate(t, tc) != 0) {
		snprintf(why, whylen, "the gateway could not log in to target %s", tc->name);
		snprintf(detail, detaillen, "authentication as %s on %s failed: %s", tc->user,
		    tc->name, ssh_get_error(t));
		goto fail;
	}
	return t;
config_error:
	snprintf(why, whylen, "gateway configuration error for target %s", tc->name);
	snprintf(detail, detaillen, "algorithm list rejected: %s", ssh_get_error(t));
fail:
	ssh_disconnect(t);
	ssh_free(t);
	return NULL;
}
