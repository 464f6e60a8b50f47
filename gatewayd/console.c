/* console.c: the session process's side of a console command: the exec string of a channel
 * of a login without a target, split into words, its standard input gathered when the command
 * reads one, sent to the listener, which carries it out (an auditor's runs here,
 * console_auditor.c); the answer is the channel's notice. */
#include "gatewayd/console.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "gatewayd/gatewayd.h"
#include "gatewayd/registry_link.h"

struct console_job {
	char **argv;
	size_t argc;
	char input[CONSOLE_INPUT_MAX];
	size_t inlen;
	bool overflow;           /* more input came than any command reads */
	struct auditor_job *job; /* an auditor's command running */
};

static void
console_answer(struct relay *r, int status, const char *out, const char *err)
{
	free(r->notice);
	free(r->notice_err);
	r->notice = xstrdup(out);
	r->notice_err = err != NULL && err[0] != '\0' ? xstrdup(err) : NULL;
	r->notice_status = status;
}

/* Has the listener run argv with the input gathered; its answer becomes the notice. */
static void
console_run(struct relay *r, char **argv, size_t argc, const char *input, size_t inlen)
{
	struct session *s = r->session;
	json_t *req, *words = json_array(), *answer = NULL;
	size_t i;
	int fd;

	for (i = 0; i < argc; i++)
		if (json_array_append_new(words, json_string(argv[i])) != 0) {
			json_decref(words);
			console_answer(r, 2, "", "the command is not UTF-8 text");
			return;
		}
	req = json_pack(
	    "{s:s, s:s, s:o}", "type", "console", "principal", s->person->id, "argv", words);
	if (input != NULL && json_object_set_new(req, "input", json_stringn(input, inlen)) != 0) {
		json_decref(req);
		console_answer(r, 1, "", "the input is not text");
		return;
	}
	if (registry_link_call(s->link, req, &answer, &fd) != 0) {
		error_f("%s: no answer from the listener to a console command", s->id);
		console_answer(r, 1, "", "the gateway cannot carry out commands now");
		return;
	}
	console_answer(r, (int)json_integer_value(json_object_get(answer, "status")),
	    json_string_value(json_object_get(answer, "out")) ?: "",
	    json_string_value(json_object_get(answer, "err")));
	json_decref(answer);
	if (fd != -1)
		console_watch_start(r, fd); /* the notice follows once the stream ends */
}

int
console_exec(struct relay *r, const char *command)
{
	char why[160], **argv;
	size_t argc;
	int status;

	if (cmdline_split(command, strlen(command), &argv, &argc, why, sizeof(why)) != 0) {
		console_answer(r, 2, "", why);
		return 0;
	}
	if (strcmp(argv[0], "help") == 0) {
		char *help = console_help(r->session->person);

		console_answer(r, 0, help, NULL);
		free(help);
	} else if (r->session->person->vendor->role == GW_ROLE_AUDITOR) {
		struct auditor_job *job =
		    console_auditor_start(r, argv, argc, &status, why, sizeof(why));

		if (job == NULL)
			console_answer(r, status, "", why);
		else {
			r->console = xcalloc(1, sizeof(*r->console));
			r->console->job = job;
		}
	} else if (console_reads_input(argv[0])) {
		/* runs once the vendor's input ends (console_waiting) */
		r->console = xcalloc(1, sizeof(*r->console));
		r->console->argv = argv;
		r->console->argc = argc;
		return 0;
	} else
		console_run(r, argv, argc, NULL, 0);
	cmdline_free(argv, argc);
	return 0;
}

int
console_input(struct relay *r, const void *data, size_t len)
{
	struct console_job *j = r->console;

	/* ^C on a terminal (ssh -t) stops an auditor's command, a replay above all. */
	if (j->job != NULL) {
		if (memchr(data, 0x03, len) != NULL)
			console_auditor_stop(r, j->job);
		return (int)len;
	}
	if (len > sizeof(j->input) - j->inlen)
		j->overflow = true;
	else {
		memcpy(j->input + j->inlen, data, len);
		j->inlen += len;
	}
	return (int)len;
}

bool
console_waiting(struct relay *r)
{
	struct console_job *j = r->console;
	int status;

	if (j != NULL && j->job != NULL) {
		if (console_auditor_pump(r, j->job, &status))
			return true;
		console_auditor_free(r, j->job);
		j->job = NULL;
		console_answer(r, status, "", NULL); /* its output and errors went already */
		return false;
	}
	if (j == NULL || j->argv == NULL)
		return false;
	if (!r->vendor_eof && !r->vendor_closed)
		return true;
	if (j->overflow)
		console_answer(r, 2, "", "standard input longer than a signature");
	else
		console_run(r, j->argv, j->argc, j->input, j->inlen);
	cmdline_free(j->argv, j->argc);
	j->argv = NULL;
	return false;
}

void
console_free(struct relay *r)
{
	console_watch_stop(r);
	if (r->console == NULL)
		return;
	console_auditor_free(r, r->console->job);
	cmdline_free(r->console->argv, r->console->argc);
	free(r->console);
	r->console = NULL;
}

bool
console_busy(struct session *s)
{
	struct relay *r;

	TAILQ_FOREACH (r, &s->relays, entry)
		if (r->console != NULL && r->console->job != NULL)
			return true;
	return false;
}
