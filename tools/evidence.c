/* evidence.c: what the auditor's commands share: the verification key, the recordings a search
 * selects, and the screen rendered through libvterm from the events evidence/castfile.c reads.
 * Reads only; every length and count from the file is bounded before use. */
#include "tools/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vterm.h>

#include "common/xmalloc.h"

#define TRANSCRIPT_LINE_MAX 4096 /* typed bytes kept per input line */

struct sealkey *
evidence_load_key(struct ctl_context *ctx, const char *keyfile)
{
	const struct gw_config *cfg;
	struct sealkey *key;
	char *path;

	if (keyfile != NULL)
		return sealkey_load_public(keyfile);
	if ((cfg = ctl_config(ctx)) == NULL)
		return NULL;
	xasprintf(&path, "%s/recording_key.pub", cfg->state_dir);
	if (access(path, R_OK) != 0)
		path[strlen(path) - 4] = '\0';
	key = sealkey_load_public(path);
	free(path);
	return key;
}

const char *
evidence_recording_dir(struct ctl_context *ctx, const char *dir)
{
	const struct gw_config *cfg;

	if (dir != NULL)
		return dir;
	if ((cfg = ctl_config(ctx)) == NULL)
		return NULL;
	return cfg->recording_dir;
}

int
evidence_filter_option(struct recording_filter *f, int ch, const char *arg)
{
	struct tm tm = { 0 };
	const char *end;
	time_t *when;

	switch (ch) {
	case 'p':
		f->person = arg;
		return 0;
	case 'v':
		f->vendor = arg;
		return 0;
	case 't':
		f->target = arg;
		return 0;
	}
	when = ch == 'F' ? &f->from : &f->to;
	if ((end = strptime(arg, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' && (end = strptime(end + 1, "%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end != '\0' && strcmp(end, "Z") != 0)
		return -1;
	*when = timegm(&tm);
	return 0;
}

static bool
filter_string(const json_t *meta, const char *key, const char *want)
{
	const char *have = json_string_value(json_object_get(meta, key));

	return want == NULL || (have != NULL && strcmp(have, want) == 0);
}

static int
name_is_recording(const struct dirent *d)
{
	size_t n = strspn(d->d_name, "0123456789abcdefABCDEF");

	return n > 0 && d->d_name[n] == '.' && strlen(d->d_name) > 5 &&
	    strcmp(d->d_name + strlen(d->d_name) - 5, ".cast") == 0;
}

int
evidence_foreach_recording(
    const char *dir, const struct recording_filter *f, recording_cb cb, void *arg)
{
	struct dirent **names;
	struct castfile *cf;
	const json_t *meta;
	json_int_t started;
	char *path;
	int i, n;

	if ((n = scandir(dir, &names, name_is_recording, alphasort)) < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if ((cf = castfile_open(path)) == NULL) {
			free(path);
			continue;
		}
		meta = json_object_get(castfile_header(cf), "gatewayd");
		started = json_integer_value(json_object_get(castfile_header(cf), "timestamp"));
		if (filter_string(meta, "person", f->person) &&
		    filter_string(meta, "vendor", f->vendor) &&
		    filter_string(meta, "target", f->target) &&
		    (f->from == 0 || started >= f->from) && (f->to == 0 || started < f->to))
			cb(path, meta, arg);
		castfile_close(cf);
		free(path);
	}
	free(names);
	return 0;
}

/* The rendering: the emulator, and which screen rows were already reported. */
struct transcript {
	VTerm *vt;
	VTermScreen *screen;
	int rows, cols;
	int reported; /* top rows of the screen already passed to cb */
	double now;
	transcript_cb cb;
	void *arg;
	char input[TRANSCRIPT_LINE_MAX];
	size_t ninput;
	int esc;         /* 0, 1 after ESC, 2 inside a CSI sequence */
	bool alt;        /* a full-screen program has the alternate screen */
	int oesc;        /* output: 0, 1 after ESC, 2 after ESC [, 3 in the parameters of ESC [ ? */
	int param;       /* the DEC private mode number being read */
	bool leaves_alt; /* one of the modes read so far is an alternate screen mode */
	char *alt_shown; /* the alternate screen's picture last reported */
};

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

	t->cb(TRANSCRIPT_SCREEN, t->now, text, t->arg);
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

	t->cb(TRANSCRIPT_SCREEN, t->now, text, t->arg);
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
			t->cb(TRANSCRIPT_SCREEN, t->now, rows[i], t->arg);
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

/* Typed bytes become a line as the person edited it: backspace removes, escape
 * sequences (arrow keys) are dropped, Enter reports it after the screen so far. */
static void
transcript_input(struct transcript *t, const unsigned char *p, size_t n)
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
		} else if (c == '\r' || c == '\n') {
			/* In a full-screen program: the picture the person acted on. */
			if (t->alt)
				transcript_alt_screen(t);
			else
				transcript_screen(t, false);
			t->input[t->ninput] = '\0';
			t->cb(TRANSCRIPT_INPUT, t->now, t->input, t->arg);
			t->ninput = 0;
		} else if (t->ninput + 3 < sizeof(t->input)) {
			if (c < 0x20) { /* ^C and friends, visibly */
				t->input[t->ninput++] = '^';
				c = (unsigned char)(c + '@');
			}
			t->input[t->ninput++] = (char)c;
		}
	}
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
	while ((rc = castfile_next(cf, &ev)) > 0) {
		t.now = ev.time;
		if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "e") == 0)
			transcript_output(&t, ev.data, ev.len);
		else if (strcmp(ev.code, "i") == 0)
			transcript_input(&t, ev.data, ev.len);
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
	free(t.alt_shown);
	vterm_free(t.vt);
	castfile_close(cf);
	return rc < 0 ? -1 : 0;
}
