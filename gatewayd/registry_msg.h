/* registry_msg.h: the framing of the link between the listener (registry.c) and a session
 * process (registry_link.c): one JSON object per SOCK_SEQPACKET message, at most one fd. */
#ifndef GW_REGISTRY_MSG_H
#define GW_REGISTRY_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REGISTRY_BYTES_EVERY 2 /* seconds between a session's byte counter reports */

/* Sizes fd's send buffer for the largest message (an audit event); best effort. */
void registry_msg_prepare(int fd);
/* Sends one JSON message (and pass_fd unless -1); never blocks. Steals msg. 0 or -1. */
int registry_msg_send(int fd, json_t *msg, int pass_fd);
/* Receives one message: 1 with *msg (an object) and maybe *passed_fd, 0 at EOF, -1 when
 * nothing waits or on error, -2 for a malformed message (dropped, logged). */
int registry_msg_recv(int fd, json_t **msg, int *passed_fd);
/* The message's "type", "" when it has none. */
const char *registry_msg_type(json_t *msg);
/* A string member of at most max-1 bytes without control characters, copied to out. */
bool registry_msg_string(json_t *msg, const char *key, char *out, size_t max);
/* A JSON string of len bytes of buf, as base64 (any bytes, not only UTF-8); NULL when they
 * could never fit in a message or memory ran out (the send then fails). */
json_t *registry_msg_bytes(const void *buf, size_t len);
/* The bytes of member key made by registry_msg_bytes, NUL-terminated (caller frees), their
 * number in *len; NULL when it is missing or not base64. */
char *registry_msg_get_bytes(json_t *msg, const char *key, size_t *len);

#endif
