/* page.h: the page's files (the files of web/page), compiled into the binary at build
 * time by web/embed.cmake: the page holds no secret and the gateway serves nothing from
 * disk. */
#ifndef IC_PAGE_H
#define IC_PAGE_H

#include <stddef.h>

struct page_file {
	const char *name; /* "index.html" */
	const unsigned char *data;
	size_t len;
};

extern const struct page_file page_files[];
extern const size_t page_nfiles;

#endif
