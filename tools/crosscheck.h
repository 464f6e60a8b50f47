/* crosscheck.h: the recordings of a directory checked against the audit log's account of
 * them: each one it names present and ending where the notary signed it last, none unnamed. */
#ifndef GW_TOOLS_CROSSCHECK_H
#define GW_TOOLS_CROSSCHECK_H

#include "evidence/seal.h"

/* Prints a line per recording; returns how many are missing, altered or not named (a live
 * session's recordings are neither), or -1 when the audit log cannot be read. */
int crosscheck_recordings(const char *audit_path, const char *dir, const struct sealkey *key);

#endif
