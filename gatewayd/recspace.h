/* recspace.h: the recording disk, shared by every session: how much one session may record
 * (max_recording_bytes) and how much must stay free (recording_min_free, docs/limits.md). */
#ifndef GW_RECSPACE_H
#define GW_RECSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "policy/policy.h"

/* A session's free space is read again after this many more recorded bytes, or a second. */
#define RECSPACE_CHECK_BYTES (1024 * 1024)

/* What a session process keeps to decide: its closed recordings, its last look at the disk. */
struct recspace_watch {
	unsigned long long closed;  /* bytes of the recordings of channels already ended */
	unsigned long long checked; /* recorded bytes when the free space was last read */
	time_t checked_at;
};

enum recspace_verdict {
	RECSPACE_OK,
	RECSPACE_QUOTA,     /* the session recorded its max_recording_bytes */
	RECSPACE_DISK_FULL, /* free space below the floor (live) or the reserve (new session) */
};

/* The quota of a session of vendor v: the vendor's max_recording_bytes, else the global one;
 * 0: none. */
long long recspace_quota(const struct gw_config *cfg, const struct gw_vendor *v);
/* Bytes the gateway may still write in dir (statvfs); -1 with errno when unknown. */
long long recspace_free(const char *dir);
/* A live session that recorded `recorded` bytes, with free_bytes free (-1: not read now):
 * whether it must end, and then the vendor's message and the evidence's reason. */
enum recspace_verdict recspace_check_session(const struct gw_config *cfg, const struct gw_vendor *v,
    unsigned long long recorded, long long free_bytes, char *msg, size_t msglen, char *reason,
    size_t reasonlen);
/* Whether a new session may start with free_bytes free (-1: unknown, refused); when not,
 * the precise reason for the audit log in detail. */
bool recspace_admits(
    const struct gw_config *cfg, long long free_bytes, char *detail, size_t detaillen);

#endif
