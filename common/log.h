/* log.h: the daemon's and tools' diagnostic log (not the audit log).
 * Messages carry the function name; nothing from the network is ever a format string. */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <syslog.h>

/* Where messages go: stderr (foreground, tools) and/or syslog (service). */
void log_init(const char *ident, int to_stderr, int to_syslog, int debug);
/* Whether debug messages are logged (gatewayd -d): child processes are started to match. */
int log_debugging(void);
void log_msg(int prio, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define error_f(...) log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define warn_f(...)  log_msg(LOG_WARNING, __func__, __VA_ARGS__)
#define info_f(...)  log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define debug_f(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)
#define crit_f(...)  log_msg(LOG_CRIT, __func__, __VA_ARGS__)

#endif
