/* The client's configuration: file, flags (which win), board files (which fill in only
 * what was not set), and the errors a person sees. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/keycase.h"

#include "cfg.h"

static char path[64], bpath[64], err[512];

static void write_to(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-cfg-%d.conf", (int)getpid());
	snprintf(bpath, sizeof(bpath), "/tmp/test-board-%d.conf", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	unlink(bpath);
	return 0;
}

static int args(struct cfg *c, const char *const *argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	cfg_defaults(c);
	return cfg_from_args(c, argc, (char **)argv, err, sizeof(err));
}

static void test_file_and_flags(void **state)
{
	struct cfg c;
	const char *argv[] = {"intercom", "--config",	   path, "--nick", "Flag",
			      "--server", "10.0.0.5:7000", NULL};

	(void)state;
	write_to(path, "# the box\nserver = intercom.lan\nport = 6061\nnick = FromFile\n"
		       "real_name = Front Door\ncall_target = Kitchen\njoin = #Hall\n"
		       "frame_ms = 10\nbitrate = 16000\nauto_accept = yes\n");
	assert_int_equal(args(&c, argv), 0);
	assert_string_equal(c.server, "10.0.0.5"); /* the flag wins */
	assert_int_equal(c.port, 7000);
	assert_string_equal(c.nick, "Flag");
	assert_string_equal(c.realname, "Front Door"); /* the file applies */
	assert_string_equal(c.call_target, "Kitchen");
	assert_string_equal(c.join, "#Hall");
	assert_int_equal(c.frame_ms, 10);
	assert_int_equal(c.bitrate, 16000);
	assert_true(c.auto_accept);
	assert_true(c.echo_cancel); /* on unless turned off */
	assert_true(c.handsfree);   /* the default */
	assert_string_equal(c.board, "none");
}

static void test_server_forms(void **state)
{
	struct cfg c;
	const char *a1[] = {"intercom", "--config", path, "--server", "host", NULL};
	const char *a2[] = {"intercom", "--config", path, "--server", "[::1]:6062", NULL};
	const char *a3[] = {"intercom", "--config", path, "--server", "::1", NULL};
	const char *a4[] = {"intercom", "--config", path, "--server", "h:99999", NULL};

	(void)state;
	write_to(path, "");
	assert_int_equal(args(&c, a1), 0);
	assert_string_equal(c.server, "host");
	assert_int_equal(c.port, 6060);
	assert_int_equal(args(&c, a2), 0);
	assert_string_equal(c.server, "::1");
	assert_int_equal(c.port, 6062);
	assert_int_equal(args(&c, a3), 0);
	assert_string_equal(c.server, "::1");
	assert_int_equal(args(&c, a4), -EINVAL);
	assert_non_null(strstr(err, "port '99999'"));
}

/* The scripted push-to-talk: once, then repeated with --talk-every. */
static void test_script_ptt(void **state)
{
	struct cfg c;
	const char *once[] = {"intercom", "--config",	path,  "--talk-after",
			      "1",	  "--talk-for", "0.5", NULL};
	const char *rep[] = {"intercom", "--config",   path,   "--talk-after",
			     "1",	 "--talk-for", "0.25", "--talk-every",
			     "0.6",	 NULL};
	const char *bad[] = {"intercom", "--config",   path,  "--talk-after",
			     "1",	 "--talk-for", "0.5", "--talk-every",
			     "0.5",	 NULL};
	const char *alone[] = {"intercom", "--config", path, "--talk-every", "2", NULL};

	(void)state;
	write_to(path, "");
	assert_int_equal(args(&c, once), 0);
	assert_false(cfg_script_ptt(&c, 999));
	assert_true(cfg_script_ptt(&c, 1000));
	assert_true(cfg_script_ptt(&c, 1499));
	assert_false(cfg_script_ptt(&c, 1500));
	assert_false(cfg_script_ptt(&c, 2100)); /* once only */
	assert_int_equal(args(&c, rep), 0);
	assert_false(cfg_script_ptt(&c, 999));
	assert_true(cfg_script_ptt(&c, 1000));
	assert_false(cfg_script_ptt(&c, 1250));
	assert_true(cfg_script_ptt(&c, 1600)); /* the second press */
	assert_true(cfg_script_ptt(&c, 1840));
	assert_false(cfg_script_ptt(&c, 1860));
	assert_true(cfg_script_ptt(&c, 1000 + 49 * 600 + 100)); /* the fiftieth */
	assert_int_equal(args(&c, bad), -EINVAL);
	assert_non_null(strstr(err, "longer than --talk-for"));
	assert_int_equal(args(&c, alone), -EINVAL);
	assert_non_null(strstr(err, "--talk-every needs"));
	assert_int_equal(args(&c, (const char *[]){"intercom", "--config", path, NULL}),
			 0);
	assert_false(cfg_script_ptt(&c, 5000)); /* no script: never */
}

static void test_broken(void **state)
{
	struct cfg c;
	const char *argv[] = {"intercom", "--config", path, NULL};
	const char *talk[] = {"intercom", "--config", path, "--talk-after", "1", NULL};
	const char *secs[] = {"intercom", "--config", path, "--exit-after", "soon", NULL};
	const char *unk[] = {"intercom", "--config", path, "--frobnicate", NULL};

	(void)state;
	write_to(path, "nick = Door\n\nframe_ms = 15\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, ":3: frame_ms: 10 or 20"));
	write_to(path, "nick Door\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, ":1: expected 'key = value'"));
	write_to(path, "nick = bad nick\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, ":1: nick:"));
	write_to(path, "colour = blue\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, ":1: unknown key 'colour'"));
	write_to(path, "join = Hall\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	write_to(path, "pin_ptt = 999\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, "pin_ptt"));
	write_to(path, "");
	assert_int_equal(args(&c, talk), -EINVAL);
	assert_non_null(strstr(err, "--talk-after and --talk-for go together"));
	assert_int_equal(args(&c, secs), -EINVAL);
	assert_int_equal(args(&c, unk), -EINVAL);
	assert_string_equal(err, "unknown option '--frobnicate'");
}

static void test_board_file(void **state)
{
	struct cfg c;
	const char *argv[] = {"intercom", "--config", path, NULL};
	const char *flag[] = {"intercom", "--config", path, "--complexity", "9", NULL};

	(void)state;
	write_to(bpath, "gpio_chip = pinctrl-rp1\nactive_low = yes\npin_ptt = 17\n"
			"pin_call = 27\npin_led_tx = 6\ncomplexity = 8\n");
	{
		char text[256];

		snprintf(text, sizeof(text), "board = %s\npin_call = 4\n", bpath);
		write_to(path, text);
	}
	assert_int_equal(args(&c, argv), 0);
	assert_string_equal(c.gpio_chip, "pinctrl-rp1");
	assert_int_equal(c.pins[PIN_PTT], 17);
	assert_int_equal(c.pins[PIN_CALL], 4); /* the config's own pin wins */
	assert_int_equal(c.pins[PIN_LED_TX], 6);
	assert_int_equal(c.pins[PIN_DENY], -1); /* not wired */
	assert_int_equal(c.complexity, 8);
	assert_int_equal(args(&c, flag), 0);
	assert_int_equal(c.complexity, 9); /* and so does a flag */
	/* a board file holds only board keys */
	write_to(bpath, "nick = Sneaky\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, "'nick' does not belong in a board file"));
	/* a board file may live at a long path (boards are paths too) */
	{
		char longp[250];

		memset(longp, 'd', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		cfg_defaults(&c);
		assert_int_equal(cfg_set(&c, "board", longp, err, sizeof(err)), 0);
		assert_string_equal(c.board, longp);
	}
	/* a board name looks in the installed board directory */
	write_to(path, "board = no-such-board\n");
	assert_int_equal(args(&c, argv), -EINVAL);
	assert_non_null(strstr(err, IC_BOARD_DIR "/no-such-board.conf: cannot open"));
	/* and, from a build that was not installed, in the source tree's board/ */
	write_to(path, "board = rpi4\n");
	cfg_defaults(&c);
	assert_int_equal(args(&c, argv), 0);
	assert_string_equal(c.gpio_chip, "pinctrl-bcm2711");
	assert_int_equal(c.pins[PIN_PTT], 17);
}

/* A nick that came from a host name that will not serve is said so at start. */
static void test_nick_warning(void **state)
{
	char buf[256];

	(void)state;
	assert_true(cfg_nick_warning(
	    "intercom", "a-very-long-host-name-for-a-box-at-the-door", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "cannot be a nick"));
	assert_non_null(strstr(buf, "a-very-long-host-name-for-a-box-at-the-door"));
	assert_true(cfg_nick_warning("raspberrypi", "raspberrypi", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "set nick in the config"));
	/* a nick set on purpose, or a host name that serves: nothing to say */
	assert_false(cfg_nick_warning("FrontDoor", "raspberrypi", buf, sizeof(buf)));
	assert_false(cfg_nick_warning("frontdoor", "frontdoor", buf, sizeof(buf)));
	assert_false(cfg_nick_warning(
	    "Door", "a-very-long-host-name-for-a-box-at-the-door", buf, sizeof(buf)));
}

/* Section 3's keys: TLS on unless said, a pin in either case kept in lower case, a
 * password by the names rule, --forget-server taken as given. */
static void test_security_keys(void **state)
{
	struct cfg c;
	const char *none[] = {"intercom", "--config", path, NULL};
	const char *flags[] = {"intercom",	  "--config",	    path, "--tls", "off",
			       "--forget-server", "[fd00::1]:6060", NULL};
	char text[300];

	(void)state;
	write_to(path, "");
	assert_int_equal(args(&c, none), 0);
	assert_true(c.tls);
	assert_string_equal(c.server_fp, "");
	assert_string_equal(c.password, "");
	assert_int_equal(c.bitrate, 32000); /* constant bitrate while encrypted */
	snprintf(text, sizeof(text),
		 "server_fingerprint = SHA256:%064d\npassword = a b\n", 0);
	text[strlen("server_fingerprint = SHA256:")] = 'A';
	write_to(path, text);
	assert_int_equal(args(&c, none), 0);
	assert_int_equal(strlen(c.server_fp), IDENT_FP_LEN);
	assert_int_equal(strncmp(c.server_fp, "sha256:a000", 11), 0);
	assert_string_equal(c.password, "a b");
	assert_int_equal(args(&c, flags), 0);
	assert_false(c.tls);
	assert_string_equal(c.forget, "fd00::1"); /* the host, and its port */
	assert_int_equal(c.forget_port, 6060);
	/* refused, each naming the key */
	write_to(path, "server_fingerprint = sha256:1234\n");
	assert_int_equal(args(&c, none), -EINVAL);
	assert_non_null(strstr(err, "server_fingerprint: sha256: and 64 hex digits"));
	write_to(path, "password = a\"b\n");
	assert_int_equal(args(&c, none), -EINVAL);
	assert_non_null(strstr(err, "password: "));
	write_to(path, "tls = maybe\n");
	assert_int_equal(args(&c, none), -EINVAL);
	assert_non_null(strstr(err, "tls: on"));
}

#define FP64   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LONG   "(too long)" /* a bad value: text longer than its field */
#define NAME32 "abcdefghijklmnopqrstuvwxyz012345" /* a name of 32 bytes */
/* Every key of the table (a key added without a line here fails), each with a value it
 * accepts and one it refuses with the key named and why; through its flag too when it
 * has one. */
static const struct keycase every[] = {
    {"server", "door.lan", "", "server: a host name"},
    {"port", "7000", "0", "port: '0' is not a whole number from 1 to 65535"},
    {"nick", "Door", "a b", "nick: 1-32"},
    {"real_name", "Front Door", "a\"b", "real_name: up to 64 bytes"},
    {"capture_device", "plughw:1,0", "", "capture_device: an ALSA device"},
    {"playback_device", "hw:0", "", "playback_device: an ALSA device"},
    {"state_dir", "/tmp/x", "", "state_dir: a path"},
    {"frame_ms", "10", "30", "frame_ms: 10 or 20"},
    {"period_ms", "10", "1", "period_ms: '1' is not a whole number from 2 to 20"},
    {"bitrate", "24000", "5999", "bitrate: '5999' is not a whole number from 6000"},
    {"complexity", "3", "11", "complexity: '11' is not a whole number from 0 to 10"},
    {"board", "rpi4", "", "board: none, keyboard"},
    {"gpio_chip", "gpiochip4", LONG, "gpio_chip: a name such as gpiochip0 (at most 63"},
    {"active_low", "no", "maybe", "active_low: 'maybe' is not yes or no"},
    {"pin_ptt", "17", "512", "pin_ptt: '512' is not a GPIO line number (0-511)"},
    {"pin_call", "27", "x", "pin_call: 'x' is not a GPIO line"},
    {"pin_accept", "none", "-1", "pin_accept: '-1' is not a GPIO line"},
    {"pin_deny", "5", "", "pin_deny: '' is not a GPIO line"},
    {"pin_led_power", "6", "600", "pin_led_power: '600' is not"},
    {"pin_led_tx", "12", "1.5", "pin_led_tx: '1.5' is not"},
    {"pin_led_rx", "13", "on", "pin_led_rx: 'on' is not"},
    {"pin_led_ring", "19", "none1", "pin_led_ring: 'none1' is not"},
    {"call_target", "Kitchen", "a b", "call_target: a nick"},
    {"join", "#Hall", "Hall", "join: a room"},
    {"auto_accept", "yes", "sometimes", "auto_accept: 'sometimes' is not yes or no"},
    {"echo_cancel", "no", "maybe", "echo_cancel: 'maybe' is not yes or no"},
    {"handsfree", "no", "both", "handsfree: 'both' is not yes or no"},
    {"verbose", "yes", "loud", "verbose: 'loud' is not yes or no"},
    {"tls", "off", "maybe", "tls: on"},
    {"server_fingerprint", "SHA256:" FP64, "sha256:12", "server_fingerprint: sha256:"},
    {"password", "s3cret", "a\"b", "password: 1-64 bytes of text"},
};
#define NEVERY (sizeof(every) / sizeof(every[0]))

static int set_cb(void *obj, const char *key, const char *val, char *e, size_t elen)
{
	return cfg_set(obj, key, val, e, elen);
}

static void test_every_key(void **state)
{
	size_t n;
	const struct conftab_key *tab = cfg_keys(&n);
	char longv[300];
	struct cfg c;

	(void)state;
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	cfg_defaults(&c);
	keycase_walk(tab, n, every, NEVERY, set_cb, &c, LONG);
	/* each good value landed in its own field */
	assert_string_equal(c.server, "door.lan");
	assert_int_equal(c.port, 7000);
	assert_string_equal(c.nick, "Door");
	assert_string_equal(c.realname, "Front Door");
	assert_string_equal(c.capture_device, "plughw:1,0");
	assert_string_equal(c.playback_device, "hw:0");
	assert_string_equal(c.state_dir, "/tmp/x");
	assert_int_equal(c.frame_ms, 10);
	assert_int_equal(c.bitrate, 24000);
	assert_int_equal(c.complexity, 3);
	assert_string_equal(c.board, "rpi4");
	assert_string_equal(c.gpio_chip, "gpiochip4");
	assert_false(c.active_low);
	assert_int_equal(c.pins[PIN_PTT], 17);
	assert_int_equal(c.pins[PIN_CALL], 27);
	assert_int_equal(c.pins[PIN_ACCEPT], -1);
	assert_int_equal(c.pins[PIN_DENY], 5);
	assert_int_equal(c.pins[PIN_LED_POWER], 6);
	assert_int_equal(c.pins[PIN_LED_TX], 12);
	assert_int_equal(c.pins[PIN_LED_RX], 13);
	assert_int_equal(c.pins[PIN_LED_RING], 19);
	assert_string_equal(c.call_target, "Kitchen");
	assert_string_equal(c.join, "#Hall");
	assert_true(c.auto_accept);
	assert_false(c.handsfree);
	assert_true(c.std.verbose);
	assert_false(c.tls);
	assert_string_equal(c.server_fp, "sha256:" FP64);
	assert_string_equal(c.password, "s3cret");
	/* optional ones empty again; text too long for its field refused, field kept */
	assert_int_equal(cfg_set(&c, "call_target", "", err, sizeof(err)), 0);
	assert_string_equal(c.call_target, "");
	/* a room: CALL rings its group (1.2), a name of the room's full 33 bytes too */
	assert_int_equal(cfg_set(&c, "call_target", "#House", err, sizeof(err)), 0);
	assert_string_equal(c.call_target, "#House");
	assert_int_equal(cfg_set(&c, "call_target", "#" NAME32, err, sizeof(err)), 0);
	assert_string_equal(c.call_target, "#" NAME32);
	assert_int_equal(cfg_set(&c, "call_target", "#Bad!", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "call_target: a nick or a #room"));
	assert_string_equal(c.call_target, "#" NAME32);
	assert_int_equal(cfg_set(&c, "gpio_chip", "", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "server", longv, err, sizeof(err)), -EINVAL);
	assert_non_null(
	    strstr(err, "server: a host name or address (at most 255 bytes)"));
	assert_string_equal(c.server, "door.lan");
}

/* A key with a flag takes it from the command line the same way, the error naming the
 * flag and the key. */
static void test_every_flag(void **state)
{
	size_t n;
	const struct conftab_key *tab = cfg_keys(&n);
	struct cfg c;
	int flags = 0;

	(void)state;
	write_to(path, "");
	for (size_t t = 0; t < n; t++) {
		char flag[64];
		const struct keycase *k;

		if (!(tab[t].flags & CONFTAB_FLAG))
			continue;
		k = keycase_of(every, NEVERY, tab[t].key);
		conftab_flag_name(&tab[t], flag, sizeof(flag));
		assert_int_equal(args(&c, (const char *[]){"intercom", "--config", path,
							   flag, k->good, NULL}),
				 0);
		assert_int_equal(args(&c, (const char *[]){"intercom", "--config", path,
							   flag, k->bad, NULL}),
				 -EINVAL);
		if (strncmp(err, flag, strlen(flag)) || !strstr(err, k->why))
			fail_msg("%s '%s': '%s' does not say '%s: %s'", flag, k->bad, err,
				 flag, k->why);
		flags++;
	}
	assert_int_equal(flags, 17); /* usage lists these, with --server and the rest */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nick_warning),
	    cmocka_unit_test_setup_teardown(test_file_and_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_script_ptt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_board_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_security_keys, setup, teardown),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test_setup_teardown(test_every_flag, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
