/* seal.h: what makes evidence tamper-evident: UTC timestamps, SHA-256 hash chains and
 * the gateway's Ed25519 recording key. The private key never leaves the process. */
#ifndef GW_SEAL_H
#define GW_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define SEAL_TIME_LEN    32 /* "2026-11-23T14:28:43.123Z" and its NUL, with room */
#define SEAL_HASH_LEN    32 /* SHA-256 */
#define SEAL_HEX_LEN     (2 * SEAL_HASH_LEN + 1)
#define SEAL_SIG_B64_LEN 89 /* base64 of a 64-byte Ed25519 signature, and its NUL */
#define SEAL_KEY_ID_LEN  52 /* "SHA256:" + unpadded base64 of 32 bytes, and its NUL */

/* Formats ts (CLOCK_REALTIME) as RFC 3339 UTC with milliseconds. */
void seal_format_time(char out[SEAL_TIME_LEN], const struct timespec *ts);
/* The same for now. */
void seal_format_now(char out[SEAL_TIME_LEN]);

/* The chain: c(-1) = 32 zero bytes, c(i) = SHA-256(c(i-1) || SHA-256(record i)). */
void seal_digest(const void *data, size_t len, unsigned char out[SEAL_HASH_LEN]);
void seal_chain_step(unsigned char chain[SEAL_HASH_LEN], const unsigned char digest[SEAL_HASH_LEN]);
/* The digest of a record read in pieces (a pcapng-v2 record spans blocks): seal_hash_new,
 * seal_hash_add for each piece, seal_hash_end gives SHA-256 of them all and starts over. */
struct seal_hash;
struct seal_hash *seal_hash_new(void);
void seal_hash_add(struct seal_hash *h, const void *data, size_t len);
void seal_hash_end(struct seal_hash *h, unsigned char out[SEAL_HASH_LEN]);
void seal_hash_free(struct seal_hash *h);                    /* NULL is fine */
void seal_hex(const unsigned char *in, size_t n, char *out); /* out: 2n+1 bytes */
/* Parses exactly SEAL_HASH_LEN bytes of lower-case hex; -1 when malformed. */
int seal_unhex(const char *hex, unsigned char out[SEAL_HASH_LEN]);

/* An Ed25519 key: the gateway's private recording key, or its public half for auditors. */
struct sealkey;

/* Loads the private key at path, generating it (0600, and path.pub with the public
 * half) on first use. NULL when it cannot be read or created; the reason is logged. */
struct sealkey *sealkey_load_or_create(const char *path);
/* Loads a PEM public key, or the public half of a PEM private key. NULL when unusable. */
struct sealkey *sealkey_load_public(const char *path);
/* Frees the key, its private half wiped; NULL is fine. */
void sealkey_free(struct sealkey *key);
/* "SHA256:<unpadded base64>" of the raw public key; recorded in every file it seals. */
const char *sealkey_id(const struct sealkey *key);
/* Signs msg; out gets the base64 signature. -1 without a private key. */
int sealkey_sign(
    const struct sealkey *key, const void *msg, size_t len, char out[SEAL_SIG_B64_LEN]);
bool sealkey_verify(const struct sealkey *key, const void *msg, size_t len, const char *sig_b64);
/* Writes the public key as PEM. */
int sealkey_write_public(const struct sealkey *key, FILE *out);

#endif
