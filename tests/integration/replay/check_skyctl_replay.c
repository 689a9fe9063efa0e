/*
 * skyctl run --replay as a user runs it, against the bundled demo site:
 * a first run records the plan in --data, a second run with --replay and
 * another person's payload replays it (the site receives the new person,
 * skyctl says the plan replayed with no model call), and --replay where
 * no plan exists yet runs the agent and says so.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

static int sh(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...)
{
	va_list ap;
	skyx_buf cmd = {0}, res = {0};
	va_start(ap, fmt);
	skyx_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd.data, "r");
	char buf[4096];
	size_t n;
	while (p && (n = fread(buf, 1, sizeof buf, p)) > 0)
		skyx_buf_append(&res, buf, n);
	int st = p ? pclose(p) : -1;
	skyx_buf_free(&cmd);
	*out = skyx_buf_steal(&res);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define GOAL "Apply for a job on behalf of the person in the payload"

START_TEST(skyctl_run_replay)
{
	char *dir = skytest_tmpdir("skyctl-replay");
	char *pf = skyx_asprintf("%s/site.port", dir);
	char *logp = skyx_asprintf("%s/site.log", dir);
	char *site = skyx_asprintf("%s/tools/demo-site/skyengine-demo-site",
	                           SKY_BINARY_DIR);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT, 0600);
		dup2(fd, 1);
		execl(site, site, "--port", "0", "--port-file", pf,
		      (char *)NULL);
		_exit(127);
	}
	int port = 0;
	for (int i = 0; i < 200 && !port; i++) {
		char *p = skyx_read_file(pf, NULL);
		port = p ? atoi(p) : 0;
		free(p);
		if (!port)
			usleep(50000);
	}
	ck_assert_int_gt(port, 0);
	char *bin = skyx_asprintf("env -u SKYENGINE_PLUGIN_PATH "
	                          "%s/tools/skyctl/skyctl",
	                          SKY_BINARY_DIR);
	char *out = NULL, *err = NULL;
	char *errp = skyx_asprintf("%s/err", dir);

	/* --replay with nothing recorded: the agent runs, and says so. */
	int rc = sh(&out,
	            "%s run '" GOAL "' --engine skyvern-1.0 --url "
	            "http://127.0.0.1:%d/ --payload '{\"name\": \"Chris P "
	            "Bacon\", \"email\": \"chris@pbacon.com\"}' --data %s/data "
	            "--replay 2>%s",
	            bin, port, dir, errp);
	err = skyx_read_file(errp, NULL);
	ck_assert_msg(rc == 0, "skyctl run exited %d: %s", rc, err);
	ck_assert_msg(strstr(err, "no plan for this task yet"), "%s", err);
	free(err);
	free(out);

	/* Another person: replayed, no model call. */
	rc = sh(&out,
	        "%s run '" GOAL "' --engine skyvern-1.0 --url "
	        "http://127.0.0.1:%d/ --payload '{\"name\": \"Ada Lovelace\", "
	        "\"email\": \"ada@example.org\"}' --data %s/data --replay "
	        "2>%s",
	        bin, port, dir, errp);
	err = skyx_read_file(errp, NULL);
	ck_assert_msg(rc == 0, "skyctl run --replay exited %d: %s", rc, err);
	ck_assert_msg(strstr(err, "step(s) replayed, no model call"), "%s",
	              err);
	free(err);
	free(out);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	char *log = skyx_read_file(logp, NULL);
	ck_assert_ptr_nonnull(strstr(log, "application received from Chris P "
	                                  "Bacon <chris@pbacon.com>"));
	ck_assert_ptr_nonnull(strstr(log, "application received from Ada "
	                                  "Lovelace <ada@example.org>"));
	free(log);
	free(logp);
	free(errp);
	free(bin);
	free(site);
	free(pf);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("skyctl_replay");
	TCase *tc = tcase_create("skyctl");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, skyctl_run_replay);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
