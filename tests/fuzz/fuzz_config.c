/* Fuzz: a configuration file through both parsers, intercomd's (conf) and the client's
 * (cfg, which also reads the board file a `board = PATH` line names). A refusal must
 * come with a message; nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "cfg.h"
#include "conf.h"
#include "fuzzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write(data, size);
	struct srv_conf sc;
	struct cfg cc;
	char err[512];

	if (!path)
		return 0;
	conf_defaults(&sc);
	err[0] = '\0';
	if (conf_load(&sc, path, err, sizeof(err)) && !err[0])
		abort(); /* an error without a message */
	cfg_defaults(&cc);
	err[0] = '\0';
	if (cfg_load(&cc, path, false, err, sizeof(err)) && !err[0])
		abort();
	return 0;
}
