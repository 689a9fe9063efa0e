/* Shared helpers for the Check-based tests. */
#include "skytest.h"

#include <stdio.h>
#include <string.h>

#include "util/str.h"

char *skytest_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = sky_asprintf("%s/skytest-%s-XXXXXX",
	                          base && *base ? base : "/tmp", tag);
	if (!tmpl || !mkdtemp(tmpl)) {
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

int skytest_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *skytest_src_path(const char *rel)
{
	return sky_asprintf("%s/%s", SKY_SOURCE_DIR, rel);
}
