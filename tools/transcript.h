/* transcript.h: a recording rendered as a person saw it (libvterm), line by line, for
 * gatewayctl's transcript and search. */
#ifndef GW_TOOLS_TRANSCRIPT_H
#define GW_TOOLS_TRANSCRIPT_H

/* What transcript_render reports: a screen line as shown, a line the person typed (edited as a
 * terminal would on a pty channel, the bytes as sent without one), a piece of a typed line longer
 * than TRANSCRIPT_PIECE_MAX bytes (the line goes on in the next report), the input left at the end
 * without Enter or newline, or a gateway note (an SFTP operation as "sftp-OP PATH [-> PATH2]"). */
enum transcript_kind {
	TRANSCRIPT_SCREEN,
	TRANSCRIPT_INPUT,
	TRANSCRIPT_PIECE,
	TRANSCRIPT_UNENDED,
	TRANSCRIPT_NOTE
};
/* Bounds the memory a line without newline takes (an upload piped into a command); a split is
 * shown as one, nothing is left out. */
#define TRANSCRIPT_PIECE_MAX (1024 * 1024)
/* text is termsafe (tools/termsafe.h): printable, one line, whatever the recording holds. */
typedef void (*transcript_cb)(enum transcript_kind kind, double time, const char *text, void *arg);
/* Feeds the recording through a terminal emulator; 0, or -1 when unreadable. */
int transcript_render(const char *path, transcript_cb cb, void *arg);

#endif
