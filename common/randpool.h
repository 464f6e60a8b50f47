/* randpool.h: a process's random bytes, drawn from OpenSSL's DRBG a kilobyte at a time.
 * Installed once per process before libssh runs; fork-safe, used bytes wiped. */
#ifndef GW_RANDPOOL_H
#define GW_RANDPOOL_H

/* Makes OpenSSL's RAND_bytes and RAND_priv_bytes (libssh's, and OpenSSL's own for keys and
 * nonces) serve from the pool. 0 on success, -1 (logged) if OpenSSL refused. */
int randpool_install(void);

#endif
