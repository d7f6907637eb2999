/* Temporary files for the unit tests: one directory per test program
 * under /tmp, removed with everything in it when the program exits.
 * Include after <cmocka.h>. */
#ifndef IPAD_TEST_TEMPFILES_H
#define IPAD_TEST_TEMPFILES_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tempfiles_dir[64];

static int tempfiles_remove_one(const char *path, const struct stat *st,
				int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void tempfiles_remove(void)
{
	nftw(tempfiles_dir, tempfiles_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The directory, made on first use. */
static const char *temp_dir(void)
{
	if (!tempfiles_dir[0]) {
		strcpy(tempfiles_dir, "/tmp/ipad-unit-XXXXXX");
		assert_non_null(mkdtemp(tempfiles_dir));
		atexit(tempfiles_remove);
	}
	return tempfiles_dir;
}

/* Write len bytes of content to NAME (a path relative to the directory;
 * its directories must exist). Returns the path, in a static buffer. */
static const char *write_temp(const char *name, const void *content, size_t len)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", temp_dir(), name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

#endif
