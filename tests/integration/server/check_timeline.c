/*
 * GET /v1/runs/{id}/timeline for a task v2, over real HTTP: the quick
 * start's run (offline planner, real Chromium, the bundled demo site)
 * answers Skyvern's WorkflowRunTimeline list, newest first: the goto_url
 * block of its start URL, a thought per plan and a navigation block
 * holding the actions the run took. Other
 * run types are 400, unknown runs 404, with Skyvern's words.
 */
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>

#define KEY "timeline-key-0123456789"
#define AUTH "x-api-key: " KEY "\r\n"
#define JSONH "content-type: application/json\r\n"

static skytest_server srv;

static json_t *call(const char *method, const char *path, const char *body,
                    int want_status)
{
	skytest_hc_resp r;
	ck_assert_int_eq(
	    skytest_hc(srv.port, method, path, AUTH JSONH, body, &r), 0);
	ck_assert_msg(r.status == want_status, "%s %s: want %d got %d: %s",
	              method, path, want_status, r.status, r.body);
	json_t *j = json_loads(r.body, JSON_DECODE_ANY, NULL);
	skytest_hc_free(&r);
	return j;
}

static pid_t start_site(const char *dir, int *port)
{
	char *pf = skyx_asprintf("%s/site.port", dir);
	char *site = skyx_asprintf("%s/tools/demo-site/skyengine-demo-site",
	                           SKY_BINARY_DIR);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execl(site, site, "--port", "0", "--port-file", pf,
		      (char *)NULL);
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
	free(pf);
	free(site);
	return pid;
}

START_TEST(task_v2_timeline)
{
	char *dir = skytest_tmpdir("timeline");
	int sport;
	pid_t site = start_site(dir, &sport);
	ck_assert_int_gt(sport, 0);
	const char *args[] = {"--api-key", KEY, NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);

	char *body = skyx_asprintf(
	    "{\"prompt\":\"Apply for a job on behalf of this person: name: "
	    "Chris P Bacon. email: chris@pbacon.com\",\"url\":"
	    "\"http://127.0.0.1:%d/\",\"data_extraction_schema\":"
	    "{\"application_success\":{\"type\":\"boolean\"}}}",
	    sport);
	json_t *j = call("POST", "/v1/run/tasks", body, 200);
	char *id = skyx_strdup(sky_json_str(j, "run_id"));
	json_decref(j);
	char path[200];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	const char *st = NULL;
	for (int i = 0; i < 3000; i++) { /* the run's timeouts bound it */
		j = call("GET", path, NULL, 200);
		st = sky_json_str(j, "status");
		if (strcmp(st, "created") && strcmp(st, "queued") &&
		    strcmp(st, "running"))
			break;
		json_decref(j);
		j = NULL;
		usleep(100000);
	}
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(sky_json_str(j, "status"), "completed");
	json_decref(j);

	snprintf(path, sizeof path, "/v1/runs/%s/timeline", id);
	json_t *tl = call("GET", path, NULL, 200);
	ck_assert(json_is_array(tl));
	int thoughts = 0, blocks = 0, clicks = 0, inputs = 0, gotos = 0;
	const char *prev = NULL, *at_goto = NULL;
	char start[64], goal[96];
	snprintf(start, sizeof start, "http://127.0.0.1:%d/", sport);
	snprintf(goal, sizeof goal, "Go to this website: %s", start);
	size_t i, k;
	json_t *it, *a;
	json_array_foreach (tl, i, it) {
		const char *type = sky_json_str(it, "type");
		const char *at = sky_json_str(it, "created_at");
		ck_assert_ptr_nonnull(at);
		if (prev) /* newest first */
			ck_assert_msg(strcmp(prev, at) >= 0, "%s before %s",
			              prev, at);
		prev = at;
		ck_assert(json_is_array(json_object_get(it, "children")));
		if (!strcmp(type, "thought")) {
			thoughts++;
			json_t *t = json_object_get(it, "thought");
			ck_assert_str_eq(sky_json_str(t, "task_id"), id);
			ck_assert_str_eq(sky_json_str(t, "thought_type"),
			                 "plan");
			continue;
		}
		ck_assert_str_eq(type, "block");
		json_t *b = json_object_get(it, "block");
		if (skyx_str_eq(sky_json_str(b, "block_type"), "goto_url")) {
			/* The start URL, as Skyvern's first block. */
			gotos++;
			ck_assert_str_eq(sky_json_str(b, "status"),
			                 "completed");
			ck_assert_str_eq(sky_json_str(b, "url"), start);
			ck_assert_str_eq(sky_json_str(b, "description"), goal);
			ck_assert_ptr_null(at_goto);
			ck_assert_ptr_nonnull(prev); /* not the newest */
			at_goto = at;
			continue;
		}
		blocks++;
		ck_assert_str_eq(sky_json_str(b, "block_type"), "navigation");
		ck_assert_str_eq(sky_json_str(b, "status"), "completed");
		ck_assert_ptr_nonnull(sky_json_str(b, "navigation_goal"));
		json_array_foreach (json_object_get(b, "actions"), k, a) {
			ck_assert_str_eq(sky_json_str(a, "task_id"), id);
			clicks += skyx_str_eq(sky_json_str(a, "action_type"),
			                      "click");
			inputs += skyx_str_eq(sky_json_str(a, "action_type"),
			                      "input_text");
		}
	}
	/* A plan that chose the mini-goal, one that said it was done. */
	ck_assert_int_ge(thoughts, 2);
	ck_assert_int_eq(gotos, 1);
	ck_assert_int_ge(blocks, 1);
	ck_assert_int_ge(clicks, 1);
	ck_assert_int_eq(inputs, 2); /* the name and the e-mail */
	json_decref(tl);

	/* Each planning answer kept its own file (not overwritten). */
	snprintf(path, sizeof path, "/v1/runs/%s/artifacts", id);
	json_t *arts = call("GET", path, NULL, 200);
	json_t *seen = json_object();
	json_array_foreach (arts, i, it) {
		const char *uri = sky_json_str(it, "uri");
		if (uri && strstr(uri, "plan.answer.txt")) {
			ck_assert_msg(!json_object_get(seen, uri),
			              "two artifacts share %s", uri);
			json_object_set_new(seen, uri, json_true());
		}
	}
	ck_assert_uint_ge(json_object_size(seen), 2);
	json_decref(seen);
	json_decref(arts);

	/* Other run types: 400; unknown runs: 404. */
	j = call("POST", "/v1/run/tasks",
	         "{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\"}", 200);
	snprintf(path, sizeof path, "/v1/runs/%s/timeline",
	         sky_json_str(j, "run_id"));
	json_decref(j);
	j = call("GET", path, NULL, 400);
	ck_assert_str_eq(sky_json_str(j, "detail"),
	                 "Timeline not available for run type task_v1");
	json_decref(j);
	j = call("GET", "/v1/runs/tsk_v2_1/timeline", NULL, 404);
	ck_assert_str_eq(sky_json_str(j, "detail"), "Run not found tsk_v2_1");
	json_decref(j);

	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	kill(site, SIGTERM);
	waitpid(site, NULL, 0);
	free(srv.data_dir);
	free(srv.log_path);
	free(body);
	free(id);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("timeline");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, task_v2_timeline);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
