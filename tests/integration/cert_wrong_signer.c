/* cert_wrong_signer.c: an SSH client for test_auth_certs.sh that presents a valid certificate
 * but signs with another private key (stock ssh refuses to), to show that the gateway's
 * libssh checks the user's signature against the certified key:
 *   cert_wrong_signer PORT USER SIGNING-KEY CERT-FILE
 * libssh 0.10.6 drops a request whose signature does not verify without answering it, so
 * "refused" here is a denial or no answer within 5 s (the gateway's login grace time ends the
 * connection later). Exit 0 when not admitted, 1 when admitted, 2 on a local error. */
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	ssh_session s;
	ssh_key key = NULL, cert = NULL;
	int port, rc, quiet = 0;
	long timeout = 5;

	if (argc != 5)
		return 2;
	port = atoi(argv[1]);
	s = ssh_new();
	ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, argv[2]);
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &quiet);
	ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &quiet);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	if (ssh_connect(s) != SSH_OK ||
	    ssh_pki_import_privkey_file(argv[3], NULL, NULL, NULL, &key) != SSH_OK ||
	    ssh_pki_import_cert_file(argv[4], &cert) != SSH_OK ||
	    ssh_pki_copy_cert_to_privkey(cert, key) != SSH_OK) {
		fprintf(stderr, "cert_wrong_signer: %s\n", ssh_get_error(s));
		return 2;
	}
	rc = ssh_userauth_publickey(s, NULL, key);
	printf("%s\n", rc == SSH_AUTH_SUCCESS ? "admitted" : "refused");
	ssh_key_free(key);
	ssh_key_free(cert);
	ssh_disconnect(s);
	ssh_free(s);
	return rc == SSH_AUTH_SUCCESS ? 1 : 0;
}
