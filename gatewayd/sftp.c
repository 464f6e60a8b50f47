/* sftp.c: follows one sftp subsystem stream (draft-ietf-secsh-filexfer-02, OpenSSH's
 * extensions), decides each vendor request against the grant and reports operations.
 * Never forwards a partial, malformed or refused packet; never holds more than one
 * packet per direction plus bounded output queues; never keeps file content. */
#include "gatewayd/sftp.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "common/xmalloc.h"
#include "gatewayd/audit.h"

/* Packet types (filexfer-02 section 3). */
#define FXP_INIT           1
#define FXP_VERSION        2
#define FXP_OPEN           3
#define FXP_CLOSE          4
#define FXP_READ           5
#define FXP_WRITE          6
#define FXP_LSTAT          7
#define FXP_FSTAT          8
#define FXP_SETSTAT        9
#define FXP_FSETSTAT       10
#define FXP_OPENDIR        11
#define FXP_READDIR        12
#define FXP_REMOVE         13
#define FXP_MKDIR          14
#define FXP_RMDIR          15
#define FXP_REALPATH       16
#define FXP_STAT           17
#define FXP_RENAME         18
#define FXP_READLINK       19
#define FXP_SYMLINK        20
#define FXP_STATUS         101
#define FXP_HANDLE         102
#define FXP_DATA           103
#define FXP_NAME           104
#define FXP_ATTRS          105
#define FXP_EXTENDED       200
#define FXP_EXTENDED_REPLY 201

#define FXF_READ   0x01
#define FXF_WRITE  0x02
#define FXF_APPEND 0x04
#define FXF_CREAT  0x08
#define FXF_TRUNC  0x10
#define FXF_EXCL   0x20

#define ATTR_SIZE        0x01
#define ATTR_UIDGID      0x02
#define ATTR_PERMISSIONS 0x04
#define ATTR_ACMODTIME   0x08
#define ATTR_EXTENDED    0x80000000u

#define FX_OK                0
#define FX_PERMISSION_DENIED 3
#define FX_FAILURE           4

#define SFTP_VERSION 3
/* The id of the gateway's own request; no vendor request is taken while it is out. */
#define HOME_REQUEST_ID 0xffffffffu
/* What a refusal tells the vendor: a sentence naming the path, bounded. */
#define SFTP_MESSAGE_MAX (SFTP_MAX_PATH + 256)
/* Longest name a target directory entry can have (NAME_MAX on the usual file systems): the
 * temporary name keeps at most this much of the vendor's name in front of its suffix. */
#define TMP_BASE_MAX (255 - 24)

/* An atomic upload's close, as the gateway carries it through on the vendor's CLOSE id. */
enum upload_step {
	STEP_NONE,
	STEP_CLOSE,  /* the vendor's CLOSE of a temporary file is at the target */
	STEP_RENAME, /* the gateway's rename of the temporary file over the vendor's name */
	STEP_REMOVE, /* the gateway's removal of the temporary file (refused or failed) */
};

/* What a request needs from the grant. */
enum need {
	NEED_LIST, /* upload or download */
	NEED_UPLOAD,
	NEED_DOWNLOAD,
	NEED_BOTH,
};

struct attrs {
	uint32_t flags;
	uint64_t size;
	uint32_t mode;
};

/* A handle the target gave out, as the gateway follows it. */
struct handle {
	bool used;
	bool dir;
	unsigned gen; /* bumped on release, so late answers find no handle */
	unsigned file;
	uint8_t bytes[SFTP_HANDLE_MAX];
	size_t len;
	uint32_t pflags;
	char *path;
	uint64_t bytes_read, bytes_written;
	uint64_t hashed;     /* next offset the hash expects */
	const char *no_hash; /* set once the content can no longer be hashed */
	EVP_MD_CTX *md;
	char *tmp, *final;   /* atomic upload: the name written, the name asked for (as sent) */
	uint64_t whole;      /* atomic upload: bytes [0, whole) written, without a gap */
	const char *refused; /* a write was refused: why; every later write is too */
	char *refusal;       /* and the message; an atomic upload is then discarded */
};

/* A request forwarded and not yet answered, or one being decided. */
struct request {
	bool used;
	uint32_t id;
	uint8_t type;
	const char *op;
	enum need need;
	int slot; /* handle slot, -1: none */
	unsigned gen;
	uint64_t offset;
	uint32_t len;
	uint32_t pflags;
	struct attrs attrs;
	char *path, *path2;
	bool internal;        /* the gateway's own REALPATH "."; answer not forwarded */
	bool reserves_handle; /* OPEN/OPENDIR: counted in nreserved until answered */
	bool has_event;       /* report kind when the target answers */
	enum sftp_event_kind kind;
	enum upload_step step; /* an atomic upload's close under way */
	char *tmp, *final;     /* OPEN or its close: as in struct handle */
	char *refusal;
	const uint8_t *attrs_at; /* OPEN: its attributes in the packet being decided */
};

struct framer {
	uint8_t *buf;
	size_t len;  /* bytes of the current packet held */
	size_t need; /* its full size once the length is known, else 0 */
};

struct queue {
	uint8_t *buf;
	size_t off, len, cap;
};

struct sftp_watch {
	struct sftp_policy pol;
	char **prefixes; /* normalised copies; nprefixes == 0: anywhere */
	size_t nprefixes;
	sftp_event_fn cb;
	void *arg;
	struct framer from_vendor, from_target;
	struct queue to_target, to_vendor;
	bool init_seen, version_seen;
	bool holding;      /* vendor input waits for the home directory */
	bool posix_rename; /* the target offers posix-rename@openssh.com */
	char *home;
	char message[SFTP_MESSAGE_MAX]; /* the last refusal's sentence (request_message) */
	struct handle *handles;         /* SFTP_MAX_HANDLES */
	unsigned nreserved;             /* handles used plus opens awaiting an answer */
	unsigned next_file;
	struct request *reqs; /* SFTP_MAX_REQUESTS */
	size_t reqs_top;      /* slots at and above are free: scans stop there */
	size_t nreqs;         /* slots used */
	const char *error;
};

static uint32_t
peek_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* ATTRS (filexfer-02 section 5); only size and permissions matter to the grant. */
static int
sftp_read_attrs(struct wire *c, struct attrs *a)
{
	const uint8_t *s;
	uint32_t i, count, skip;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (wire_u32(c, &a->flags) == -1)
		return -1;
	if ((a->flags & ATTR_SIZE) && wire_u64(c, &a->size) == -1)
		return -1;
	if ((a->flags & ATTR_UIDGID) && wire_u32(c, &skip) == -1)
		return -1;
	if ((a->flags & ATTR_UIDGID) && wire_u32(c, &skip) == -1)
		return -1;
	if ((a->flags & ATTR_PERMISSIONS) && wire_u32(c, &a->mode) == -1)
		return -1;
	if ((a->flags & ATTR_ACMODTIME) && wire_take(c, 8) == NULL)
		return -1;
	if (a->flags & ATTR_EXTENDED) {
		if (wire_u32(c, &count) == -1)
			return -1;
		/* each pair takes at least 8 bytes, so a huge count fails fast */
		for (i = 0; i < count; i++)
			if (wire_string(c, &s, &n) == -1 || wire_string(c, &s, &n) == -1)
				return -1;
	}
	return 0;
}

static void
queue_put(struct queue *q, const void *data, size_t n)
{
	if (q->off > 0 && q->off + q->len + n > q->cap) {
		memmove(q->buf, q->buf + q->off, q->len);
		q->off = 0;
	}
	if (q->len + n > q->cap) {
		q->cap = q->len + n > 2 * q->cap ? q->len + n : 2 * q->cap;
		q->buf = xreallocarray(q->buf, 1, q->cap);
	}
	memcpy(q->buf + q->off + q->len, data, n);
	q->len += n;
}

static size_t
queue_pending(const struct queue *q, const uint8_t **p)
{
	*p = q->buf == NULL ? NULL : q->buf + q->off;
	return q->len;
}

static void
queue_consume(struct queue *q, size_t n)
{
	if (n > q->len)
		n = q->len;
	q->off += n;
	q->len -= n;
	if (q->len == 0)
		q->off = 0;
}

static int
watch_fail(struct sftp_watch *w, const char *why)
{
	if (w->error == NULL)
		w->error = why;
	return -1;
}

static int
watch_emit(struct sftp_watch *w, struct sftp_event *ev)
{
	clock_gettime(CLOCK_REALTIME, &ev->when);
	if (w->cb != NULL && w->cb(ev, w->arg) == -1)
		return watch_fail(w, "sftp evidence could not be written");
	return 0;
}

/*
 * Lexical normalisation of an absolute path: "//" and "." go, ".." climbs when
 * allowed. Never follows links, which is why ".." is refused where it matters:
 * "/ok/link/.." is "/ok" here but the link's parent on the target.
 */
static char *
path_normalise(const char *p, bool dotdot_ok)
{
	size_t plen = strlen(p), o = 0, n;
	char *out = xmalloc(plen + 2);
	const char *s = p, *e;

	while (*s != '\0') {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = strchr(s, '/');
		n = e == NULL ? strlen(s) : (size_t)(e - s);
		if (n == 1 && s[0] == '.') {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (!dotdot_ok) {
				free(out);
				return NULL;
			}
			while (o > 0 && out[--o] != '/')
				;
		} else {
			out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static bool
path_allowed(const struct sftp_watch *w, const char *path)
{
	size_t i, n;

	if (w->nprefixes == 0)
		return true;
	for (i = 0; i < w->nprefixes; i++) {
		n = strlen(w->prefixes[i]);
		if (n == 1) /* "/" */
			return true;
		if (strncmp(path, w->prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

/*
 * Turns a path from the vendor into the one the grant is checked on: *out is set
 * (absolute and normalised when it can be, as given otherwise) whenever the bytes
 * make a string, so a refusal can name it. Returns NULL or why it is refused.
 */
static const char *
path_resolve(const struct sftp_watch *w, const uint8_t *raw, size_t n, bool dotdot_ok, bool check,
    char **out)
{
	bool anywhere = w->nprefixes == 0;
	char *s, *joined, *norm;

	*out = NULL;
	if (n > SFTP_MAX_PATH)
		return "path too long";
	if (memchr(raw, '\0', n) != NULL)
		return "path contains a NUL byte";
	s = xstrndup((const char *)raw, n);
	if (s[0] != '/') {
		if (w->home == NULL) {
			*out = s;
			return anywhere || !check
			    ? NULL
			    : "relative path before the home directory is known";
		}
		xasprintf(&joined, "%s/%s", w->home, s);
		free(s);
		s = joined;
	}
	norm = path_normalise(s, dotdot_ok || anywhere || !check);
	if (norm == NULL) {
		*out = s;
		return "\"..\" in a path is refused";
	}
	free(s);
	*out = norm;
	if (check && !path_allowed(w, norm))
		return "outside the allowed paths";
	return NULL;
}

static const char *
need_refused(const struct sftp_watch *w, enum need need)
{
	switch (need) {
	case NEED_LIST:
		return w->pol.upload || w->pol.download ? NULL : "file transfer not granted";
	case NEED_UPLOAD:
		return w->pol.upload ? NULL : "upload not granted";
	case NEED_DOWNLOAD:
		return w->pol.download ? NULL : "download not granted";
	case NEED_BOTH:
		return w->pol.upload && w->pol.download ? NULL
		                                        : "needs upload and download granted";
	}
	return "unknown need";
}

static int
handle_find(const struct sftp_watch *w, const uint8_t *h, size_t n)
{
	int i;

	for (i = 0; i < SFTP_MAX_HANDLES; i++)
		if (w->handles[i].used && w->handles[i].len == n &&
		    memcmp(w->handles[i].bytes, h, n) == 0)
			return i;
	return -1;
}

/* Counts and hashes n bytes moved at offset on a file handle, in either direction. */
static void
handle_account(struct handle *h, bool write, uint64_t offset, const uint8_t *data, size_t n)
{
	if (write)
		h->bytes_written += n;
	else
		h->bytes_read += n;
	if (h->no_hash != NULL || n == 0)
		return;
	if (h->bytes_read != 0 && h->bytes_written != 0)
		h->no_hash = "read and written, no hash";
	else if (offset != h->hashed)
		h->no_hash = "not sequential, no hash";
	else if (EVP_DigestUpdate(h->md, data, n) != 1)
		h->no_hash = "hash failed";
	else
		h->hashed += n;
}

static void
handle_release(struct sftp_watch *w, int slot)
{
	struct handle *h = &w->handles[slot];

	free(h->path);
	EVP_MD_CTX_free(h->md);
	free(h->tmp);
	free(h->final);
	free(h->refusal);
	h->path = h->tmp = h->final = h->refusal = NULL;
	h->refused = NULL;
	h->md = NULL;
	h->used = false;
	h->gen++;
	w->nreserved--;
}

/* Reports the close of a file handle with its totals and, when sequential, its hash. */
static int
handle_report_close(struct sftp_watch *w, int slot, uint32_t id, bool unclosed)
{
	struct handle *h = &w->handles[slot];
	struct sftp_event ev = {
		.kind = SFTP_EV_CLOSE,
		.id = id,
		.op = "close",
		.path = h->path,
		.status = -1,
		.file = h->file,
		.handle = h->bytes,
		.handle_len = h->len,
		.pflags = h->pflags,
		.bytes_read = h->bytes_read,
		.bytes_written = h->bytes_written,
		.unclosed = unclosed,
		.reason = h->refusal,
		/* a temporary file the channel's end left on the target is named in the evidence */
		.path2 = unclosed ? h->tmp : NULL,
	};
	unsigned int mdlen = 0;

	if (h->no_hash == NULL && EVP_DigestFinal_ex(h->md, ev.sha256, &mdlen) == 1 && mdlen == 32)
		ev.has_sha256 = true;
	else
		ev.no_hash = h->no_hash != NULL ? h->no_hash : "hash failed";
	return watch_emit(w, &ev);
}

static void
request_clear(struct request *r)
{
	free(r->path);
	free(r->path2);
	free(r->tmp);
	free(r->final);
	free(r->refusal);
	memset(r, 0, sizeof(*r));
	r->slot = -1;
}

static struct request *
request_find(struct sftp_watch *w, uint32_t id)
{
	size_t i;

	for (i = 0; i < w->reqs_top; i++)
		if (w->reqs[i].used && w->reqs[i].id == id)
			return &w->reqs[i];
	return NULL;
}

static void
event_from_request(struct sftp_event *ev, const struct request *r, enum sftp_event_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->id = r->id;
	ev->op = r->op;
	ev->path = r->path;
	ev->path2 = r->path2;
	ev->status = -1;
	ev->pflags = r->pflags;
	ev->has_mode = (r->attrs.flags & ATTR_PERMISSIONS) != 0;
	ev->mode = r->attrs.mode;
	ev->has_size = (r->attrs.flags & ATTR_SIZE) != 0;
	ev->size = r->attrs.size;
}

/* Queues an SFTP string: length, then bytes. */
static void
queue_string(struct queue *q, const void *p, size_t n)
{
	uint8_t len[4];

	put_u32(len, (uint32_t)n);
	queue_put(q, len, sizeof(len));
	queue_put(q, p, n);
}

/* Queues the vendor a STATUS answering id, with text (may be empty) as its message. */
static void
queue_status(struct sftp_watch *w, uint32_t id, uint32_t code, const char *text)
{
	size_t mlen = strlen(text);
	uint8_t hdr[13];

	put_u32(hdr, (uint32_t)(1 + 4 + 4 + 4 + mlen + 4 + 2));
	hdr[4] = FXP_STATUS;
	put_u32(hdr + 5, id);
	put_u32(hdr + 9, code);
	queue_put(&w->to_vendor, hdr, sizeof(hdr));
	queue_string(&w->to_vendor, text, mlen);
	queue_string(&w->to_vendor, "en", 2);
}

/* Queues the target the gateway's own request: type, id, [extension name], a, [b]. */
static void
queue_request(
    struct sftp_watch *w, uint8_t type, uint32_t id, const char *ext, const char *a, const char *b)
{
	uint8_t hdr[9];
	size_t n = 1 + 4 + 4 + strlen(a);

	if (ext != NULL)
		n += 4 + strlen(ext);
	if (b != NULL)
		n += 4 + strlen(b);
	put_u32(hdr, (uint32_t)n);
	hdr[4] = type;
	put_u32(hdr + 5, id);
	queue_put(&w->to_target, hdr, sizeof(hdr));
	if (ext != NULL)
		queue_string(&w->to_target, ext, strlen(ext));
	queue_string(&w->to_target, a, strlen(a));
	if (b != NULL)
		queue_string(&w->to_target, b, strlen(b));
}

/* The one refusal a vendor most needs to understand: the file is bigger than allowed. */
static const char reason_too_large[] = "write beyond the maximum file size";
/* A write past a gap would leave zeros where the old file had content (a resumed upload
 * by offset): the temporary file would not be what the vendor meant to put in place. */
static const char reason_gap[] = "write leaves a gap: resumed uploads are not possible";

/* n bytes as the owner most likely wrote them in the config: "5 MB", "1500 bytes". */
static void
size_text(char *buf, size_t len, uint64_t n)
{
	static const struct {
		uint64_t unit;
		const char *name;
	} units[] = { { 1000000000000ull, "TB" }, { 1000000000, "GB" }, { 1000000, "MB" },
		{ 1000, "kB" } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (n >= units[i].unit && n % units[i].unit == 0) {
			snprintf(buf, len, "%llu %s", (unsigned long long)(n / units[i].unit),
			    units[i].name);
			return;
		}
	snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

/* The sentence a refusal sends the vendor, in w->message: what was refused, on which
 * target, why. Control characters of the vendor's path become '?': it reaches a terminal. */
static const char *
request_message(struct sftp_watch *w, const struct request *r, const char *reason)
{
	const char *target = w->pol.target != NULL ? w->pol.target : "the target";
	const char *name = r->path != NULL ? strrchr(r->path, '/') : NULL;
	char size[32];
	char *p;

	if (reason == reason_too_large) {
		name = name != NULL && name[1] != '\0' ? name + 1
		    : r->path != NULL                  ? r->path
		                                       : "the file";
		size_text(size, sizeof(size), w->pol.max_file_size);
		snprintf(w->message, sizeof(w->message),
		    "upload refused: %s is larger than max_file_size %s for %s", name, size,
		    target);
	} else {
		snprintf(w->message, sizeof(w->message), "%s%s%s refused on %s: %s",
		    r->op != NULL ? r->op : "request", r->path != NULL ? " " : "",
		    r->path != NULL ? r->path : "", target, reason);
	}
	for (p = w->message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return w->message;
}

/*
 * Refuses r: reported, answered to the vendor with a STATUS whose message says why (a
 * refused write is a FAILURE, anything else PERMISSION_DENIED), never forwarded. Once a
 * write to a handle is refused, every later write to it is too (the upload is lost
 * anyway), answered the same but reported only once.
 */
static int
request_deny(struct sftp_watch *w, struct request *r, const char *reason)
{
	struct handle *h = r->slot >= 0 && !w->handles[r->slot].dir ? &w->handles[r->slot] : NULL;
	bool write = h != NULL && r->type == FXP_WRITE;
	struct sftp_event ev;
	const char *msg = request_message(w, r, reason);
	char *text;

	event_from_request(&ev, r, SFTP_EV_DENIED);
	ev.reason = reason;
	ev.message = msg;
	if (h != NULL) {
		ev.file = h->file;
		ev.bytes_written = h->bytes_written;
	}
	/* a repeat is answered below but was reported already */
	if (!(write && h->refused != NULL) && watch_emit(w, &ev) == -1)
		return -1;
	if (write && h->refused == NULL) {
		h->refused = reason;
		h->refusal = xstrdup(msg);
	}
	xasprintf(&text, "gatewayd: %s", msg);
	queue_status(w, r->id, write ? FX_FAILURE : FX_PERMISSION_DENIED, text);
	free(text);
	return 0;
}

/* Reads one path argument into *dst; returns -1 when malformed. The first refusal
 * found wins, so *deny is only set when still NULL. */
static int
request_path(const struct sftp_watch *w, struct wire *c, char **dst, bool dotdot_ok, bool check,
    const char **deny)
{
	const uint8_t *s;
	size_t n;
	const char *why;

	if (wire_string(c, &s, &n) == -1)
		return -1;
	why = path_resolve(w, s, n, dotdot_ok, check, dst);
	if (*deny == NULL)
		*deny = why;
	return 0;
}

/* Reads a handle argument; sets *slot, or *deny when the gateway does not know it. */
static int
request_handle(const struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	const uint8_t *s;
	size_t n;

	if (wire_string(c, &s, &n) == -1)
		return -1;
	r->slot = handle_find(w, s, n);
	if (r->slot == -1) {
		*deny = "unknown handle";
		return 0;
	}
	r->gen = w->handles[r->slot].gen;
	if (r->path == NULL && w->handles[r->slot].path != NULL)
		r->path = xstrdup(w->handles[r->slot].path);
	return 0;
}

static const char *
size_refused(const struct sftp_watch *w, const struct attrs *a)
{
	if (w->pol.max_file_size != 0 && (a->flags & ATTR_SIZE) && a->size > w->pol.max_file_size)
		return "size beyond the maximum file size";
	return NULL;
}

/*
 * The temporary name an atomic upload of raw (the path as the vendor sent it, checked)
 * writes: ".NAME.gwtmp-XXXXXXXX" in the same directory, so the rename stays on one file
 * system and the dot keeps it out of a plain ls. Left unset when raw names no file.
 */
static void
upload_name_temp(struct request *r, const uint8_t *raw, size_t n)
{
	size_t dlen = n, blen;
	uint8_t rnd[4];

	while (dlen > 0 && raw[dlen - 1] != '/')
		dlen--;
	blen = n - dlen;
	if (blen == 0 || (blen == 1 && raw[dlen] == '.') ||
	    (blen == 2 && raw[dlen] == '.' && raw[dlen + 1] == '.'))
		return;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return; /* without a name nobody can guess, the upload goes in place */
	xasprintf(&r->tmp, "%.*s.%.*s.gwtmp-%02x%02x%02x%02x", (int)dlen, (const char *)raw,
	    (int)(blen < TMP_BASE_MAX ? blen : TMP_BASE_MAX), (const char *)raw + dlen, rnd[0],
	    rnd[1], rnd[2], rnd[3]);
	r->final = xstrndup((const char *)raw, n);
}

static int
decide_open(struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	struct wire raw = *c;
	const uint8_t *name;
	size_t nlen;
	bool reads, writes;

	r->op = "open";
	if (request_path(w, c, &r->path, false, true, deny) == -1 || wire_u32(c, &r->pflags) == -1)
		return -1;
	r->attrs_at = c->p;
	if (sftp_read_attrs(c, &r->attrs) == -1)
		return -1;
	reads = (r->pflags & FXF_READ) != 0;
	writes = (r->pflags & (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC | FXF_EXCL)) != 0;
	r->need = reads && writes ? NEED_BOTH : writes ? NEED_UPLOAD : NEED_DOWNLOAD;
	if (*deny == NULL && w->pol.max_file_size != 0 && (r->pflags & FXF_APPEND))
		*deny = "append refused with a maximum file size";
	if (*deny == NULL)
		*deny = size_refused(w, &r->attrs);
	/* A file written whole: truncated, or created (OpenSSH's scp opens WRITE|CREAT and
	 * sets the size at the end). Appending, or writing into a file that must exist,
	 * edits that file in place. */
	if (*deny == NULL && w->pol.atomic_uploads && (r->pflags & FXF_WRITE) &&
	    (r->pflags & (FXF_TRUNC | FXF_CREAT)) && !(r->pflags & FXF_APPEND) &&
	    wire_string(&raw, &name, &nlen) == 0)
		upload_name_temp(r, name, nlen);
	r->reserves_handle = true;
	r->has_event = true;
	r->kind = SFTP_EV_OPEN;
	return 0;
}

/* READ and WRITE: the handle must be a file opened for that direction. */
static int
decide_io(struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	const uint8_t *data = NULL;
	size_t n = 0;
	struct handle *h;
	bool write = r->type == FXP_WRITE;

	r->op = write ? "write" : "read";
	r->need = write ? NEED_UPLOAD : NEED_DOWNLOAD;
	if (request_handle(w, c, r, deny) == -1 || wire_u64(c, &r->offset) == -1)
		return -1;
	if (write ? wire_string(c, &data, &n) == -1 : wire_u32(c, &r->len) == -1)
		return -1;
	if (*deny != NULL)
		return 0;
	h = &w->handles[r->slot];
	if (h->dir)
		*deny = "not a file handle";
	else if (!write && !(h->pflags & FXF_READ))
		*deny = "handle not open for reading";
	else if (write && !(h->pflags & FXF_WRITE))
		*deny = "handle not open for writing";
	else if (write && h->refused != NULL)
		*deny = h->refused;
	else if (write && w->pol.max_file_size != 0 &&
	    (r->offset > w->pol.max_file_size || n > w->pol.max_file_size - r->offset))
		*deny = reason_too_large;
	else if (write && h->tmp != NULL && r->offset > h->whole)
		*deny = reason_gap;
	else if (write && need_refused(w, r->need) == NULL) {
		/* counted when forwarded: the content is never kept for the answer */
		handle_account(h, true, r->offset, data, n);
		if (r->offset + n > h->whole)
			h->whole = r->offset + n;
	}
	return 0;
}

static int
decide_close(struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	struct handle *h;

	r->op = "close";
	r->need = NEED_LIST;
	if (request_handle(w, c, r, deny) == -1)
		return -1;
	if (*deny != NULL || need_refused(w, r->need) != NULL)
		return 0;
	/* the target forgets the handle whatever it answers, so does the gateway now */
	h = &w->handles[r->slot];
	if (!h->dir && handle_report_close(w, r->slot, r->id, false) == -1)
		return -2;
	if (h->tmp != NULL) {
		/* the answer waits for the rename (or the removal) of the temporary file */
		r->step = STEP_CLOSE;
		r->tmp = h->tmp;
		r->final = h->final;
		r->refusal = h->refusal;
		h->tmp = h->final = h->refusal = NULL;
	}
	handle_release(w, r->slot);
	r->slot = -1;
	return 0;
}

/* Known extended requests: name, what they need, how their arguments read. */
enum ext_args {
	EXT_NONE,
	EXT_PATH,      /* listing by path */
	EXT_NAME,      /* a name query: answered with a name only, never checked */
	EXT_TWO_PATHS, /* rename, link */
	EXT_HANDLE,
	EXT_PATH_ATTRS,
	EXT_REFUSED,
};

static const struct ext_rule {
	const char *name;
	enum need need;
	enum ext_args args;
	enum sftp_event_kind kind;
	bool has_event;
	const char *refusal;
} ext_rules[] = {
	{ "posix-rename@openssh.com", NEED_UPLOAD, EXT_TWO_PATHS, SFTP_EV_RENAME, true, NULL },
	{ "hardlink@openssh.com", NEED_UPLOAD, EXT_TWO_PATHS, SFTP_EV_LINK, true, NULL },
	{ "lsetstat@openssh.com", NEED_UPLOAD, EXT_PATH_ATTRS, SFTP_EV_SETSTAT, true, NULL },
	{ "fsync@openssh.com", NEED_UPLOAD, EXT_HANDLE, 0, false, NULL },
	{ "statvfs@openssh.com", NEED_LIST, EXT_PATH, 0, false, NULL },
	{ "fstatvfs@openssh.com", NEED_LIST, EXT_HANDLE, 0, false, NULL },
	{ "limits@openssh.com", NEED_LIST, EXT_NONE, 0, false, NULL },
	{ "expand-path@openssh.com", NEED_LIST, EXT_NAME, 0, false, NULL },
	{ "home-directory", NEED_LIST, EXT_NAME, 0, false, NULL },
	{ "users-groups-by-id@openssh.com", NEED_LIST, EXT_NONE, 0, false, NULL },
	/* the target copies between two handles: content the gateway never sees or hashes */
	{ "copy-data", NEED_BOTH, EXT_REFUSED, 0, false, "server-side copy bypasses the evidence" },
};

static const struct ext_rule *
ext_rule_find(const uint8_t *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(ext_rules) / sizeof(ext_rules[0]); i++)
		if (strlen(ext_rules[i].name) == n && memcmp(ext_rules[i].name, name, n) == 0)
			return &ext_rules[i];
	return NULL;
}

static int
decide_extended(struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	const struct ext_rule *rule;
	const uint8_t *name;
	size_t n;

	if (wire_string(c, &name, &n) == -1)
		return -1;
	rule = ext_rule_find(name, n);
	if (rule == NULL) {
		r->op = "extended";
		r->need = NEED_BOTH;
		r->path = n <= 256 && memchr(name, '\0', n) == NULL
		    ? xstrndup((const char *)name, n)
		    : NULL;
		if (!w->pol.allow_unknown_extensions)
			*deny = "extension not allowed";
		r->has_event = true;
		r->kind = SFTP_EV_EXTENSION;
		return 0;
	}
	r->op = rule->name;
	r->need = rule->need;
	r->has_event = rule->has_event;
	r->kind = rule->kind;
	switch (rule->args) {
	case EXT_NONE:
		return 0;
	case EXT_PATH:
		return request_path(w, c, &r->path, false, true, deny);
	case EXT_NAME:
		return request_path(w, c, &r->path, true, false, deny);
	case EXT_TWO_PATHS:
		if (request_path(w, c, &r->path, false, true, deny) == -1)
			return -1;
		return request_path(w, c, &r->path2, false, true, deny);
	case EXT_HANDLE:
		if (request_handle(w, c, r, deny) == -1)
			return -1;
		if (*deny == NULL && r->need == NEED_UPLOAD &&
		    !(w->handles[r->slot].pflags & FXF_WRITE))
			*deny = "handle not open for writing";
		return 0;
	case EXT_PATH_ATTRS:
		if (request_path(w, c, &r->path, false, true, deny) == -1 ||
		    sftp_read_attrs(c, &r->attrs) == -1)
			return -1;
		if (*deny == NULL)
			*deny = size_refused(w, &r->attrs);
		return 0;
	case EXT_REFUSED:
		*deny = rule->refusal;
		return 0;
	}
	return 0;
}

/* SYMLINK: both strings must be allowed paths; OpenSSH sends (target, link), the
 * draft (link, target), so neither may be relative when prefixes apply. */
static int
decide_symlink(struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	const uint8_t *s;
	size_t n;
	struct wire peek = *c;

	r->op = "symlink";
	r->need = NEED_UPLOAD;
	r->has_event = true;
	r->kind = SFTP_EV_SYMLINK;
	if (w->nprefixes != 0 && wire_string(&peek, &s, &n) == 0 && (n == 0 || s[0] != '/'))
		*deny = "relative symlink target";
	if (request_path(w, c, &r->path, false, true, deny) == -1)
		return -1;
	return request_path(w, c, &r->path2, false, true, deny);
}

/*
 * Decides request r (type and id read). Returns 0 with *deny NULL to forward, 0 with
 * *deny set to refuse, -1 when malformed, -2 when a callback failed.
 */
static int
request_decide(struct sftp_watch *w, struct wire *c, struct request *r, const char **deny)
{
	int rc = 0;

	r->need = NEED_LIST;
	switch (r->type) {
	case FXP_OPEN:
		rc = decide_open(w, c, r, deny);
		break;
	case FXP_OPENDIR:
		r->op = "opendir";
		r->reserves_handle = true;
		r->has_event = true;
		r->kind = SFTP_EV_OPENDIR;
		rc = request_path(w, c, &r->path, false, true, deny);
		break;
	case FXP_READ:
	case FXP_WRITE:
		rc = decide_io(w, c, r, deny);
		break;
	case FXP_CLOSE:
		rc = decide_close(w, c, r, deny);
		break;
	case FXP_FSTAT:
		r->op = "fstat";
		rc = request_handle(w, c, r, deny);
		break;
	case FXP_READDIR:
		r->op = "readdir";
		rc = request_handle(w, c, r, deny);
		if (rc == 0 && *deny == NULL && !w->handles[r->slot].dir)
			*deny = "not a directory handle";
		break;
	case FXP_FSETSTAT:
		r->op = "fsetstat";
		r->need = NEED_UPLOAD;
		r->has_event = true;
		r->kind = SFTP_EV_SETSTAT;
		if ((rc = request_handle(w, c, r, deny)) == 0 &&
		    (rc = sftp_read_attrs(c, &r->attrs)) == 0 && *deny == NULL)
			*deny = size_refused(w, &r->attrs);
		break;
	case FXP_LSTAT:
	case FXP_STAT:
	case FXP_READLINK:
		r->op = r->type == FXP_LSTAT ? "lstat" : r->type == FXP_STAT ? "stat" : "readlink";
		rc = request_path(w, c, &r->path, false, true, deny);
		break;
	case FXP_SETSTAT:
	case FXP_MKDIR:
		r->op = r->type == FXP_SETSTAT ? "setstat" : "mkdir";
		r->need = NEED_UPLOAD;
		r->has_event = true;
		r->kind = r->type == FXP_SETSTAT ? SFTP_EV_SETSTAT : SFTP_EV_MKDIR;
		if ((rc = request_path(w, c, &r->path, false, true, deny)) == 0 &&
		    (rc = sftp_read_attrs(c, &r->attrs)) == 0 && *deny == NULL)
			*deny = size_refused(w, &r->attrs);
		break;
	case FXP_REMOVE:
	case FXP_RMDIR:
		r->op = r->type == FXP_REMOVE ? "remove" : "rmdir";
		r->need = NEED_UPLOAD;
		r->has_event = true;
		r->kind = r->type == FXP_REMOVE ? SFTP_EV_REMOVE : SFTP_EV_RMDIR;
		rc = request_path(w, c, &r->path, false, true, deny);
		break;
	case FXP_RENAME:
		r->op = "rename";
		r->need = NEED_UPLOAD;
		r->has_event = true;
		r->kind = SFTP_EV_RENAME;
		if ((rc = request_path(w, c, &r->path, false, true, deny)) == 0)
			rc = request_path(w, c, &r->path2, false, true, deny);
		break;
	case FXP_SYMLINK:
		rc = decide_symlink(w, c, r, deny);
		break;
	case FXP_REALPATH:
		/* a name query: only names come back, and each use of a name is checked */
		r->op = "realpath";
		rc = request_path(w, c, &r->path, true, false, deny);
		break;
	case FXP_EXTENDED:
		rc = decide_extended(w, c, r, deny);
		break;
	default:
		r->op = "unknown";
		*deny = "unknown request type";
		break;
	}
	if (rc != 0)
		return rc;
	/* the grant's direction outranks what the arguments said */
	if (need_refused(w, r->need) != NULL)
		*deny = need_refused(w, r->need);
	if (*deny == NULL && r->reserves_handle && w->nreserved >= SFTP_MAX_HANDLES)
		*deny = "too many open files";
	return 0;
}

static struct request *
request_slot(struct sftp_watch *w)
{
	size_t i;

	for (i = 0; i < SFTP_MAX_REQUESTS; i++) {
		if (!w->reqs[i].used) {
			if (i >= w->reqs_top)
				w->reqs_top = i + 1;
			return &w->reqs[i];
		}
	}
	return NULL;
}

/*
 * Queues r, an OPEN for an atomic upload, with the temporary name instead of the vendor's
 * and CREAT|EXCL added, so the gateway never writes into a file it did not create. false
 * (r back to a plain open) when the rewritten packet would pass the size bound.
 */
static bool
upload_open_temp(struct sftp_watch *w, struct request *r, const uint8_t *end)
{
	size_t tlen = strlen(r->tmp), alen = (size_t)(end - r->attrs_at);
	size_t plen = 1 + 4 + 4 + tlen + 4 + alen;
	uint8_t hdr[9];

	if (plen > SFTP_MAX_PACKET) {
		free(r->tmp);
		free(r->final);
		r->tmp = r->final = NULL;
		return false;
	}
	put_u32(hdr, (uint32_t)plen);
	hdr[4] = FXP_OPEN;
	put_u32(hdr + 5, r->id);
	queue_put(&w->to_target, hdr, sizeof(hdr));
	queue_string(&w->to_target, r->tmp, tlen);
	put_u32(hdr, r->pflags | FXF_CREAT | FXF_EXCL);
	queue_put(&w->to_target, hdr, 4);
	queue_put(&w->to_target, r->attrs_at, alen);
	return true;
}

/* One whole packet from the vendor. */
static int
vendor_packet(struct sftp_watch *w, const uint8_t *pkt, size_t len)
{
	struct wire c = { pkt + 5, len - 5 };
	struct request r, *slot;
	const char *deny = NULL;
	int rc;

	if (!w->init_seen) {
		if (pkt[4] != FXP_INIT)
			return watch_fail(w, "sftp stream does not start with INIT");
		w->init_seen = true;
		/* held until the home is known, so no relative path is decided blind */
		w->holding = true;
		queue_put(&w->to_target, pkt, len);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.slot = -1;
	r.type = pkt[4];
	if (r.type == FXP_INIT || wire_u32(&c, &r.id) == -1)
		return watch_fail(w, "malformed sftp request");
	if (request_find(w, r.id) != NULL)
		return watch_fail(w, "sftp request id already outstanding");
	/* vendor_held keeps a packet out while the table is full */
	if ((slot = request_slot(w)) == NULL)
		return watch_fail(w, "sftp request table inconsistent");
	rc = request_decide(w, &c, &r, &deny);
	if (rc == 0 && deny != NULL)
		rc = request_deny(w, &r, deny);
	else if (rc == 0) {
		if (r.type != FXP_OPEN || r.tmp == NULL || !upload_open_temp(w, &r, pkt + len))
			queue_put(&w->to_target, pkt, len);
		if (r.reserves_handle)
			w->nreserved++;
		r.used = true;
		*slot = r;
		w->nreqs++;
		return 0;
	} else if (rc == -1)
		watch_fail(w, "malformed sftp request");
	request_clear(&r);
	return rc == 0 ? 0 : -1;
}

/*
 * Asks the target for REALPATH ".": its answer is the home directory relative paths
 * are resolved against (scp sends "file" for "gw:file" and never asks itself).
 */
static int
target_ask_home(struct sftp_watch *w)
{
	uint8_t pkt[4 + 1 + 4 + 4 + 1];
	struct request *r = request_slot(w);

	put_u32(pkt, sizeof(pkt) - 4);
	pkt[4] = FXP_REALPATH;
	put_u32(pkt + 5, HOME_REQUEST_ID);
	put_u32(pkt + 9, 1);
	pkt[13] = '.';
	if (r == NULL)
		return watch_fail(w, "sftp request table full at start");
	request_clear(r);
	r->used = true;
	w->nreqs++;
	r->id = HOME_REQUEST_ID;
	r->type = FXP_REALPATH;
	r->op = "realpath";
	r->internal = true;
	queue_put(&w->to_target, pkt, sizeof(pkt));
	return 0;
}

/* VERSION: the target's extension list, shown to the vendor without what is refused. */
static int
target_version(struct sftp_watch *w, const uint8_t *pkt, size_t len)
{
	struct wire c = { pkt + 5, len - 5 };
	const uint8_t *name, *data;
	size_t nlen, dlen, start, i;
	uint32_t version;
	const struct ext_rule *rule;
	uint8_t *out = xmalloc(len);
	size_t o = 9;

	if (wire_u32(&c, &version) == -1) {
		free(out);
		return watch_fail(w, "malformed sftp VERSION");
	}
	if (version != SFTP_VERSION) {
		free(out);
		return watch_fail(w, "target speaks an unsupported sftp version");
	}
	memcpy(out, pkt, 9);
	while (c.left > 0) {
		start = len - c.left;
		if (wire_string(&c, &name, &nlen) == -1 || wire_string(&c, &data, &dlen) == -1) {
			free(out);
			return watch_fail(w, "malformed sftp VERSION");
		}
		rule = ext_rule_find(name, nlen);
		if (rule != NULL && strcmp(rule->name, "posix-rename@openssh.com") == 0)
			w->posix_rename = true;
		if (rule == NULL ? !w->pol.allow_unknown_extensions : rule->args == EXT_REFUSED)
			continue;
		for (i = start; i < len - c.left; i++)
			out[o++] = pkt[i];
	}
	put_u32(out, o - 4);
	queue_put(&w->to_vendor, out, o);
	free(out);
	w->version_seen = true;
	return target_ask_home(w);
}

/* The answer to r, of the given type; body after the id in c. */
static int
target_answer(struct sftp_watch *w, struct request *r, uint8_t type, struct wire *c)
{
	struct handle *h = r->slot >= 0 ? &w->handles[r->slot] : NULL;
	const uint8_t *s;
	size_t n;
	uint32_t code = 0, count;
	struct sftp_event ev;
	int slot;

	if (h != NULL && h->gen != r->gen)
		h = NULL; /* closed meanwhile */
	if (type == FXP_STATUS && wire_u32(c, &code) == -1)
		return watch_fail(w, "malformed sftp STATUS");
	if (r->reserves_handle) {
		w->nreserved--;
		if (type == FXP_HANDLE) {
			if (wire_string(c, &s, &n) == -1 || n == 0 || n > SFTP_HANDLE_MAX)
				return watch_fail(w, "malformed sftp HANDLE");
			if (handle_find(w, s, n) != -1)
				return watch_fail(w, "target reused an open handle");
			for (slot = 0; slot < SFTP_MAX_HANDLES && w->handles[slot].used; slot++)
				;
			if (slot == SFTP_MAX_HANDLES)
				return watch_fail(w, "sftp handle table inconsistent");
			h = &w->handles[slot];
			h->used = true;
			w->nreserved++;
			h->dir = r->type == FXP_OPENDIR;
			h->file = ++w->next_file;
			memcpy(h->bytes, s, n);
			h->len = n;
			h->pflags = r->pflags;
			h->path = r->path != NULL ? xstrdup(r->path) : NULL;
			h->tmp = r->tmp;
			h->final = r->final;
			r->tmp = r->final = NULL;
			h->bytes_read = h->bytes_written = h->hashed = h->whole = 0;
			h->no_hash = NULL;
			if (!h->dir &&
			    ((h->md = EVP_MD_CTX_new()) == NULL ||
			        EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1))
				h->no_hash = "hash failed";
			event_from_request(&ev, r, r->kind);
			ev.status = FX_OK;
			ev.file = h->file;
			ev.handle = h->bytes;
			ev.handle_len = h->len;
			return watch_emit(w, &ev);
		}
	} else if (r->type == FXP_READ && type == FXP_DATA) {
		if (wire_string(c, &s, &n) == -1 || n > r->len)
			return watch_fail(w, "malformed sftp DATA");
		if (h != NULL)
			handle_account(h, false, r->offset, s, n);
		return 0;
	} else if (r->type == FXP_WRITE && type == FXP_STATUS && code != FX_OK) {
		if (h != NULL && h->no_hash == NULL)
			h->no_hash = "a write failed, no hash";
		return 0;
	} else if (r->internal && type == FXP_NAME) {
		if (wire_u32(c, &count) == -1 || count == 0 || wire_string(c, &s, &n) == -1)
			return watch_fail(w, "malformed sftp NAME");
		if (n > 0 && n <= SFTP_MAX_PATH && s[0] == '/' && memchr(s, '\0', n) == NULL) {
			char *home = xstrndup((const char *)s, n);

			w->home = path_normalise(home, true);
			free(home);
		}
		return 0;
	}
	if (!r->has_event)
		return 0;
	event_from_request(&ev, r, r->kind);
	ev.status = type == FXP_STATUS ? (int)code : -1;
	return watch_emit(w, &ev);
}

/* Reports the gateway's own rename or removal of an atomic upload's temporary file. */
static int
upload_report(struct sftp_watch *w, const struct request *r, enum sftp_event_kind kind, int status,
    const char *why)
{
	struct sftp_event ev = {
		.kind = kind,
		.id = r->id,
		.op = r->op,
		.path = r->tmp,
		.path2 = kind == SFTP_EV_RENAME ? r->final : NULL,
		.status = status,
		.reason = why,
		/* the vendor learns why a close failed that no refusal explained */
		.message = kind == SFTP_EV_REMOVE ? r->refusal : NULL,
	};

	return watch_emit(w, &ev);
}

static int
upload_send_remove(struct sftp_watch *w, struct request *r)
{
	r->step = STEP_REMOVE;
	r->op = "remove";
	queue_request(w, FXP_REMOVE, r->id, NULL, r->tmp, NULL);
	return 1;
}

/*
 * The next step of an atomic upload's close, now that the target answered r (status: its
 * STATUS code, -1 for any other answer): 1 when r goes on as the gateway's next request on
 * the same id, 0 when the vendor's CLOSE was answered, -1 when evidence failed. A file
 * whose write was refused, or that the target could not close or rename, is removed and
 * the close fails with the reason.
 */
static int
upload_step(struct sftp_watch *w, struct request *r, int status)
{
	bool ok = status == FX_OK;
	char *text;

	switch (r->step) {
	case STEP_NONE:
		break;
	case STEP_CLOSE:
		if (!ok && r->refusal == NULL)
			r->refusal = xstrdup("upload failed: the target could not close the file");
		if (r->refusal != NULL)
			return upload_send_remove(w, r);
		r->step = STEP_RENAME;
		/* posix-rename replaces the old file in one step; a plain RENAME never
		 * replaces one on OpenSSH (it fails), so the old file survives either way */
		r->op = w->posix_rename ? "posix-rename@openssh.com" : "rename";
		queue_request(w, w->posix_rename ? FXP_EXTENDED : FXP_RENAME, r->id,
		    w->posix_rename ? r->op : NULL, r->tmp, r->final);
		return 1;
	case STEP_RENAME:
		if (upload_report(w, r, SFTP_EV_RENAME, status, "upload complete: put in place") ==
		    -1)
			return -1;
		if (ok) {
			queue_status(w, r->id, FX_OK, "");
			return 0;
		}
		r->refusal = xstrdup(w->posix_rename
		        ? "upload failed: the target could not rename the file into place"
		        : "upload failed: the target cannot replace a file in one step "
		          "(no posix-rename@openssh.com): remove the old file first");
		return upload_send_remove(w, r);
	case STEP_REMOVE:
		if (upload_report(w, r, SFTP_EV_REMOVE, status, "upload discarded") == -1)
			return -1;
		xasprintf(&text, "gatewayd: %s", r->refusal);
		queue_status(w, r->id, FX_FAILURE, text);
		free(text);
		return 0;
	}
	return watch_fail(w, "sftp upload step inconsistent");
}

/* One whole packet from the target. */
static int
target_packet(struct sftp_watch *w, const uint8_t *pkt, size_t len)
{
	struct wire c = { pkt + 5, len - 5 };
	uint8_t type = pkt[4];
	struct request *r;
	uint32_t id;
	int rc;

	if (!w->version_seen) {
		if (type != FXP_VERSION || !w->init_seen)
			return watch_fail(w, "sftp target did not start with VERSION");
		return target_version(w, pkt, len);
	}
	if (type < FXP_STATUS || (type > FXP_ATTRS && type != FXP_EXTENDED_REPLY))
		return watch_fail(w, "unexpected sftp packet from the target");
	if (wire_u32(&c, &id) == -1)
		return watch_fail(w, "malformed sftp answer");
	if ((r = request_find(w, id)) == NULL)
		return watch_fail(w, "sftp answer to no request");
	rc = target_answer(w, r, type, &c);
	if (r->internal) {
		w->holding = false; /* home known, or relative paths stay refused */
	} else if (rc == 0 && r->step != STEP_NONE) {
		rc = upload_step(
		    w, r, type == FXP_STATUS && len >= 13 ? (int)peek_u32(pkt + 9) : -1);
		if (rc == 1)
			return 0; /* r goes on as the gateway's next request */
	} else if (rc == 0) {
		queue_put(&w->to_vendor, pkt, len);
	}
	request_clear(r);
	w->nreqs--;
	while (w->reqs_top > 0 && !w->reqs[w->reqs_top - 1].used)
		w->reqs_top--;
	return rc;
}

/* The full size of the packet whose length field is at p; 0 when refused. */
static size_t
packet_size(struct sftp_watch *w, const uint8_t *p)
{
	uint32_t plen = peek_u32(p);

	if (plen > SFTP_MAX_PACKET || plen < 5) {
		watch_fail(w, plen < 5 ? "sftp packet too short" : "sftp packet too large");
		return 0;
	}
	return 4 + (size_t)plen;
}

/*
 * Vendor input waits for the home directory, and while SFTP_MAX_REQUESTS are
 * outstanding: clients pipeline as far as the server lets them (pscp keeps over a
 * thousand writes in flight), and refusing them would fail the transfer.
 */
static bool
vendor_held(const struct sftp_watch *w)
{
	return w->holding || w->nreqs >= SFTP_MAX_REQUESTS;
}

/*
 * Frames bytes into whole packets and hands each to fn while the queues named by
 * gate are below SFTP_QUEUE_HIGH and held (if given) says no; see
 * sftp_watch_from_vendor. A packet wholly inside buf is handed over in place; only
 * one split across calls is copied.
 */
static ssize_t
watch_feed(struct sftp_watch *w, struct framer *f, const uint8_t *buf, size_t len,
    int (*fn)(struct sftp_watch *, const uint8_t *, size_t), const struct queue *gate1,
    const struct queue *gate2, bool (*held)(const struct sftp_watch *))
{
	size_t used = 0, take, plen;

	if (w->error != NULL)
		return -1;
	while (used < len && !(held != NULL && held(w)) && gate1->len < SFTP_QUEUE_HIGH &&
	    (gate2 == NULL || gate2->len < SFTP_QUEUE_HIGH)) {
		if (f->len == 0 && len - used >= 4) {
			if ((plen = packet_size(w, buf + used)) == 0)
				return -1;
			if (len - used >= plen) {
				if (fn(w, buf + used, plen) == -1)
					return -1;
				used += plen;
				continue;
			}
		}
		if (f->len < 4) {
			take = 4 - f->len < len - used ? 4 - f->len : len - used;
			if (f->buf == NULL)
				f->buf = xmalloc(4);
			memcpy(f->buf + f->len, buf + used, take);
			f->len += take;
			used += take;
			if (f->len < 4)
				break;
			if ((f->need = packet_size(w, f->buf)) == 0)
				return -1;
			f->buf = xreallocarray(f->buf, 1, f->need);
		}
		take = f->need - f->len < len - used ? f->need - f->len : len - used;
		memcpy(f->buf + f->len, buf + used, take);
		f->len += take;
		used += take;
		if (f->len == f->need) {
			f->len = 0;
			if (fn(w, f->buf, f->need) == -1)
				return -1;
		}
	}
	return (ssize_t)used;
}

ssize_t
sftp_watch_from_vendor(struct sftp_watch *w, const void *buf, size_t len)
{
	/* a request may queue a packet either way: a forward or a refusal */
	return watch_feed(
	    w, &w->from_vendor, buf, len, vendor_packet, &w->to_target, &w->to_vendor, vendor_held);
}

ssize_t
sftp_watch_from_target(struct sftp_watch *w, const void *buf, size_t len)
{
	/* gating on to_target too could deadlock: the target stops reading requests
	 * while its answers are not read */
	return watch_feed(w, &w->from_target, buf, len, target_packet, &w->to_vendor, NULL, NULL);
}

size_t
sftp_watch_pending_to_target(const struct sftp_watch *w, const uint8_t **p)
{
	return queue_pending(&w->to_target, p);
}

void
sftp_watch_consume_to_target(struct sftp_watch *w, size_t n)
{
	queue_consume(&w->to_target, n);
}

size_t
sftp_watch_pending_to_vendor(const struct sftp_watch *w, const uint8_t **p)
{
	return queue_pending(&w->to_vendor, p);
}

void
sftp_watch_consume_to_vendor(struct sftp_watch *w, size_t n)
{
	queue_consume(&w->to_vendor, n);
}

const char *
sftp_watch_error(const struct sftp_watch *w)
{
	return w->error != NULL ? w->error : "no error";
}

struct sftp_watch *
sftp_watch_new(const struct sftp_policy *pol, sftp_event_fn cb, void *arg)
{
	struct sftp_watch *w;
	size_t i;

	for (i = 0; pol->path_prefixes != NULL && i < pol->nprefixes; i++)
		if (pol->path_prefixes[i] == NULL || pol->path_prefixes[i][0] != '/')
			return NULL;
	w = xcalloc(1, sizeof(*w));
	w->pol = *pol;
	w->pol.path_prefixes = NULL;
	if (pol->path_prefixes != NULL && pol->nprefixes > 0) {
		w->prefixes = xcalloc(pol->nprefixes, sizeof(*w->prefixes));
		for (i = 0; i < pol->nprefixes; i++)
			w->prefixes[i] = path_normalise(pol->path_prefixes[i], true);
		w->nprefixes = pol->nprefixes;
	}
	w->cb = cb;
	w->arg = arg;
	w->handles = xcalloc(SFTP_MAX_HANDLES, sizeof(*w->handles));
	w->reqs = xcalloc(SFTP_MAX_REQUESTS, sizeof(*w->reqs));
	return w;
}

/* Ids of the gateway's own CLOSE of an abandoned upload, one per handle slot. */
#define ABANDON_REQUEST_ID 0xfffe0000u

int
sftp_watch_abandon(struct sftp_watch *w)
{
	struct request *r;
	struct handle *h;
	uint8_t hdr[9];
	int i;

	for (i = 0; i < SFTP_MAX_HANDLES; i++) {
		h = &w->handles[i];
		/* with the request table full the temporary file stays, named in the evidence */
		if (!h->used || h->tmp == NULL || request_find(w, ABANDON_REQUEST_ID + i) != NULL ||
		    (r = request_slot(w)) == NULL)
			continue;
		if (handle_report_close(w, i, 0, true) == -1)
			return -1;
		request_clear(r);
		r->used = true;
		w->nreqs++;
		r->id = ABANDON_REQUEST_ID + (uint32_t)i;
		r->type = FXP_CLOSE;
		r->op = "close";
		r->step = STEP_CLOSE;
		r->tmp = h->tmp;
		r->final = h->final;
		r->refusal = h->refusal != NULL
		    ? h->refusal
		    : xstrdup("upload abandoned: the channel ended before the file was closed");
		h->tmp = h->final = h->refusal = NULL;
		put_u32(hdr, (uint32_t)(1 + 4 + 4 + h->len));
		hdr[4] = FXP_CLOSE;
		put_u32(hdr + 5, r->id);
		queue_put(&w->to_target, hdr, sizeof(hdr));
		queue_string(&w->to_target, h->bytes, h->len);
		handle_release(w, i);
	}
	return 0;
}

bool
sftp_watch_uploads_closing(const struct sftp_watch *w)
{
	size_t i;

	for (i = 0; i < w->reqs_top; i++)
		if (w->reqs[i].used && w->reqs[i].step != STEP_NONE)
			return true;
	return false;
}

int
sftp_watch_end(struct sftp_watch *w)
{
	int i, rc = 0;

	for (i = 0; i < SFTP_MAX_HANDLES; i++) {
		if (!w->handles[i].used)
			continue;
		if (!w->handles[i].dir && handle_report_close(w, i, 0, true) == -1)
			rc = -1;
		handle_release(w, i);
	}
	return rc;
}

void
sftp_watch_free(struct sftp_watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < SFTP_MAX_HANDLES; i++)
		if (w->handles[i].used)
			handle_release(w, (int)i);
	for (i = 0; i < SFTP_MAX_REQUESTS; i++)
		request_clear(&w->reqs[i]);
	for (i = 0; i < w->nprefixes; i++)
		free(w->prefixes[i]);
	free(w->prefixes);
	free(w->handles);
	free(w->reqs);
	free(w->from_vendor.buf);
	free(w->from_target.buf);
	free(w->to_target.buf);
	free(w->to_vendor.buf);
	free(w->home);
	free(w);
}

int
sftp_stream_starts_init(const uint8_t *p, size_t n)
{
	uint32_t len;

	/* the length of an INIT is below 1 KiB: its top bytes are 0, 0, at most 3 */
	if ((n > 0 && p[0] != 0) || (n > 1 && p[1] != 0) || (n > 2 && p[2] > 3))
		return -1;
	if (n < SFTP_INIT_SHAPE)
		return 0;
	len = peek_u32(p);
	return len >= 5 && p[4] == FXP_INIT ? 1 : -1;
}

static const uint8_t sftp_init_bytes[] = { 0, 0, 0, 5, FXP_INIT, 0, 0, 0, SFTP_VERSION };

/* Byte by byte (KMP), from *state: how much of an INIT the bytes before p already began. */
static bool
sftp_scan_bytes(unsigned *state, const uint8_t *p, size_t n)
{
	/* how much of the INIT is still matched when byte i+1 fails after i+1 matched */
	static const uint8_t back[] = { 0, 1, 2, 0, 0, 1, 2, 3, 0 };
	unsigned st = *state;
	size_t i;

	for (i = 0; i < n; i++) {
		while (st > 0 && sftp_init_bytes[st] != p[i])
			st = back[st - 1];
		if (sftp_init_bytes[st] == p[i] && ++st == sizeof(sftp_init_bytes)) {
			*state = 0;
			return true;
		}
	}
	*state = st;
	return false;
}

bool
sftp_scan_init(unsigned *state, const uint8_t *p, size_t n)
{
	const size_t w = sizeof(sftp_init_bytes);
	const uint8_t *q, *end = p + n;

	/* Byte by byte, this scan was 15 % of a session's time for bulk input, and still 9 % for
	 * zeros once it skipped to each NUL. Now only the edges go byte by byte: an INIT begun
	 * in earlier bytes ends within the first w, and what the last w begin is the state. */
	if (n < 2 * w)
		return sftp_scan_bytes(state, p, n);
	if (sftp_scan_bytes(state, p, w))
		return true;
	/* In between, an INIT is found by its one byte 5, which text and zeros never hold. */
	for (q = p + 3; (q = memchr(q, 5, (size_t)(end - q))) != NULL && end - q >= 6; q++)
		if (memcmp(q - 3, sftp_init_bytes, w) == 0) {
			*state = 0;
			return true;
		}
	*state = 0;
	return sftp_scan_bytes(state, end - w, w);
}

static const char *const event_names[] = {
	[SFTP_EV_OPEN] = "sftp-open",
	[SFTP_EV_OPENDIR] = "sftp-opendir",
	[SFTP_EV_CLOSE] = "sftp-close",
	[SFTP_EV_REMOVE] = "sftp-remove",
	[SFTP_EV_RENAME] = "sftp-rename",
	[SFTP_EV_LINK] = "sftp-link",
	[SFTP_EV_SYMLINK] = "sftp-symlink",
	[SFTP_EV_MKDIR] = "sftp-mkdir",
	[SFTP_EV_RMDIR] = "sftp-rmdir",
	[SFTP_EV_SETSTAT] = "sftp-setstat",
	[SFTP_EV_EXTENSION] = "sftp-extension",
	[SFTP_EV_DENIED] = "sftp-denied",
};

static const char *const status_names[] = {
	"ok",
	"eof",
	"no such file",
	"permission denied",
	"failure",
	"bad message",
	"no connection",
	"connection lost",
	"operation unsupported",
};

static char *
hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xmalloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static void
json_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = hex(p, n);

	json_object_set_new(o, key, json_string(s));
	free(s);
}

/* Paths are bytes on the target; JSON wants UTF-8: others get a base64 twin (audit.h). */
static void
json_set_path(json_t *o, const char *key, const char *path)
{
	if (path != NULL)
		audit_set_text(o, key, path, strlen(path));
}

json_t *
sftp_event_to_json(const struct sftp_event *ev)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[] = {
		{ FXF_READ, "read" },
		{ FXF_WRITE, "write" },
		{ FXF_APPEND, "append" },
		{ FXF_CREAT, "creat" },
		{ FXF_TRUNC, "trunc" },
		{ FXF_EXCL, "excl" },
	};
	json_t *o = json_object(), *fl;
	char ts[64], mode[16];
	struct tm tm;
	size_t i;

	gmtime_r(&ev->when.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06ldZ", ev->when.tv_nsec / 1000);
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "event", json_string(event_names[ev->kind]));
	json_object_set_new(o, "op", json_string(ev->op != NULL ? ev->op : "?"));
	if (!ev->unclosed)
		json_object_set_new(o, "id", json_integer(ev->id));
	json_set_path(o, "path", ev->path);
	json_set_path(o, "path2", ev->path2);
	if (ev->status >= 0)
		json_object_set_new(o, "status",
		    json_string((size_t)ev->status < sizeof(status_names) / sizeof(status_names[0])
		            ? status_names[ev->status]
		            : "other"));
	if (ev->reason != NULL)
		json_set_path(o, "reason", ev->reason); /* it may quote a path */
	if (ev->file != 0)
		json_object_set_new(o, "file", json_integer(ev->file));
	if (ev->handle != NULL)
		json_set_hex(o, "handle", ev->handle, ev->handle_len);
	if (ev->kind == SFTP_EV_OPEN || ev->kind == SFTP_EV_CLOSE) {
		fl = json_array();
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (ev->pflags & flags[i].bit)
				json_array_append_new(fl, json_string(flags[i].name));
		json_object_set_new(o, "flags", fl);
	}
	if (ev->has_mode) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(ev->mode & 07777));
		json_object_set_new(o, "mode", json_string(mode));
	}
	if (ev->has_size)
		json_object_set_new(o, "size", json_integer((json_int_t)ev->size));
	if (ev->kind == SFTP_EV_DENIED && ev->file != 0)
		json_object_set_new(
		    o, "bytes_written", json_integer((json_int_t)ev->bytes_written));
	if (ev->kind == SFTP_EV_CLOSE) {
		json_object_set_new(o, "bytes_read", json_integer((json_int_t)ev->bytes_read));
		json_object_set_new(
		    o, "bytes_written", json_integer((json_int_t)ev->bytes_written));
		if (ev->has_sha256)
			json_set_hex(o, "sha256", ev->sha256, sizeof(ev->sha256));
		else
			json_object_set_new(o, "note", json_string(ev->no_hash));
		if (ev->unclosed)
			json_object_set_new(o, "unclosed", json_true());
	}
	return o;
}
