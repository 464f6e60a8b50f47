/* algorithms.c: which SSH algorithms the gateway offers vendors: defaults that `ssh-audit`
 * passes without a warning, or the configuration's lists. Never offers SHA-1, CBC, NIST-curve
 * key exchange or encrypt-and-MAC by default; what the operator lists is taken as written. */
#include "gatewayd/gatewayd.h"

#include "common/log.h"

/* Curve25519 first; the DH groups of 4096 bits and more for clients without it. */
#define ALGORITHMS_KEX                                                                             \
	"curve25519-sha256,curve25519-sha256@libssh.org,"                                          \
	"diffie-hellman-group16-sha512,diffie-hellman-group18-sha512"
#define ALGORITHMS_CIPHERS                                                                         \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"                                    \
	"aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"
/* Encrypt-then-MAC only (the AEAD ciphers above need none). */
#define ALGORITHMS_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
/* Offered only for the host keys actually loaded; ssh-rsa (SHA-1) never by default. */
#define ALGORITHMS_HOSTKEYS                                                                        \
	"ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,"                               \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"

static int
algorithms_set(ssh_bind bind, enum ssh_bind_options_e option, const char *what,
    const char *configured, const char *def)
{
	const char *list = configured != NULL ? configured : def;

	if (ssh_bind_options_set(bind, option, list) != SSH_OK) {
		error_f("%s \"%s\": %s", what, list, ssh_get_error(bind));
		return -1;
	}
	return 0;
}

void
algorithms_list(const struct gw_config *cfg, const char *out[4])
{
	out[0] = cfg->kex_algorithms != NULL ? cfg->kex_algorithms : ALGORITHMS_KEX;
	out[1] = cfg->ciphers != NULL ? cfg->ciphers : ALGORITHMS_CIPHERS;
	out[2] = cfg->macs != NULL ? cfg->macs : ALGORITHMS_MACS;
	out[3] = cfg->hostkey_algorithms != NULL ? cfg->hostkey_algorithms : ALGORITHMS_HOSTKEYS;
}

int
algorithms_apply_bind(const struct gw_config *cfg, ssh_bind bind)
{
	if (algorithms_set(bind, SSH_BIND_OPTIONS_KEY_EXCHANGE, "kex_algorithms",
	        cfg->kex_algorithms, ALGORITHMS_KEX) != 0 ||
	    algorithms_set(bind, SSH_BIND_OPTIONS_CIPHERS_C_S, "ciphers", cfg->ciphers,
	        ALGORITHMS_CIPHERS) != 0 ||
	    algorithms_set(bind, SSH_BIND_OPTIONS_CIPHERS_S_C, "ciphers", cfg->ciphers,
	        ALGORITHMS_CIPHERS) != 0 ||
	    algorithms_set(bind, SSH_BIND_OPTIONS_HMAC_C_S, "macs", cfg->macs, ALGORITHMS_MACS) !=
	        0 ||
	    algorithms_set(bind, SSH_BIND_OPTIONS_HMAC_S_C, "macs", cfg->macs, ALGORITHMS_MACS) !=
	        0 ||
	    algorithms_set(bind, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "hostkey_algorithms",
	        cfg->hostkey_algorithms, ALGORITHMS_HOSTKEYS) != 0)
		return -1;
	return 0;
}
