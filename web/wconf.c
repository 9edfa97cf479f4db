#include "wconf.h"

#include <string.h>

#include "ca.h"
#include "gw.h"
#include "ic_limits.h"
#include "ident.h"
#include "names.h"
#include "web_limits.h"

#define WCONF_STR_(x) #x
#define WCONF_STR(x)  WCONF_STR_(x)

static bool fp_ok(const char *v)
{
	return ident_fp_valid(v, strlen(v));
}

static const struct conftab_key keys[] = {
    CONFTAB_TEXT("state_dir", struct gw_cfg, state_dir, NULL, CONFTAB_FLAG, NULL),
    CONFTAB_TEXT("name", struct gw_cfg, names, ca_names_valid, CONFTAB_FLAG,
		 CA_NAMES_WHAT),
    CONFTAB_UINT("port", struct gw_cfg, port, 0, 65535, CONFTAB_FLAG),
    CONFTAB_UINT("http_port", struct gw_cfg, http_port, 0, 65535, CONFTAB_FLAG),
    CONFTAB_TEXT("server", struct gw_cfg, server, NULL, CONFTAB_FLAG, NULL),
    CONFTAB_UINT("server_port", struct gw_cfg, server_port, 1, 65535, CONFTAB_FLAG),
    CONFTAB_TEXT("server_fingerprint", struct gw_cfg, server_fp, fp_ok,
		 CONFTAB_FLAG | CONFTAB_EMPTY_OK, "sha256: and 64 lower-case hex digits"),
    /* the box's rule (firmware/cfg.c): it goes into CONNECT's quoted field */
    CONFTAB_TEXT(
	"password", struct gw_cfg, password, names_password_valid, CONFTAB_EMPTY_OK,
	"1-" WCONF_STR(IC_PASSWORD_MAX) " bytes of text without '\"' or control "
					"characters (intercomd's server_password)"),
    CONFTAB_TEXT("test_sink", struct gw_cfg, test_sink, NULL, CONFTAB_FLAG, NULL),
    CONFTAB_UINT("max_browsers", struct gw_cfg, max_browsers, 1, WEB_CONNS_MAX,
		 CONFTAB_FLAG),
    CONFTAB_UINT("keepalive", struct gw_cfg, keepalive, WEB_KEEPALIVE_MIN_S,
		 WEB_KEEPALIVE_MAX_S, CONFTAB_FLAG),
};

static const char usage[] =
    "usage: intercom-web [options]\n"
    "  --add-user NAME        print a one-time enrollment link for NAME (and a QR code)\n"
    "  --remove-user NAME     remove NAME (its browser can no longer log in)\n"
    "  --list-users           list the users\n"
    "  --ca-fingerprint       print the local CA's SHA-256 fingerprint\n"
    "  --config FILE          configuration file (default " WCONF_DEFAULT ")\n"
    "  --state-dir DIR        users, the CA, known_servers (default: see the manual)\n"
    "  --name NAMES           host names and addresses for the certificate and links,\n"
    "                         comma-separated (default: this host's name)\n"
    "  --port N               https and WebSocket port (default 8443; 0: any free)\n"
    "  --http-port N          plain-http landing page port (default 8080; 0: any free)\n"
    "  --server HOST          intercomd (default localhost)\n"
    "  --server-port N        intercomd's port (default 6060)\n"
    "  --server-fingerprint FP  pin intercomd's key (else trusted on first use)\n"
    "  --max-browsers N       browser connections at once (default 200)\n"
    "  --keepalive S          seconds between keepalives to each page (default 10);\n"
    "                         3 missed: the connection is given up, at either end\n"
    "  --test-sink DIR        tests only: accept POST /test/result into DIR\n"
    "  -v, --verbose  -h, --help  --version  --check-config\n";

const struct conftab_key *wconf_keys(size_t *n)
{
	*n = sizeof(keys) / sizeof(keys[0]);
	return keys;
}

const char *wconf_usage(void)
{
	return usage;
}
