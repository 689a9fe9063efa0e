/*
 * The run viewer, seen by a real browser: the server executes the seed's
 * example on the offline planner against the bundled demo site; the test
 * opens the run's app_url (a signed link, no key) in headless Chromium and
 * checks what a person sees: the status, the output, one section per step
 * with its screenshot loaded, the actions taken. With SKY_UPDATE_DOCS=1 it
 * also saves the page as docs/viewer.png for the README.
 */
#include <jansson.h>
#include <signal.h>
#include <skyengine.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "skybrowser.h"
#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include <skyx/str.h>

#define KEY "viewer-key-0123456789"

static pid_t start_demo_site(const char *dir, int *port)
{
	char *bin = skyx_asprintf("%s/tools/demo-site/skyengine-demo-site",
	                          SKY_BINARY_DIR);
	char *pf = skyx_asprintf("%s/site.port", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", 1);
		dup2(fd, 1);
		execl(bin, bin, "--port", "0", "--port-file", pf, (char *)NULL);
		_exit(127);
	}
	*port = 0;
	for (int i = 0; i < 200 && !*port; i++) {
		char *p = skyx_read_file(pf, NULL);
		*port = p ? atoi(p) : 0;
		free(p);
		if (!*port)
			usleep(50000);
	}
	free(bin);
	free(pf);
	return pid;
}

START_TEST(the_viewer_shows_the_run)
{
	char *dir = skytest_tmpdir("viewer");
	int site_port = 0;
	pid_t site = start_demo_site(dir, &site_port);
	ck_assert_int_gt(site_port, 0);
	char *data = skyx_asprintf("%s/data", dir);
	skytest_server srv;
	const char *args[] = {"--api-key", KEY, "--workers", "1", NULL};
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);

	char *body = skyx_asprintf(
	    "{\"prompt\":\"Apply for a job on behalf of this person: name: "
	    "Chris P Bacon. email: chris@pbacon.com\",\"url\":"
	    "\"http://127.0.0.1:%d/\",\"data_extraction_schema\":"
	    "{\"application_success\":{\"type\":\"boolean\"}},"
	    "\"proxy_location\":\"NONE\"}",
	    site_port);
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv.port, "POST", "/v1/run/tasks",
	                            "x-api-key: " KEY "\r\ncontent-type: "
	                            "application/json\r\n",
	                            body, &r),
	                 0);
	ck_assert_int_eq(r.status, 200);
	json_t *run = json_loads(r.body, 0, NULL);
	char *id =
	    skyx_strdup(json_string_value(json_object_get(run, "run_id")));
	json_decref(run);
	skytest_hc_free(&r);

	/* Poll like Skyvern's SDK does, until the run is final. */
	char *path = skyx_asprintf("/v1/runs/%s", id);
	const char *status = NULL;
	run = NULL;
	for (int i = 0; i < 900; i++) {
		json_decref(run);
		run = NULL;
		if (skytest_hc(srv.port, "GET", path, "x-api-key: " KEY "\r\n",
		               NULL, &r) == 0)
			run = json_loads(r.body, 0, NULL);
		skytest_hc_free(&r);
		status = json_string_value(json_object_get(run, "status"));
		if (status && (!strcmp(status, "completed") ||
		               !strcmp(status, "failed") ||
		               !strcmp(status, "terminated")))
			break;
		usleep(200000);
	}
	ck_assert_msg(
	    skyx_str_eq(status, "completed"), "run ended %s: %s", status,
	    json_string_value(json_object_get(run, "failure_reason")));
	const char *app = json_string_value(json_object_get(run, "app_url"));
	ck_assert_ptr_nonnull(app);

	/* What a person sees in a browser. */
	void *b = skyb_browser(NULL);
	void *ctx = skyb_context(b, "{\"viewport\":{\"width\":1100,"
	                            "\"height\":900}}");
	json_decref(skyb_navigate(ctx, app));
	json_decref(skyb_settle(ctx));
	char *st = skyb_eval_str(ctx, "document.getElementById('status')."
	                              "textContent");
	ck_assert_str_eq(st, "completed");
	free(st);
	char *out = skyb_eval_str(ctx, "document.getElementById('output')."
	                               "textContent");
	ck_assert_ptr_nonnull(strstr(out, "\"application_success\": true"));
	free(out);
	long long steps = skyb_eval_int(ctx, "document.querySelectorAll("
	                                     "'section.step').length");
	ck_assert_int_eq(
	    steps, json_integer_value(json_object_get(run, "step_count")));
	ck_assert_int_ge(steps, 2);
	/* Every step's screenshot actually loaded (signed artifact URLs). */
	long long shots = skyb_eval_int(
	    ctx, "[...document.querySelectorAll('section.step img')]"
	         ".filter(i => i.complete && i.naturalWidth > 100).length");
	ck_assert_int_eq(shots, steps);
	long long typed = skyb_eval_int(
	    ctx, "document.querySelectorAll('li[data-action=input_text]')"
	         ".length");
	ck_assert_int_ge(typed, 2);
	char *goal = skyb_eval_str(ctx, "document.getElementById('goal')."
	                                "textContent");
	ck_assert_ptr_nonnull(strstr(goal, "Chris P Bacon"));
	free(goal);

	if (getenv("SKY_UPDATE_DOCS")) {
		unsigned char *png = NULL;
		size_t len = 0;
		char *err = NULL;
		ck_assert_int_eq(skyb_provider()->screenshot(
		                     ctx,
		                     "{\"format\":\"png\",\"full_page\":true}",
		                     &png, &len, &err),
		                 0);
		char *dst = skytest_src_path("docs/viewer.png");
		ck_assert_int_eq(sky_write_file(dst, png, len), 0);
		free(dst);
		free(png);
	}
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
	json_decref(run);
	free(path);
	free(id);
	free(body);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(srv.data_dir);
	free(srv.log_path);
	kill(site, SIGTERM);
	waitpid(site, NULL, 0);
	free(data);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer");
	TCase *tc = tcase_create("viewer");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, the_viewer_shows_the_run);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
