/* net: what a failed connect tells the person reading the log. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"

static void on_connected(void *arg)
{
	(void)arg;
	fail_msg("connected to nothing");
}

static void on_line(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void on_closed(void *arg, const char *why)
{
	(void)arg;
	(void)why;
	fail_msg("closed is not called when net_connect fails");
}

static void on_voice(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static void test_unknown_host_is_named(void **state)
{
	struct net_handlers h = {on_connected, on_line, on_closed, on_voice};
	struct loop *l = NULL;
	struct net *n = NULL;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(net_new(&n, l, &h, NULL), 0);
	/* a name no resolver knows, without asking the network */
	assert_int_equal(net_connect(n, "", 6060), -ENOENT);
	assert_non_null(strstr(net_strerror(-ENOENT), "no such host name"));
	assert_non_null(strstr(net_strerror(-EAGAIN), "no network or DNS"));
	/* the rest as the C library says them */
	assert_string_equal(net_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
	net_free(n);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_host_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
