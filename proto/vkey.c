/* vkey.c: a voice key's text form and its wiping: pure, without OpenSSL, so that the
 * line parser (msg.c) can read the VOICE line. */
#include <errno.h>
#include <string.h>

#include "hex.h"
#include "vcrypt.h"

int vc_key_parse(struct vc_key *k, const char *hex, size_t len)
{
	uint8_t raw[VC_KEY_LEN + VC_SALT_LEN];

	if (len != VC_KEY_HEX || hex_decode(hex, sizeof(raw), raw))
		return -EINVAL;
	memcpy(k->key, raw, VC_KEY_LEN);
	memcpy(k->salt, raw + VC_KEY_LEN, VC_SALT_LEN);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

void vc_key_format(const struct vc_key *k, char *out)
{
	hex_encode(k->key, VC_KEY_LEN, out);
	hex_encode(k->salt, VC_SALT_LEN, out + 2 * VC_KEY_LEN);
}

void vc_key_wipe(struct vc_key *k)
{
	explicit_bzero(k, sizeof(*k)); /* never optimised away, unlike memset */
}
