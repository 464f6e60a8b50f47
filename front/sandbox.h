/* sandbox.h: the vendor-facing process's last step before it reads a vendor byte: from then on
 * it can use only the descriptors it holds, never open, connect, exec or trace anything. */
#ifndef GW_FRONT_SANDBOX_H
#define GW_FRONT_SANDBOX_H

/* Sets no_new_privs, checks that no capability is left, closes the file system and TCP to it
 * with Landlock (where the kernel has it) and installs the seccomp allow-list (not in the
 * sanitizer build, nor under valgrind). Call once, after everything that opens files (libssh's
 * and OpenSSL's initialisation, host keys, syslog) is done. 0, or -1 having logged why: the
 * caller must then exit without talking to the vendor. */
int sandbox_enter(void);

#endif
