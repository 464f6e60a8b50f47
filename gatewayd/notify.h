/* notify.h: the site's notifier (notify_command): for the audit events of notify.c's table, a
 * program run as front_user with the event's audit line on its standard input. The listener
 * never waits for it; what goes wrong is audited as notify_failed, never blocks a decision. */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "gatewayd/gatewayd.h"
#include "gatewayd/notary.h"

struct notify;

/* fp: the user (front_user) notifiers run as; it must outlive the notify. */
struct notify *notify_new(const struct frontproc *fp);
/* Frees the bookkeeping; running notifiers are left to end on their own (their supervisor
 * enforces notify_timeout). Also what a forked session process does with its copy. NULL ok. */
void notify_free(struct notify *nf);

/* An event the audit log at cfg->audit_log has just appended (line: as appended, without its
 * newline): when cfg has a notify_command and the table names the event, starts the notifier
 * and returns at once. A notifier that cannot start is audited (notify_failed) through notary
 * and logged here. */
void notify_event(struct notify *nf, const struct gw_config *cfg, struct notary *notary,
    const char *event, const char *line);

/* The listener reaped pid (waitpid status): whether it was a notifier's. If it was and the
 * notifier failed (exit status not 0, killed at notify_timeout, could not run), that is
 * audited as notify_failed and logged. */
bool notify_reaped(
    struct notify *nf, pid_t pid, int status, const struct gw_config *cfg, struct notary *notary);

#endif
