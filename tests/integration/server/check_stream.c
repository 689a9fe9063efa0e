/*
 * WS /api/v1/stream/tasks/{id}, Skyvern's live screenshot stream, over
 * real HTTP with real Chromium: a client that connects while a run is
 * running receives frames of the page (JPEG, with Skyvern's keys), then
 * the run's final status and a normal close; unknown and finished tasks
 * get their status and a close; credentials are answered as Skyvern
 * answers them; the run viewer shows the stream while the run runs.
 *
 * The run is held on its page while the test watches: the page's image
 * is answered only once the test has seen a frame (or after 60 s).
 */
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "httpd.h"
#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/json.h"
#include <skyx/str.h>
#include "wsc.h"

#define KEY "stream-key-0123456789"
#define AUTH "x-api-key: " KEY "\r\n"
#define JSONH "content-type: application/json\r\n"

static skytest_server srv;
static char *dir;
static skytest_httpd *site;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int held;     /* the page's image was asked for */
	int released; /* the test let it go */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

/* A 1x1 GIF. */
static const unsigned char GIF[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
    0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->path, "/hold.gif")) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 60;
		pthread_mutex_lock(&gate.lock);
		gate.held = 1;
		pthread_cond_broadcast(&gate.cond);
		while (!gate.released &&
		       pthread_cond_timedwait(&gate.cond, &gate.lock, &ts) == 0)
			;
		pthread_mutex_unlock(&gate.lock);
		resp->status = 200;
		resp->content_type = skyx_strdup("image/gif");
		resp->body = malloc(sizeof GIF);
		memcpy(resp->body, GIF, sizeof GIF);
		resp->body_len = sizeof GIF;
		return;
	}
	if (!strcmp(req->path, "/"))
		skytest_resp_text(
		    resp, 200, NULL,
		    "<title>Live</title><body style='background:"
		    "#fc0'><h1>Quarterly report</h1><p>Revenue "
		    "grew.</p><img src='/hold.gif' alt=''></body>");
	else
		skytest_resp_text(resp, 404, "text/plain", "none");
}

static void release(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.released = 1;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

static void setup(void)
{
	dir = skytest_tmpdir("stream");
	site = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(site);
	const char *args[] = {"--api-key", KEY, NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
}

static void teardown(void)
{
	release();
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	skytest_httpd_stop(site);
	free(srv.data_dir);
	free(srv.log_path);
	skyx_rm_rf(dir);
	free(dir);
}

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

static const char *path_of(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? strchr(p + 3, '/') : url;
}

/* The object has exactly these keys. */
static void assert_keys(const json_t *o, const char *const *keys)
{
	size_t n = 0;
	for (; keys[n]; n++)
		ck_assert_msg(json_object_get(o, keys[n]), "no key %s",
		              keys[n]);
	ck_assert_uint_eq(json_object_size(o), n);
}

static skytest_ws *open_ws(const char *path)
{
	int status = 0;
	skytest_ws *ws = skytest_ws_connect(srv.port, path, &status);
	ck_assert_msg(ws != NULL, "%s: handshake status %d", path, status);
	return ws;
}

/* The next text message (parsed); fails on a close or a timeout. */
static json_t *next_json(skytest_ws *ws, char **raw)
{
	char *text = NULL, *why = NULL;
	int code = 0;
	int rc = skytest_ws_read(ws, 60000, &text, &code, &why);
	ck_assert_msg(rc == 1, "no message (rc %d, close %d %s)", rc, code,
	              why ? why : "");
	json_t *j = json_loads(text, 0, NULL);
	if (raw)
		*raw = text;
	else
		free(text);
	return j;
}

static void assert_closed_normally(skytest_ws *ws)
{
	char *text = NULL, *why = NULL;
	int code = 0;
	int rc = skytest_ws_read(ws, 30000, &text, &code, &why);
	ck_assert_msg(rc == 0, "not closed: %s", text ? text : "(timeout)");
	ck_assert_int_eq(code, 1000);
	free(why);
}

/* A frame of the page: Skyvern's keys, a JPEG, the page's URL. */
static void assert_frame(const json_t *m, const char *id)
{
	static const char *const keys[] = {
	    "task_id",        "status",          "screenshot", "format",
	    "viewport_width", "viewport_height", "url",        NULL};
	if (!json_object_get(m, "screenshot")) {
		/* say what came instead (the run's final status: no frame
		 * reached the stream while the run was held on its page) */
		char *txt = json_dumps(m, JSON_COMPACT);
		ck_abort_msg("a frame expected, got %s", txt ? txt : "?");
	}
	assert_keys(m, keys);
	ck_assert_str_eq(sky_json_str(m, "task_id"), id);
	ck_assert_str_eq(sky_json_str(m, "status"), "running");
	ck_assert_str_eq(sky_json_str(m, "format"), "jpeg");
	ck_assert_int_gt(sky_json_int(m, "viewport_width", 0), 0);
	ck_assert_int_gt(sky_json_int(m, "viewport_height", 0), 0);
	char *want = skyx_asprintf("%s/", skytest_httpd_url(site));
	ck_assert_str_eq(sky_json_str(m, "url"), want);
	free(want);
	size_t n = 0;
	unsigned char *jpeg =
	    sky_base64_decode(sky_json_str(m, "screenshot"), &n);
	ck_assert_ptr_nonnull(jpeg);
	ck_assert_uint_gt(n, 100);
	ck_assert(jpeg[0] == 0xff && jpeg[1] == 0xd8); /* JPEG SOI */
	free(jpeg);
}

START_TEST(live_frames_while_running_then_the_final_status)
{
	char *body = skyx_asprintf("{\"prompt\":\"What is the heading?\","
	                           "\"url\":\"%s/\",\"engine\":"
	                           "\"skyvern-1.0\",\"max_steps\":1}",
	                           skytest_httpd_url(site));
	json_t *j = call("POST", "/v1/run/tasks", body, 200);
	free(body);
	char *id = skyx_strdup(sky_json_str(j, "run_id"));
	char *app = skyx_strdup(sky_json_str(j, "app_url"));
	json_decref(j);
	/* The run is on its page (running) once the image is asked for. */
	pthread_mutex_lock(&gate.lock);
	while (!gate.held)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);

	/* The viewer shows the live stream, by a link signed for it. */
	skytest_hc_resp r;
	ck_assert_int_eq(
	    skytest_hc(srv.port, "GET", path_of(app), NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	char *want = skyx_asprintf("/api/v1/stream/tasks/%s?expires=", id);
	char *at = strstr(r.body, want);
	ck_assert_msg(at != NULL, "no live stream in the viewer: %s", r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "new WebSocket("));
	ck_assert_ptr_nonnull(strstr(r.body, "id=live-frame"));
	char *signed_path = skyx_strndup(at, strcspn(at, "\""));
	skytest_hc_free(&r);
	free(want);

	/* Skyvern's client: apikey in the query. */
	char *path =
	    skyx_asprintf("/api/v1/stream/tasks/%s?apikey=%s", id, KEY);
	skytest_ws *ws = open_ws(path);
	json_t *m = next_json(ws, NULL);
	assert_frame(m, id);
	json_decref(m);
	/* The viewer's signed link streams too. */
	skytest_ws *ws2 = open_ws(signed_path);
	m = next_json(ws2, NULL);
	assert_frame(m, id);
	json_decref(m);
	skytest_ws_close(ws2);

	/* Let the run go: frames, then its final status, then a close. */
	release();
	const char *final = NULL;
	for (;;) {
		m = next_json(ws, NULL);
		if (json_object_get(m, "screenshot")) {
			assert_frame(m, id);
			json_decref(m);
			continue;
		}
		static const char *const keys[] = {"task_id", "status", NULL};
		assert_keys(m, keys);
		ck_assert_str_eq(sky_json_str(m, "task_id"), id);
		final = sky_json_str(m, "status");
		break;
	}
	char rp[160];
	snprintf(rp, sizeof rp, "/v1/runs/%s", id);
	j = call("GET", rp, NULL, 200);
	ck_assert_str_eq(final, sky_json_str(j, "status"));
	json_decref(j);
	json_decref(m);
	assert_closed_normally(ws);
	skytest_ws_close(ws);

	/* A finished task: its status, then a close. */
	ws = open_ws(path);
	m = next_json(ws, NULL);
	ck_assert_str_eq(sky_json_str(m, "task_id"), id);
	j = call("GET", rp, NULL, 200);
	ck_assert_str_eq(sky_json_str(m, "status"), sky_json_str(j, "status"));
	json_decref(j);
	json_decref(m);
	assert_closed_normally(ws);
	skytest_ws_close(ws);
	free(path);
	free(signed_path);
	free(app);
	free(id);
}
END_TEST

START_TEST(unknown_tasks_and_credentials)
{
	/* Unknown task: Skyvern's not_found status, then a close. */
	skytest_ws *ws = open_ws("/api/v1/stream/tasks/tsk_404?apikey=" KEY);
	json_t *m = next_json(ws, NULL);
	ck_assert_str_eq(sky_json_str(m, "task_id"), "tsk_404");
	ck_assert_str_eq(sky_json_str(m, "status"), "not_found");
	ck_assert_uint_eq(json_object_size(m), 2);
	json_decref(m);
	assert_closed_normally(ws);
	skytest_ws_close(ws);

	/* Credentials: Skyvern's texts, then a close. */
	static const struct {
		const char *path, *text;
	} cases[] = {
	    {"/api/v1/stream/tasks/tsk_1", "No valid credential provided"},
	    {"/api/v1/stream/tasks/tsk_1?apikey=wrong",
	     "Invalid credential provided"},
	    {"/api/v1/stream/tasks/tsk_1?token=abc",
	     "Invalid credential provided"},
	    {"/api/v1/stream/tasks/tsk_1?expires=1&signature=00",
	     "Invalid credential provided"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ws = open_ws(cases[i].path);
		char *text = NULL, *why = NULL;
		int code = 0;
		ck_assert_int_eq(skytest_ws_read(ws, 30000, &text, &code, &why),
		                 1);
		ck_assert_str_eq(text, cases[i].text);
		free(text);
		assert_closed_normally(ws);
		skytest_ws_close(ws);
	}

	/* Another websocket path: the upgrade is refused. */
	int status = 0;
	ws = skytest_ws_connect(srv.port, "/api/v1/stream/vnc/task/tsk_1",
	                        &status);
	ck_assert_ptr_null(ws);
	ck_assert_int_ne(status, 101);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, live_frames_while_running_then_the_final_status);
	tcase_add_test(tc, unknown_tasks_and_credentials);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
