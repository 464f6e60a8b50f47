/* fuzz_frontlink.c: libFuzzer harness for what a vendor-facing process sends its monitor
 * (frontlink_parse, gatewayd/frontlink.c): one datagram, the vendor's bytes inside. Checks
 * that an accepted message keeps every string terminated and every count and span in bounds. */
#include "tests/fuzz/fuzz.h"

#include "gatewayd/frontlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_text(const char *s, size_t max)
{
	if (memchr(s, '\0', max) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frontmsg m;
	static struct frontreq rq;
	size_t i;

	if (size > sizeof(m.buf))
		return 0;
	memcpy(m.buf, data, size);
	m.body.p = m.buf;
	m.body.left = size;
	if (wire_u8(&m.body, &m.type) != 0 || wire_u32(&m.body, &m.chan) != 0)
		return 0;
	if (frontlink_parse(&m, &rq) != 0)
		return 0;
	if (rq.chan >= FRONTMSG_CHANNELS_MAX || rq.nanswers > FRONTMSG_PROMPTS_MAX)
		abort();
	fuzz_check_text(rq.text, sizeof(rq.text));
	fuzz_check_text(rq.text2, sizeof(rq.text2));
	fuzz_check_text(rq.key, sizeof(rq.key));
	for (i = 0; i < rq.nanswers; i++)
		fuzz_check_text(rq.answers[i], sizeof(rq.answers[i]));
	if (rq.type == FM_DATA &&
	    (rq.len == 0 || rq.len > FRONTMSG_DATA_MAX || rq.data < m.buf ||
	        rq.data + rq.len > m.buf + size || rq.flag > 1))
		abort();
	if (rq.type == FM_ACK && rq.num[0] > FRONTMSG_WINDOW_OUT)
		abort();
	if (rq.type == FM_FWD_OPEN && (rq.num[0] > 65535 || rq.num[1] > 65535))
		abort();
	return 0;
}
