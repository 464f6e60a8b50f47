/* transcript.c: a recording rendered as a person saw it: the screen through libvterm from the
 * events evidence/castfile.c reads, the lines typed, the gateway's notes; every line termsafe.
 * Reads only; every length and count from the file is bounded before use. */
#include "tools/transcript.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "common/xmalloc.h"
#include "evidence/castfile.h"
#include "tools/evidence.h"
#include "tools/termsafe.h"

/* The rendering: the emulator, and which screen rows were already reported. */
struct transcript {
	VTerm *vt;
	VTermScreen *screen;
	int rows, cols;
	int reported; /* top rows of the screen already passed to cb */
	double now;
	transcript_cb cb;
	void *arg;
	bool pty; /* the vendor typed into a terminal; else the target read the bytes as sent */
	char
	    *input; /* the line so far: grows up to TRANSCRIPT_PIECE_MAX, then goes out in pieces */
	size_t ninput, cap;
	int esc;         /* 0, 1 after ESC, 2 inside a CSI sequence */
	bool alt;        /* a full-screen program has the alternate screen */
	int oesc;        /* output: 0, 1 after ESC, 2 after ESC [, 3 in the parameters of ESC [ ? */
	int param;       /* the DEC private mode number being read */
	bool leaves_alt; /* one of the modes read so far is an alternate screen mode */
	char *alt_shown; /* the alternate screen's picture last reported */
};

/* Every line leaves here termsafe: a screen cell, a typed byte or a note can be anything. */
static void
transcript_report(struct transcript *t, enum transcript_kind kind, const char *text, size_t len)
{
	char *safe = termsafe_format(text, len);

	t->cb(kind, t->now, safe, t->arg);
	free(safe);
}

static size_t
cell_utf8(const VTermScreenCell *cell, char *out)
{
	uint32_t c = cell->chars[0];

	if (c == 0 || c == (uint32_t)-1)
		c = ' ';
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Cells as text without trailing blanks; the caller frees it. */
static char *
cells_text(const VTermScreenCell *cells, int ncells)
{
	char *text = xmalloc((size_t)ncells * 4 + 1);
	size_t n = 0;
	int i;

	for (i = 0; i < ncells; i++)
		if (cells[i].width > 0)
			n += cell_utf8(&cells[i], text + n);
	while (n > 0 && text[n - 1] == ' ')
		n--;
	text[n] = '\0';
	return text;
}

/* Reports cells as one line. */
static void
transcript_line(struct transcript *t, const VTermScreenCell *cells, int ncells)
{
	char *text = cells_text(cells, ncells);

	transcript_report(t, TRANSCRIPT_SCREEN, text, strlen(text));
	free(text);
}

static char *
transcript_row_text(struct transcript *t, int row)
{
	VTermScreenCell *cells = xcalloc((size_t)t->cols, sizeof(*cells));
	VTermPos pos = { .row = row };
	char *text;

	for (pos.col = 0; pos.col < t->cols; pos.col++)
		vterm_screen_get_cell(t->screen, pos, &cells[pos.col]);
	text = cells_text(cells, t->cols);
	free(cells);
	return text;
}

static void
transcript_row(struct transcript *t, int row)
{
	char *text = transcript_row_text(t, row);

	transcript_report(t, TRANSCRIPT_SCREEN, text, strlen(text));
	free(text);
}

/* A row scrolls off the top: final, so reported unless it already was. */
static int
transcript_pushline(int cols, const VTermScreenCell *cells, void *user)
{
	struct transcript *t = user;

	if (t->reported > 0)
		t->reported--;
	else
		transcript_line(t, cells, cols);
	return 1;
}

/* Reports the rows down to the cursor's (through the last one at the end). */
static void
transcript_screen(struct transcript *t, bool all)
{
	VTermPos cursor;
	int last, row;

	vterm_state_get_cursorpos(vterm_obtain_state(t->vt), &cursor);
	/* The cursor's row is still being written (a prompt awaiting its echo). */
	last = all ? t->rows - 1 : cursor.row - 1;
	if (all)
		while (last >= t->reported) {
			VTermScreenCell cell;
			VTermPos pos = { .row = last };
			bool blank = true;

			for (pos.col = 0; pos.col < t->cols && blank; pos.col++)
				blank = vterm_screen_get_cell(t->screen, pos, &cell) &&
				    cell.chars[0] == 0;
			if (!blank)
				break;
			last--;
		}
	for (row = t->reported; row <= last; row++)
		transcript_row(t, row);
	if (last + 1 > t->reported)
		t->reported = last + 1;
}

/* The whole alternate screen as the person saw it, blank rows at the end left out; not again
 * while it shows the same picture. */
static void
transcript_alt_screen(struct transcript *t)
{
	char *rows[1000], *picture = NULL, *line;
	int n = 0, i;

	for (i = 0; i < t->rows && i < 1000; i++)
		rows[n++] = transcript_row_text(t, i);
	while (n > 0 && rows[n - 1][0] == '\0')
		free(rows[--n]);
	for (i = 0; i < n; i++) {
		xasprintf(&line, "%s%s\n", picture ? picture : "", rows[i]);
		free(picture);
		picture = line;
	}
	if (picture != NULL && (t->alt_shown == NULL || strcmp(picture, t->alt_shown) != 0)) {
		for (i = 0; i < n; i++)
			transcript_report(t, TRANSCRIPT_SCREEN, rows[i], strlen(rows[i]));
		free(t->alt_shown);
		t->alt_shown = picture;
	} else
		free(picture);
	for (i = 0; i < n; i++)
		free(rows[i]);
}

static int
transcript_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	struct transcript *t = user;

	if (prop == VTERM_PROP_ALTSCREEN)
		t->alt = val->boolean;
	return 1;
}

/* Full-screen programs (vi, top) draw on the alternate screen, which vanishes when they
 * leave it: its last picture is reported just before the sequence that leaves it takes
 * effect. libvterm holds an unfinished sequence, so feeding all but its final byte first
 * reads the screen as it still was. */
static void
transcript_output(struct transcript *t, const unsigned char *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == 0x1b) {
			t->oesc = 1;
			continue;
		}
		switch (t->oesc) {
		case 1:
			t->oesc = c == '[' ? 2 : 0;
			break;
		case 2:
			t->oesc = c == '?' ? 3 : 0;
			t->param = 0;
			t->leaves_alt = false;
			break;
		case 3:
			if (c >= '0' && c <= '9') {
				if (t->param < 100000)
					t->param = t->param * 10 + (c - '0');
				break;
			}
			if (t->param == 47 || t->param == 1047 || t->param == 1049)
				t->leaves_alt = true;
			t->param = 0;
			if (c == ';')
				break;
			if (c == 'l' && t->leaves_alt && t->alt) {
				vterm_input_write(t->vt, (const char *)p + start, i - start);
				transcript_alt_screen(t);
				start = i;
			}
			t->oesc = 0;
			break;
		}
	}
	vterm_input_write(t->vt, (const char *)p + start, n - start);
}

static void
transcript_input_add(struct transcript *t, unsigned char c)
{
	if (t->ninput == TRANSCRIPT_PIECE_MAX) {
		transcript_report(t, TRANSCRIPT_PIECE, t->input, t->ninput);
		t->ninput = 0;
	}
	if (t->ninput == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->input = xreallocarray(t->input, t->cap, 1);
	}
	t->input[t->ninput++] = (char)c;
}

/* Enter or newline: the screen so far, then the line. */
static void
transcript_input_line(struct transcript *t)
{
	/* In a full-screen program: the picture the person acted on. */
	if (t->alt)
		transcript_alt_screen(t);
	else
		transcript_screen(t, false);
	transcript_report(t, TRANSCRIPT_INPUT, t->input, t->ninput);
	t->ninput = 0;
}

/* Typed into a terminal, bytes become a line as the person edited it: backspace removes, escape
 * sequences (arrow keys) are dropped, Enter reports it after the screen so far. */
static void
transcript_input_pty(struct transcript *t, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (t->esc == 1) {
			t->esc = (c == '[' || c == 'O') ? 2 : 0;
			continue;
		}
		if (t->esc == 2) {
			if (c >= 0x40 && c <= 0x7e)
				t->esc = 0;
			continue;
		}
		if (c == 0x1b)
			t->esc = 1;
		else if (c == 0x7f || c == 0x08) {
			while (t->ninput > 0 && (t->input[t->ninput - 1] & 0xc0) == 0x80)
				t->ninput--; /* a whole UTF-8 character */
			if (t->ninput > 0)
				t->ninput--;
		} else if (c == '\r' || c == '\n')
			transcript_input_line(t);
		else if (c < 0x20) { /* ^C and friends, visibly */
			transcript_input_add(t, '^');
			transcript_input_add(t, (unsigned char)(c + '@'));
		} else
			transcript_input_add(t, c);
	}
}

/* Without a terminal nothing edits the bytes: the target reads DEL or ESC as data, so a line is
 * every byte up to a newline, shown (termsafe), never applied. */
static void
transcript_input_raw(struct transcript *t, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			transcript_input_line(t);
		else
			transcript_input_add(t, p[i]);
	}
}

/* A gateway note; an SFTP operation (a JSON object) as its operation and path(s), their exact
 * bytes when they were not UTF-8. */
static void
transcript_note(struct transcript *t, const unsigned char *p, size_t n)
{
	char *event, *path, *path2, *text;
	json_t *j;

	if (n == 0 || p[0] != '{' || (j = json_loadb((const char *)p, n, 0, NULL)) == NULL) {
		transcript_report(t, TRANSCRIPT_NOTE, (const char *)p, n);
		return;
	}
	event = evidence_meta_text(j, "event");
	path = evidence_meta_text(j, "path");
	path2 = evidence_meta_text(j, "path2");
	if (event == NULL || path == NULL)
		transcript_report(t, TRANSCRIPT_NOTE, (const char *)p, n);
	else {
		/* Already termsafe: straight to the callback, not escaped twice. */
		xasprintf(&text, "%s %s%s%s", event, path, path2 != NULL ? " -> " : "",
		    path2 != NULL ? path2 : "");
		t->cb(TRANSCRIPT_NOTE, t->now, text, t->arg);
		free(text);
	}
	free(event);
	free(path);
	free(path2);
	json_decref(j);
}

int
transcript_render(const char *path, transcript_cb cb, void *arg)
{
	static const VTermScreenCallbacks callbacks = { .sb_pushline = transcript_pushline,
		.settermprop = transcript_settermprop };
	struct transcript t = { .cb = cb, .arg = arg };
	struct castfile *cf;
	struct cast_event ev;
	int rc, w, h;

	if ((cf = castfile_open(path)) == NULL)
		return -1;
	t.cols = (int)json_integer_value(json_object_get(castfile_header(cf), "width"));
	t.rows = (int)json_integer_value(json_object_get(castfile_header(cf), "height"));
	/* The recorder names TERM only for a channel with a pty. */
	t.pty = json_object_get(json_object_get(castfile_header(cf), "gatewayd"), "term") != NULL;
	/* libvterm 0.3 writes through NULL when a double-width character meets a one-column
	 * screen: narrower than two columns is no terminal a person used. */
	if (t.cols < 2 || t.cols > 1000 || t.rows < 1 || t.rows > 1000)
		t.cols = 80, t.rows = 24;
	t.vt = vterm_new(t.rows, t.cols);
	vterm_set_utf8(t.vt, 1);
	t.screen = vterm_obtain_screen(t.vt);
	vterm_screen_set_callbacks(t.screen, &callbacks, &t);
	vterm_screen_enable_altscreen(t.screen, 1);
	vterm_screen_reset(t.screen, 1);
	/* Without a pty the vendor's own terminal turned each newline into CR LF (LNM). */
	if (!t.pty)
		vterm_input_write(t.vt, "\x1b[20h", 5);
	while ((rc = castfile_next(cf, &ev)) > 0) {
		t.now = ev.time;
		if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "e") == 0)
			transcript_output(&t, ev.data, ev.len);
		else if (strcmp(ev.code, "i") == 0 && t.pty)
			transcript_input_pty(&t, ev.data, ev.len);
		else if (strcmp(ev.code, "i") == 0)
			transcript_input_raw(&t, ev.data, ev.len);
		else if (strcmp(ev.code, "n") == 0)
			transcript_note(&t, ev.data, ev.len);
		else if (strcmp(ev.code, "r") == 0 && ev.data != NULL &&
		    sscanf((const char *)ev.data, "%dx%d", &w, &h) == 2 && w > 1 && w <= 1000 &&
		    h > 0 && h <= 1000) {
			vterm_set_size(t.vt, h, w);
			t.rows = h, t.cols = w;
			if (t.reported > h)
				t.reported = h;
		}
	}
	if (t.alt)
		transcript_alt_screen(&t);
	else
		transcript_screen(&t, true);
	/* Typed but never ended: still shown, and said so. */
	if (t.ninput > 0)
		transcript_report(&t, TRANSCRIPT_UNENDED, t.input, t.ninput);
	free(t.input);
	free(t.alt_shown);
	vterm_free(t.vt);
	castfile_close(cf);
	return rc < 0 ? -1 : 0;
}
