/*
 * skyctl as a user runs it: `run` in-process on the offline planner
 * against the bundled demo site (what the quick start does), the remote
 * commands against a real server, --help everywhere, clear usage errors.
 */
#include <fcntl.h>
#include <signal.h>
#include <skyengine.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include <skyx/str.h>

#define KEY "skyctl-key-0123456789"

/* Run a shell command; *out gets stdout, returns the exit status. */
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

static char *skyctl(void)
{
	/* As a user runs it: the plugins are found from skyctl's own file,
	 * not from the variable CTest sets. */
	return skyx_asprintf("env -u SKYENGINE_PLUGIN_PATH "
	                     "%s/tools/skyctl/skyctl",
	                     SKY_BINARY_DIR);
}

START_TEST(help_and_usage)
{
	char *bin = skyctl(), *out = NULL;
	static const char *cmds[] = {"run", "get", "list", "steps", "cancel"};
	ck_assert_int_eq(sh(&out, "%s --help", bin), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: skyctl"));
	free(out);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_int_eq(sh(&out, "%s %s --help", bin, cmds[i]), 0);
		ck_assert_msg(strstr(out, "usage: skyctl ") &&
		                  strstr(out, cmds[i]),
		              "%s --help: %s", cmds[i], out);
		free(out);
	}
	ck_assert_int_eq(sh(&out, "%s frobnicate 2>&1", bin), 2);
	ck_assert_ptr_nonnull(strstr(out, "unknown command"));
	free(out);
	ck_assert_int_eq(sh(&out, "%s run 2>&1", bin), 2); /* no goal */
	free(out);
	ck_assert_int_eq(sh(&out, "%s run x --schema '{bad' 2>&1", bin), 2);
	ck_assert_ptr_nonnull(strstr(out, "not valid JSON"));
	free(out);
	free(bin);
}
END_TEST

START_TEST(run_the_quick_start_task)
{
	char *dir = skytest_tmpdir("skyctl");
	char *pf = skyx_asprintf("%s/site.port", dir);
	char *site = skyx_asprintf("%s/tools/demo-site/skyengine-demo-site",
	                           SKY_BINARY_DIR);
	pid_t pid = fork();
	if (pid == 0) {
		char *log = skyx_asprintf("%s/site.log", dir);
		int fd = open(log, O_WRONLY | O_CREAT, 0600);
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
	char *bin = skyctl(), *out = NULL;
	int rc = sh(&out,
	            "%s run 'Apply for a job on behalf of this person: name: "
	            "Chris P Bacon. email: chris@pbacon.com' --url "
	            "http://127.0.0.1:%d/ --schema '{\"application_success\": "
	            "{\"type\": \"boolean\"}}' --data %s/data 2>%s/err",
	            bin, port, dir, dir);
	ck_assert_msg(rc == 0, "skyctl run exited %d: %s", rc, out);
	ck_assert_str_eq(out, "{\"application_success\": true}\n");
	free(out);
	char *errp = skyx_asprintf("%s/err", dir);
	char *err = skyx_read_file(errp, NULL);
	/* One progress line per step, then where the recording is. */
	ck_assert_ptr_nonnull(strstr(err, "step 0: click #"));
	ck_assert_ptr_nonnull(strstr(err, "input_text #"));
	ck_assert_ptr_nonnull(strstr(err, "recording: file://"));
	free(err);
	free(errp);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	char *logp = skyx_asprintf("%s/site.log", dir);
	char *log = skyx_read_file(logp, NULL);
	ck_assert_ptr_nonnull(strstr(log, "application received from Chris P "
	                                  "Bacon <chris@pbacon.com>"));
	free(log);
	free(logp);
	free(bin);
	free(site);
	free(pf);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(remote_commands)
{
	char *dir = skytest_tmpdir("skyctl-remote");
	skytest_server srv;
	const char *args[] = {"--api-key", KEY, "--no-execute", NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	char *bin = skyctl(), *out = NULL;
	char server[64];
	snprintf(server, sizeof server, "http://127.0.0.1:%d", srv.port);
	ck_assert_int_eq(
	    sh(&out, "%s list --server %s --api-key %s", bin, server, KEY), 0);
	ck_assert_str_eq(out, "[]\n");
	free(out);
	/* A wrong key: the server's 403 is shown and the exit code says so. */
	ck_assert_int_eq(sh(&out,
	                    "%s list --server %s --api-key nope-nope-1 "
	                    "2>/dev/null",
	                    bin, server),
	                 1);
	ck_assert_ptr_nonnull(strstr(out, "Could not validate credentials"));
	free(out);
	ck_assert_int_eq(sh(&out,
	                    "%s get tsk_404 --server %s --api-key %s "
	                    "2>/dev/null",
	                    bin, server, KEY),
	                 1);
	ck_assert_ptr_nonnull(strstr(out, "Task run not found tsk_404"));
	free(out);
	ck_assert_int_eq(sh(&out, "%s steps tsk_404 --server %s --api-key %s",
	                    bin, server, KEY),
	                 0);
	ck_assert_str_eq(out, "[]\n");
	free(out);
	ck_assert_int_eq(sh(&out,
	                    "%s cancel tsk_404 --server %s --api-key %s "
	                    "2>/dev/null",
	                    bin, server, KEY),
	                 1);
	free(out);
	/* Nothing listening: a clear error, not a hang. */
	ck_assert_int_eq(sh(&out,
	                    "%s list --server http://127.0.0.1:1 "
	                    "--api-key %s 2>&1",
	                    bin, KEY),
	                 1);
	ck_assert_ptr_nonnull(strstr(out, "skyctl:"));
	free(out);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(srv.data_dir);
	free(srv.log_path);
	free(bin);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("skyctl");
	TCase *tc = tcase_create("skyctl");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, help_and_usage);
	tcase_add_test(tc, run_the_quick_start_task);
	tcase_add_test(tc, remote_commands);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
