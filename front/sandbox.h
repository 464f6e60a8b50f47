/* sandbox.h: the front's confinement, entered once, after everything libssh needs is loaded and
 * before the first byte from the vendor is read. */
#ifndef GW_FRONT_SANDBOX_H
#define GW_FRONT_SANDBOX_H

/* 0 once confined, -1 (logged) when the confinement cannot be entered: the caller then ends. */
int sandbox_enter(void);

#endif
