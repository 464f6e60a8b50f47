/* recpack.h: the listener's keeping of sealed recordings compressed (recording_compression):
 * once a session process is gone, a child of the listener compresses its sealed recordings. */
#ifndef GW_RECPACK_H
#define GW_RECPACK_H

#include <sys/types.h>

#include "evidence/seal.h"
#include "policy/policy.h"

/* Forks a child that replaces each of names (recording file names in cfg->recording_dir,
 * NULL terminated) by its .cast.zst form (castpack_compress, checked with key) and exits; the
 * listener reaps it like any child. Its pid, or -1 (logged): the recordings then stay plain. */
pid_t recpack_spawn(const struct gw_config *cfg, const struct sealkey *key, char *const *names);
/* Frees a NULL-terminated list of names (notary_book_sealed); NULL is fine. */
void recpack_names_free(char **names);

#endif
