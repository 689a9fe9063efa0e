/*
 * Resume without repeating a side effect. skyengine-server runs a job
 * application on the real llm-openai plugin against a loopback model
 * that, like a real one, fills the form and clicks "Send application"
 * whenever it sees the form. The site SIGKILLs the server the moment the
 * application arrives: the click was sent, its step never recorded.
 * Restarted on the same data dir, the run resumes on a fresh form. The
 * store must show the click as issued before the crash; the model must be
 * told its outcome is unknown; and the run must not send the application
 * a second time, ending with a reason that says why.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>

#include "httpd.h"
#include "rel.h"
#include "util/fs.h"

#define OPENAI_KEY "sk-rel-intent-0123456789abcdefghij"

static struct {
	pthread_mutex_t lock;
	pid_t kill_pid; /* the server to kill when an application arrives */
	int posts;      /* applications received */
	int calls;      /* model calls */
	int told;       /* prompts that said an outcome was unknown */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char FORM[] =
    "<!doctype html><html><head><title>Apply</title></head><body>"
    "<h1>Apply for the position</h1>"
    "<form action=\"/submit\" method=\"post\">"
    "<p><label for=\"n\">Full name</label> <input id=\"n\" name=\"name\">"
    "</p><p><label for=\"e\">Email</label> <input id=\"e\" name=\"email\" "
    "type=\"email\"></p><p><button type=\"submit\">Send application"
    "</button></p></form></body></html>";

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->path, "/form")) {
		skytest_resp_text(resp, 200, NULL, FORM);
		return;
	}
	if (!strcmp(req->path, "/submit") && !strcmp(req->method, "POST")) {
		pthread_mutex_lock(&S.lock);
		S.posts++;
		pid_t victim = S.kill_pid;
		S.kill_pid = 0;
		pthread_mutex_unlock(&S.lock);
		/* The application is in; the server dies before it hears
		 * back. */
		if (victim > 0)
			kill(victim, SIGKILL);
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Thank you</title>"
		                  "<h1>Thank you!</h1><p>Your application was "
		                  "received.</p>");
		return;
	}
	skytest_resp_text(resp, 404, "text/plain", "not found");
}

/* Every text part of the request's messages, joined. */
static char *prompt_text(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	skyx_buf b = {0};
	size_t i, k;
	json_t *m, *part;
	json_array_foreach (json_object_get(j, "messages"), i, m) {
		json_t *c = json_object_get(m, "content");
		if (json_is_string(c))
			skyx_buf_puts(&b, json_string_value(c));
		json_array_foreach (c, k, part)
			if (json_is_string(json_object_get(part, "text")))
				skyx_buf_puts(
				    &b, json_string_value(
				            json_object_get(part, "text")));
	}
	json_decref(j);
	return skyx_buf_steal(&b);
}

/* The id (id=N or id="N") of the element whose tag holds `marker` (or
 * whose text follows it), scanning back to the tag's '<'. */
static char *id_of(const char *text, const char *marker)
{
	const char *m = strstr(text, marker);
	if (!m)
		return NULL;
	const char *lt = m;
	while (lt > text && *lt != '<')
		lt--;
	const char *id = strstr(lt, " id=");
	if (!id || id > m)
		return NULL;
	id += 4;
	if (*id == '"')
		id++;
	size_t n = strcspn(id, "\" >");
	return n ? skyx_strndup(id, n) : NULL;
}

static char *chat_answer(const char *content)
{
	json_t *j = json_pack(
	    "{s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i}}", "id",
	    "chatcmpl-intent", "model", "gpt-4o", "choices", "index", 0,
	    "message", "role", "assistant", "content", content, "finish_reason",
	    "stop", "usage", "prompt_tokens", 900, "completion_tokens", 40);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void on_model(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	char *text = prompt_text(req->body);
	pthread_mutex_lock(&S.lock);
	S.calls++;
	S.told += text && strstr(text, "whether it took effect is unknown");
	pthread_mutex_unlock(&S.lock);
	char *name = text ? id_of(text, "name=\"name\"") : NULL;
	char *email = text ? id_of(text, "name=\"email\"") : NULL;
	char *send = text ? id_of(text, "Send application") : NULL;
	char *content;
	if (text && strstr(text, "Thank you!"))
		content = skyx_strdup(
		    "{\"actions\":[{\"action_type\":\"complete\","
		    "\"reasoning\":\"the application was received\"}]}");
	else if (name && email && send)
		content = skyx_asprintf(
		    "{\"actions\":["
		    "{\"action_type\":\"input_text\",\"element_id\":\"%s\","
		    "\"text\":\"Chris Example\",\"reasoning\":\"name\"},"
		    "{\"action_type\":\"input_text\",\"element_id\":\"%s\","
		    "\"text\":\"chris@example.com\",\"reasoning\":\"email\"},"
		    "{\"action_type\":\"click\",\"element_id\":\"%s\","
		    "\"reasoning\":\"send the application\"}]}",
		    name, email, send);
	else
		content = skyx_strdup(
		    "{\"actions\":[{\"action_type\":\"terminate\","
		    "\"reasoning\":\"the model server saw no form\"}]}");
	char *body = chat_answer(content);
	skytest_resp_text(resp, 200, "application/json", body);
	free(body);
	free(content);
	free(name);
	free(email);
	free(send);
	free(text);
}

/* Rows of `actions` with this status, read from the SQLite file. */
static int actions_with_status(const char *dir, const char *status)
{
	char *db = skyx_asprintf("%s/skyengine.db", dir);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h,
	                       "SELECT count(*) FROM actions WHERE "
	                       "status=?1 AND action_type='click'",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(db);
	return n;
}

START_TEST(killed_after_the_submit_click_does_not_submit_again)
{
	char *dir = skytest_tmpdir("intent");
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	skytest_httpd *model = skytest_httpd_start(on_model, NULL);
	ck_assert_ptr_nonnull(site);
	ck_assert_ptr_nonnull(model);
	char *cfg_path = skyx_asprintf("%s/config.json", dir);
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s/v1\"},\"agent\":{\"check_goal\":0,"
	    "\"settle_max_ms\":2000}}",
	    skytest_httpd_url(model));
	sky_write_file(cfg_path, cfg, strlen(cfg));
	setenv("SKYENGINE_LLM", "openai", 1);
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	const char *args[] = {"--api-key", REL_KEY, "--config", cfg_path, NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	pthread_mutex_lock(&S.lock);
	S.kill_pid = srv.pid;
	pthread_mutex_unlock(&S.lock);

	char *body = skyx_asprintf(
	    "{\"prompt\":\"Apply for the position as Chris Example, "
	    "chris@example.com\",\"url\":\"%s/form\",\"engine\":"
	    "\"skyvern-1.0\"}",
	    skytest_httpd_url(site));
	char *id = rel_submit(srv.port, body);
	free(body);

	/* Wait for the crash the site causes. */
	int64_t end = skyx_time_mono_ms() + 120000;
	while (skyx_time_mono_ms() < end && rel_alive(srv.pid) && !S.posts)
		usleep(50 * 1000);
	ck_assert_int_eq(S.posts, 1);
	skytest_server_kill(&srv); /* reaps the killed server */

	/* The click was written down before it was sent. */
	ck_assert_int_eq(actions_with_status(dir, "issued"), 1);

	free(srv.data_dir);
	free(srv.log_path);
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	json_t *run = NULL;
	ck_assert_int_eq(rel_wait_all(srv.port, &id, 1, 120000, &run), 1);
	fprintf(stderr, "intent: %s: %s (%d model calls, %d told)\n",
	        rel_str(run, "status"), rel_str(run, "failure_reason"), S.calls,
	        S.told);

	/* One application, whatever the model wanted. */
	ck_assert_int_eq(S.posts, 1);
	/* The model was told the click's outcome is unknown. */
	ck_assert_int_ge(S.told, 1);
	/* Not "completed": nothing on the page proves the goal was reached;
	 * the reason says what happened. */
	ck_assert_str_eq(rel_str(run, "status"), "terminated");
	ck_assert_ptr_nonnull(
	    strstr(rel_str(run, "failure_reason"), "Send application"));
	ck_assert_ptr_nonnull(
	    strstr(rel_str(run, "failure_reason"), "outcome is unknown"));
	/* The cut click is no longer issued: its outcome is unknown. */
	ck_assert_int_eq(actions_with_status(dir, "issued"), 0);
	ck_assert_int_eq(actions_with_status(dir, "unknown"), 1);

	json_decref(run);
	free(id);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skytest_httpd_stop(model);
	skyx_rm_rf(dir);
	free(dir);
	free(cfg);
	free(cfg_path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("intent");
	TCase *tc = tcase_create("resume");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, killed_after_the_submit_click_does_not_submit_again);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
