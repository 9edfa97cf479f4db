/* Fuzz: a configuration file through both programs' start-up, as `--config FILE`:
 * intercomd's (conf) and the client's (cfg, which also reads the board file a
 * `board = PATH` line names, then checks and applies every value: the server address,
 * times, pins). A refusal must come with a message; nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "cfg.h"
#include "conf.h"
#include "fuzzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write(data, size);
	char *sargv[] = {"intercomd", "--config", (char *)path, NULL};
	char *cargv[] = {"intercom", "--config", (char *)path, NULL};
	struct srv_conf sc;
	struct cfg cc;
	char err[512];

	if (!path)
		return 0;
	conf_defaults(&sc);
	err[0] = '\0';
	if (conf_from_args(&sc, 3, sargv, err, sizeof(err)) && !err[0])
		abort(); /* an error without a message */
	cfg_defaults(&cc);
	err[0] = '\0';
	if (cfg_from_args(&cc, 3, cargv, err, sizeof(err)) && !err[0])
		abort();
	return 0;
}
