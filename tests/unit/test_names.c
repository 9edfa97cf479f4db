#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

#define U8(s) names_utf8_valid(s, sizeof(s) - 1)

static void test_utf8(void **state)
{
	(void)state;
	assert_true(U8(""));
	assert_true(U8("plain ascii"));
	assert_true(U8("\xc3\xa9"));	     /* é */
	assert_true(U8("\xe2\x82\xac"));     /* € */
	assert_true(U8("\xf0\x9f\x8e\x99")); /* 🎙 */
	assert_true(U8("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_true(U8("\xed\x9f\xbf"));     /* U+D7FF */
	assert_false(U8("\xff"));
	assert_false(U8("\x80"));	      /* lone continuation */
	assert_false(U8("\xc3"));	      /* truncated */
	assert_false(U8("\xe2\x82"));	      /* truncated */
	assert_false(U8("\xc3\x28"));	      /* bad continuation */
	assert_false(U8("\xc0\xaf"));	      /* overlong 2 */
	assert_false(U8("\xc1\xbf"));	      /* overlong 2 */
	assert_false(U8("\xe0\x80\xaf"));     /* overlong 3 */
	assert_false(U8("\xf0\x80\x80\xaf")); /* overlong 4 */
	assert_false(U8("\xed\xa0\x80"));     /* surrogate U+D800 */
	assert_false(U8("\xed\xbf\xbf"));     /* surrogate U+DFFF */
	assert_false(U8("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(U8("\xf5\x80\x80\x80"));
	assert_false(U8("ok\xe2\x82")); /* truncated at the end */
}

static void test_text(void **state)
{
	(void)state;
	assert_true(names_text_valid("tab\there", 8));
	assert_false(names_text_valid("nul\0x", 5));
	assert_false(names_text_valid("esc\x1b", 4));
	assert_false(names_text_valid("del\x7f", 4));
	assert_false(names_text_valid("cr\r", 3));
	assert_true(names_text_valid("\xc3\xa9", 2));
	assert_false(names_text_valid("\xc3", 1));
}

static void test_nick(void **state)
{
	(void)state;
	assert_true(names_nick_valid("a"));
	assert_true(names_nick_valid("John_Doe-1.2"));
	assert_true(names_nick_valid("abcdefghijklmnopqrstuvwxyz012345"));   /* 32 */
	assert_false(names_nick_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
	assert_false(names_nick_valid(""));
	assert_false(names_nick_valid(NULL));
	assert_false(names_nick_valid("a b"));
	assert_false(names_nick_valid("a\"b"));
	assert_false(names_nick_valid("#a"));
	assert_false(names_nick_valid("a,b"));
	assert_false(names_nick_valid("a:b"));
	assert_false(names_nick_valid("\xc3\xa9"));
}

static void test_room(void **state)
{
	(void)state;
	assert_true(names_room_valid("#Lobby"));
	assert_true(names_room_valid("#a"));
	assert_true(names_room_valid("#abcdefghijklmnopqrstuvwxyz012345"));
	assert_false(names_room_valid("#abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(names_room_valid("#"));
	assert_false(names_room_valid("Lobby"));
	assert_false(names_room_valid("##a"));
	assert_false(names_room_valid("#a b"));
	assert_false(names_room_valid(NULL));
}

static void test_realname(void **state)
{
	char s[80];

	(void)state;
	assert_true(names_realname_valid(""));
	assert_true(names_realname_valid("Real Name"));
	assert_true(names_realname_valid("\xc3\x85sa \xc3\x96"
					 "berg"));
	assert_false(names_realname_valid("say \"hi\""));
	assert_false(names_realname_valid("tab\tname"));
	assert_false(names_realname_valid("\xff"));
	memset(s, 'a', 64);
	s[64] = '\0';
	assert_true(names_realname_valid(s));
	s[64] = 'a';
	s[65] = '\0';
	assert_false(names_realname_valid(s));
}

static void test_version(void **state)
{
	int a, b, c;

	(void)state;
	assert_int_equal(names_version_parse("1.0.0", &a, &b, &c), 0);
	assert_int_equal(a, 1);
	assert_int_equal(names_version_parse("12.345.6789", &a, &b, &c), 0);
	assert_int_equal(a, 12);
	assert_int_equal(b, 345);
	assert_int_equal(c, 6789);
	assert_int_equal(names_version_parse("999999999.0.0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("1234567890.0.0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("1.0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("1.0.0.0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("1..0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("v1.0.0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("1.0.0 ", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("-1.0.0", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse("", &a, &b, &c), 0);
	assert_int_not_equal(names_version_parse(NULL, &a, &b, &c), 0);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(names_equal("Alice", "aLICE"));
	assert_false(names_equal("Alice", "Alic"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8),     cmocka_unit_test(test_text),
	    cmocka_unit_test(test_nick),     cmocka_unit_test(test_room),
	    cmocka_unit_test(test_realname), cmocka_unit_test(test_version),
	    cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
