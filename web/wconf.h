/* wconf.h: intercom-web's configuration keys and flags, one table (common/conftab) for
 * the config file and the command line, and its --help; test_manpages checks the man
 * page against both. */
#ifndef IC_WCONF_H
#define IC_WCONF_H

#include <stddef.h>

#include "conftab.h"

#define WCONF_DEFAULT "/etc/intercom/intercom-web.conf"

/* The table (struct gw_cfg's fields) and its length. */
const struct conftab_key *wconf_keys(size_t *n);
const char *wconf_usage(void);

#endif
