/* recspace.c: decides when the recording disk refuses a new session or ends a live one: a
 * session's quota, the free-space reserve and its floor. Decides only: the session cuts or
 * refuses (with its recordings sealed), the recorder writes. */
#include "gatewayd/recspace.h"

#include <stdio.h>
#include <sys/statvfs.h>

/* Below half the reserve a session that records is ended: the rest keeps room for the seals
 * of the sessions still running. */
static long long
recspace_floor(const struct gw_config *cfg)
{
	return cfg->recording_min_free / 2;
}

long long
recspace_quota(const struct gw_config *cfg, const struct gw_vendor *v)
{
	return v != NULL && v->max_recording_bytes >= 0 ? v->max_recording_bytes
	                                                : cfg->max_recording_bytes;
}

long long
recspace_free(const char *dir)
{
	struct statvfs st;

	if (statvfs(dir, &st) != 0)
		return -1;
	return (long long)st.f_bavail * (long long)st.f_frsize;
}

enum recspace_verdict
recspace_check_session(const struct gw_config *cfg, const struct gw_vendor *v,
    unsigned long long recorded, long long free_bytes, char *msg, size_t msglen, char *reason,
    size_t reasonlen)
{
	long long quota = recspace_quota(cfg, v);

	if (quota > 0 && recorded >= (unsigned long long)quota) {
		snprintf(msg, msglen, "session ended: it reached its recording quota (%lld bytes)",
		    quota);
		snprintf(reason, reasonlen,
		    "recording quota reached (%llu bytes recorded, max_recording_bytes %lld)",
		    recorded, quota);
		return RECSPACE_QUOTA;
	}
	if (cfg->recording_min_free > 0 && free_bytes >= 0 && free_bytes < recspace_floor(cfg)) {
		snprintf(
		    msg, msglen, "session ended: the gateway cannot record: recording disk full");
		snprintf(reason, reasonlen,
		    "recording disk full (%lld bytes free in %s, below half of recording_min_free "
		    "%lld)",
		    free_bytes, cfg->recording_dir, cfg->recording_min_free);
		return RECSPACE_DISK_FULL;
	}
	return RECSPACE_OK;
}

bool
recspace_admits(const struct gw_config *cfg, long long free_bytes, char *detail, size_t detaillen)
{
	if (cfg->recording_min_free == 0)
		return true;
	if (free_bytes < 0) {
		snprintf(detail, detaillen, "free space in %s cannot be read", cfg->recording_dir);
		return false;
	}
	if (free_bytes >= cfg->recording_min_free)
		return true;
	snprintf(detail, detaillen, "%lld bytes free in %s, below recording_min_free %lld",
	    free_bytes, cfg->recording_dir, cfg->recording_min_free);
	return false;
}
