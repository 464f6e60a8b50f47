/* randpool.c: the process's random bytes, served from a kilobyte drawn from OpenSSL's private
 * DRBG at a time, as OpenSSH's arc4random serves from its keystream buffer.
 *
 * Why: libssh asks RAND_bytes for every packet's few bytes of padding, and OpenSSL 3.0 looks up
 * its DRBG's parameters by name on every call (0.7 us warm, several after the process slept):
 * a tenth of the monitor's and the front's CPU per echoed key (README, Performance). The DRBG
 * stays the source; what the pool changes is how often it is asked. Every byte handed out is
 * wiped from the pool, a forked child starts with an empty pool (it must not replay its
 * parent's), and requests larger than a small one go straight to the DRBG. */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_METHOD: OpenSSL 3.0's only hook on RAND_bytes */

#include "common/randpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/log.h"

#define RANDPOOL_SIZE  1024
#define RANDPOOL_SMALL 64 /* padding is at most 255 bytes and usually under 20 */

static struct {
	pthread_mutex_t lock;
	unsigned char buf[RANDPOOL_SIZE];
	size_t left; /* unused bytes, at the end of buf */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
randpool_draw(unsigned char *out, size_t len)
{
	EVP_RAND_CTX *drbg = RAND_get0_private(NULL);

	return drbg != NULL && EVP_RAND_generate(drbg, out, len, 0, 0, NULL, 0) == 1;
}

static int
randpool_bytes(unsigned char *out, int num)
{
	size_t n = num < 0 ? 0 : (size_t)num;
	unsigned char *from;
	int ok = 1;

	if (n > RANDPOOL_SMALL)
		return randpool_draw(out, n);
	pthread_mutex_lock(&pool.lock);
	if (pool.left < n) {
		if (!randpool_draw(pool.buf, sizeof(pool.buf))) {
			ok = 0;
			goto out;
		}
		pool.left = sizeof(pool.buf);
	}
	from = pool.buf + sizeof(pool.buf) - pool.left;
	memcpy(out, from, n);
	OPENSSL_cleanse(from, n);
	pool.left -= n;
out:
	pthread_mutex_unlock(&pool.lock);
	return ok;
}

static void
randpool_wipe(void)
{
	OPENSSL_cleanse(pool.buf, sizeof(pool.buf));
	pool.left = 0;
}

/* The child of a fork has the one thread that forked, and the lock that thread held for it. */
static void
randpool_child(void)
{
	randpool_wipe();
	pthread_mutex_unlock(&pool.lock);
}

static void
randpool_prepare(void)
{
	pthread_mutex_lock(&pool.lock);
}

static void
randpool_parent(void)
{
	pthread_mutex_unlock(&pool.lock);
}

static int
randpool_seed(const void *buf, int num)
{
	return RAND_OpenSSL()->seed(buf, num);
}

static int
randpool_add(const void *buf, int num, double entropy)
{
	return RAND_OpenSSL()->add(buf, num, entropy);
}

static int
randpool_status(void)
{
	return RAND_OpenSSL()->status();
}

static void
randpool_cleanup(void)
{
	pthread_mutex_lock(&pool.lock);
	randpool_wipe();
	pthread_mutex_unlock(&pool.lock);
}

static const RAND_METHOD randpool_method = {
	.seed = randpool_seed,
	.bytes = randpool_bytes,
	.cleanup = randpool_cleanup,
	.add = randpool_add,
	.pseudorand = randpool_bytes,
	.status = randpool_status,
};

int
randpool_install(void)
{
	static bool forks_handled;

	if (RAND_get_rand_method() == &randpool_method)
		return 0;
	if (!forks_handled &&
	    pthread_atfork(randpool_prepare, randpool_parent, randpool_child) != 0) {
		error_f("pthread_atfork failed");
		return -1;
	}
	forks_handled = true;
	if (RAND_set_rand_method(&randpool_method) != 1) {
		error_f("OpenSSL refused the random pool");
		return -1;
	}
	return 0;
}
