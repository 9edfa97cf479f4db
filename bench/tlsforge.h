/* tlsforge.h: TLS 1.3 records an honest OpenSSL endpoint never writes (empty records,
 * warning alerts), sealed with a live connection's own traffic keys, for the tests and
 * benches that check what a flood of them costs the other end (test_tlsstep,
 * bench_attack). The endpoint's context records its traffic secrets (tlsforge_ctx);
 * after the handshake every record it sends must come from here (tlsforge_new takes
 * the sequence over from 0), with TLS_AES_128_GCM_SHA256 as the suite. */
#ifndef IC_TLSFORGE_H
#define IC_TLSFORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSFORGE_OVERHEAD (5 + 1 + 16) /* header, inner type, tag */

/* Record the traffic secrets of every connection of ctx (SSL_CTX *), and offer only
 * AES-128-GCM. Call before its connections are made. Returns 0 or -ENOMEM. */
int tlsforge_ctx(void *ctx);

/* A context (SSL_CTX *; tlsctx_free) as the server (server true) or the box makes it,
 * presenting a fresh Ed25519 identity; forge: its connections' traffic secrets recorded
 * (tlsforge_ctx). For tests that hold both ends (test_tlsstep, fuzz_tls). NULL when it
 * cannot be made. */
void *tlsforge_new_ctx(bool server, bool forge);

struct tlsforge;

/* The sealer of ssl's (SSL *, handshake done) outgoing records, at sequence 0.
 * Returns 0, -ENOENT (no secret recorded: tlsforge_ctx was not called) or -ENOMEM. */
int tlsforge_new(struct tlsforge **fp, void *ssl);
void tlsforge_free(struct tlsforge *f);

/* One record of inner type (0x17 application data, 0x15 alert, 0x16 handshake) with
 * len bytes of content (0 is allowed) into out (len + TLSFORGE_OVERHEAD bytes).
 * Returns its length, or 0 when it cannot be sealed. */
size_t tlsforge_record(struct tlsforge *f, uint8_t type, const void *content, size_t len,
		       uint8_t *out);

/* A KeyUpdate message (requested: the other end must update its keys too) into out
 * (5 + TLSFORGE_OVERHEAD bytes), sealed with the current keys; the records after it
 * are sealed with the next ones (RFC 8446 section 7.2). Returns its length or 0. */
size_t tlsforge_key_update(struct tlsforge *f, bool requested, uint8_t *out);

#endif
