/* Shared helpers for the Check-based tests. */
#include "skytest.h"

#include <stdio.h>
#include <string.h>

#include <skyx/str.h>

char *skytest_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = skyx_asprintf("%s/skytest-%s-XXXXXX",
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
	return skyx_asprintf("%s/%s", SKY_SOURCE_DIR, rel);
}

char *skytest_subst(const char *tmpl, const char *a)
{
	const char *at = strstr(tmpl, "%s");
	char *out = NULL;
	int n = at ? asprintf(&out, "%.*s%s%s", (int)(at - tmpl), tmpl,
	                      a ? a : "", at + 2)
	           : asprintf(&out, "%s", tmpl);
	return n < 0 ? NULL : out;
}
