/* Shared helpers for the Check-based tests. */
#ifndef SKYTEST_H
#define SKYTEST_H

#include <check.h>
#include <stdlib.h>

/* A fresh empty directory under $TMPDIR (or /tmp); malloc'd. */
char *skytest_tmpdir(const char *tag);

/* `tmpl` with its first "%s" replaced by `a` (malloc'd): for tables of
 * paths and pages, which a literal format cannot be. */
char *skytest_subst(const char *tmpl, const char *a);

/* Run a suite; returns the process exit status (0 when all pass). */
int skytest_run(Suite *s);

/* Path of a file in the source tree; malloc'd. */
char *skytest_src_path(const char *rel);

#endif
