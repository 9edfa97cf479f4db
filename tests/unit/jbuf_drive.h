/* jbuf_drive.h: one jitter buffer (jb, made afresh for each test) and packets put into
 * it and taken out of it by the time given, for the jitter buffer's tests. */
#ifndef IC_JBUF_DRIVE_H
#define IC_JBUF_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"

extern struct jbuf *jb;

/* cmocka's setup and teardown: jb made, and freed; JB_TEST a test run between them. */
int jb_setup(void **state);
int jb_teardown(void **state);
#define JB_TEST(f) cmocka_unit_test_setup_teardown(f, jb_setup, jb_teardown)

/* A packet of pkt_ms, sequence seq, its timestamp seq * pkt_ms, at t. */
enum jbuf_put_res put_ms(struct jbuf *j, uint16_t seq, unsigned pkt_ms, uint64_t t);
/* A packet of 20 ms: what most tables send. */
enum jbuf_put_res put(struct jbuf *j, uint32_t ssrc, uint16_t seq, uint32_t ts,
		      bool marker, const uint8_t *data, size_t len, uint64_t t);
/* The next piece at t. */
enum jbuf_out get(struct jbuf *j, uint64_t t);

#endif
