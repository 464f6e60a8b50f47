/* log.c: diagnostic logging to stderr and syslog.
 * Holds the only logging state of a process; set once at start-up. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int log_to_stderr = 1;
static int log_to_syslog;
static int log_debug;

void
log_init(const char *ident, int to_stderr, int to_syslog, int debug)
{
	log_to_stderr = to_stderr;
	log_to_syslog = to_syslog;
	log_debug = debug;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_debugging(void)
{
	return log_debug;
}

void
log_msg(int prio, const char *func, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (prio == LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_to_syslog)
		syslog(prio, "%s: %s", func, buf);
	if (log_to_stderr)
		fprintf(stderr, "gatewayd[%ld]: %s: %s\n", (long)getpid(), func, buf);
}
