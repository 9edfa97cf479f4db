#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "room.h"

/* The registry never dereferences members: distinct addresses stand in for sessions. */
static char m[4];
#define M(i) ((struct sess *)(void *)&m[i])

static void test_lobby_always(void **state)
{
	struct rooms rs;
	struct room *r;

	(void)state;
	assert_int_equal(rooms_init(&rs), 0);
	assert_int_equal(rooms_count(&rs), 1);
	assert_ptr_equal(rooms_find(&rs, "#lobby"), rs.lobby);
	assert_int_equal(rooms_join(&rs, "#LOBBY", M(0), &r), 0);
	assert_ptr_equal(r, rs.lobby);
	assert_string_equal(r->name, "#Lobby");
	assert_int_equal(rooms_part(&rs, r, M(0)), 0);
	assert_ptr_equal(rooms_find(&rs, "#Lobby"), rs.lobby); /* empty, still there */
	rooms_deinit(&rs);
}

static void test_create_order_delete(void **state)
{
	struct rooms rs;
	struct room *r, *r2;

	(void)state;
	assert_int_equal(rooms_init(&rs), 0);
	assert_null(rooms_find(&rs, "#Turbo"));
	assert_int_equal(rooms_join(&rs, "#TurboRoom", M(0), &r), 0);
	assert_int_equal(rooms_join(&rs, "#turboroom", M(1), &r2), 0);
	assert_ptr_equal(r, r2);
	assert_string_equal(r->name, "#TurboRoom"); /* as first created */
	assert_int_equal(rooms_join(&rs, "#TURBOROOM", M(2), &r2), 0);
	assert_int_equal(rooms_join(&rs, "#TurboRoom", M(1), &r2), -EALREADY);
	assert_int_equal(r->n, 3);
	assert_ptr_equal(r->members[0], M(0));
	assert_ptr_equal(r->members[1], M(1));
	assert_ptr_equal(r->members[2], M(2));
	assert_int_equal(rooms_count(&rs), 2);
	assert_int_equal(rooms_part(&rs, r, M(1)), 0); /* order kept */
	assert_ptr_equal(r->members[0], M(0));
	assert_ptr_equal(r->members[1], M(2));
	assert_int_equal(rooms_part(&rs, r, M(1)), -ENOENT);
	assert_int_equal(rooms_part(&rs, r, M(0)), 0);
	assert_int_equal(rooms_part(&rs, r, M(2)), 0); /* empty: gone */
	assert_null(rooms_find(&rs, "#TurboRoom"));
	assert_int_equal(rooms_count(&rs), 1);
	/* recreated with a new spelling */
	assert_int_equal(rooms_join(&rs, "#TURBOROOM", M(3), &r), 0);
	assert_string_equal(r->name, "#TURBOROOM");
	rooms_deinit(&rs); /* frees the room still in use */
}

static void test_many_rooms(void **state)
{
	struct rooms rs;
	struct room *r;
	char name[16];

	(void)state;
	assert_int_equal(rooms_init(&rs), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "#r%d", i);
		assert_int_equal(rooms_join(&rs, name, M(i % 4), &r), 0);
	}
	assert_int_equal(rooms_count(&rs), 3001);
	for (int i = 0; i < 3000; i += 7) {
		snprintf(name, sizeof(name), "#R%d", i);
		r = rooms_find(&rs, name);
		assert_non_null(r);
		assert_int_equal(rooms_part(&rs, r, M(i % 4)), 0);
		assert_null(rooms_find(&rs, name));
	}
	rooms_deinit(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lobby_always),
	    cmocka_unit_test(test_create_order_delete),
	    cmocka_unit_test(test_many_rooms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
