/* jbuf_drive.c: the jitter buffer's tests' driver (jbuf_drive.h). */
#include "jbuf_drive.h"

/* A packet of pkt_ms. */
enum jbuf_put_res put_ms(struct jbuf *j, uint16_t seq, unsigned pkt_ms, uint64_t t)
{
	static const uint8_t d[2] = {0, 0};
	struct jbuf_pkt p = {1, seq, seq * 48u * pkt_ms, 48 * pkt_ms, seq == 0, d, 2};

	return jbuf_put(j, &p, t);
}

/* A packet of 20 ms: what most tables send. */
enum jbuf_put_res put(struct jbuf *j, uint32_t ssrc, uint16_t seq, uint32_t ts,
		      bool marker, const uint8_t *data, size_t len, uint64_t t)
{
	struct jbuf_pkt p = {ssrc, seq, ts, 960, marker, data, len};

	return jbuf_put(j, &p, t);
}

enum jbuf_out get(struct jbuf *j, uint64_t t)
{
	struct jbuf_out_frame f;

	return jbuf_get(j, t, &f);
}

struct jbuf *jb;

int jb_setup(void **state)
{
	(void)state;
	return jbuf_new(&jb);
}

int jb_teardown(void **state)
{
	(void)state;
	jbuf_free(jb);
	return 0;
}
