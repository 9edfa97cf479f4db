/* Fuzz: the encrypted voice path (section 3): nothing opens without a valid tag.
 *   byte 0 even: the rest is a datagram from the network, opened under a fixed key with
 *     the counter window in front (checked, then marked only after the tag): if it opens,
 *     it must be exactly what sealing its plain packet again gives (authentic).
 *   byte 0 odd: byte 1 picks a bit (255: none), bytes 2-9 a counter, the rest an RTP
 *     packet: sealed, that bit flipped, opened: it opens if and only if no bit was
 *     flipped, and then gives the packet back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ic_limits.h"
#include "seqwin.h"
#include "vcrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vc *seal, *open_;
static struct ctrwin win;

static void init(void)
{
	struct vc_key k;

	for (size_t i = 0; i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(k.salt); i++)
		k.salt[i] = (uint8_t)(i * 13 + 5);
	if (vc_new(&seal, &k, true) || vc_new(&open_, &k, false))
		abort();
	ctrwin_init(&win);
}

static void from_network(const uint8_t *p, size_t n)
{
	uint8_t out[IC_RTP_MAX], again[IC_RTP_MAX];
	uint64_t ctr = 0;
	int r;

	if (n >= VC_MIN_LEN) {
		uint64_t c = 0;

		for (int i = 0; i < 8; i++)
			c = c << 8 | p[VC_HDR_LEN + i];
		if (ctrwin_check(&win, c) == SEQ_REJECT)
			return;
	}
	r = vc_open(open_, p, n, IC_RTP_MAX, out, sizeof(out), &ctr);
	if (r < 0)
		return;
	ctrwin_mark(&win, ctr);
	if (vc_seal(seal, ctr, out, (size_t)r, again, sizeof(again)) != (int)n ||
	    memcmp(again, p, n))
		abort(); /* opened, yet not what we would have sealed */
}

static void flipped(const uint8_t *d, size_t size)
{
	uint8_t rtp[IC_RTP_MAX], sealed[IC_RTP_MAX], out[IC_RTP_MAX];
	size_t len =
	    size - 10 > IC_RTP_MAX - VC_OVERHEAD ? IC_RTP_MAX - VC_OVERHEAD : size - 10;
	uint64_t ctr = 0, got;
	int n, r;

	if (len < VC_HDR_LEN)
		return;
	for (int i = 0; i < 8; i++)
		ctr = ctr << 8 | d[2 + i];
	memcpy(rtp, d + 10, len);
	rtp[0] = 0x80;
	n = vc_seal(seal, ctr, rtp, len, sealed, sizeof(sealed));
	if (n < 0)
		abort();
	if (d[1] != 255)
		sealed[(d[1] * 131u) % (unsigned)n] ^= (uint8_t)(1u << (d[1] % 8));
	r = vc_open(open_, sealed, (size_t)n, IC_RTP_MAX, out, sizeof(out), &got);
	if ((d[1] == 255) != (r >= 0))
		abort(); /* a flip that opened, or an intact packet that did not */
	if (r >= 0 && ((size_t)r != len || memcmp(out, rtp, len) || got != ctr))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!seal)
		init();
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		from_network(data + 1, size - 1);
	else if (size >= 10)
		flipped(data, size);
	return 0;
}
