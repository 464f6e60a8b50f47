/* termsafe.h: bytes a vendor or a target chose, made safe to print on an auditor's terminal:
 * control sequences, line breaks and invalid UTF-8 become visible escapes; never interpreted. */
#ifndef GW_TOOLS_TERMSAFE_H
#define GW_TOOLS_TERMSAFE_H

#include <stddef.h>
#include <stdio.h>

/* The len bytes at buf as printable text: ESC as \e, CR LF TAB as \r \n \t, a backslash as \\,
 * other C0, DEL, C1 and bytes that are not UTF-8 as \xNN, bidirectional and line-separator
 * characters as \uNNNN; valid printable UTF-8 unchanged. The caller frees it. */
char *termsafe_format(const void *buf, size_t len);
/* termsafe_format of the NUL-terminated s, NULL as "-". The caller frees it. */
char *termsafe_str(const char *s);
/* termsafe_str(s) written to f. */
void termsafe_print(FILE *f, const char *s);

#endif
