/* store_notice.h: the notifications gateways sharing a store send each other on the channel
 * "gatewayd" (docs/store.md): "KIND GATEWAY REST". Parsing them is pure: no I/O, no state. */
#ifndef GW_STORE_NOTICE_H
#define GW_STORE_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "gatewayd/control.h"
#include "gatewayd/guard.h"
#include "policy/policy.h"

#define STORE_NOTICE_MAX 7999 /* PostgreSQL's bound on a NOTIFY payload */

enum store_notice_kind {
	NOTICE_TICKET,     /* "ticket GW ID": installed, or further signatures */
	NOTICE_REVOCATION, /* "revocation GW -": new revocations */
	NOTICE_REQUEST,    /* "request GW ID": a request created or decided */
	NOTICE_VENDOR,     /* "vendor GW 1|0 VENDOR": disabled or enabled */
	NOTICE_KILL,       /* "kill GW TARGET {json}": end sessions; TARGET a gateway or "*" */
	NOTICE_LOCKOUT,    /* "lockout GW SCOPE UNTIL KEY" */
};

struct store_notice {
	enum store_notice_kind kind;
	char origin[GW_ID_MAX + 1];
	char id[GUARD_KEY_LEN];      /* ticket, request, vendor, kill's name, lockout's key */
	bool disabled;               /* vendor */
	char gateway[GW_ID_MAX + 1]; /* kill: the gateway told, "*" for every one */
	enum control_selector by;    /* kill */
	char message[192];           /* kill: what the vendor is told */
	char reason[320];            /* kill: why, for the evidence */
	char scope[8];               /* lockout: "source" or "person" */
	time_t until;                /* lockout */
};

/* 0 with *out, or -1 when payload (len bytes, not NUL-terminated) is not a notice. */
int store_notice_parse(const char *payload, size_t len, struct store_notice *out);

#endif
