/* Fuzz: a file through the WAV reader (the client's --capture-file). A file it accepts
 * must read to its end without going past what it declared; a refusal names the
 * problem. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzzfile.h"
#include "wav.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write(data, size);
	struct wav *w = NULL;
	int16_t buf[960];
	char err[512];
	uint64_t total = 0;
	long n;

	if (!path)
		return 0;
	err[0] = '\0';
	if (wav_open_read(&w, path, err, sizeof(err))) {
		if (!err[0])
			abort();
		return 0;
	}
	while ((n = wav_read(w, buf, 960)) > 0)
		total += (uint64_t)n;
	if (total * 2 > size)
		abort(); /* more samples than the file holds */
	wav_close(w);
	return 0;
}
