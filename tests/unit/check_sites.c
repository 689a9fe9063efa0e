/* Unit tests: the corpus grading server (tests/support/sites.c) over plain
 * HTTP: serving, recording, server-side behaviours, and a grader that
 * fails when the expected submission is missing or wrong. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sites.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

/* A synthetic site exercising every server.json behaviour. */
static char *make_fixture_corpus(void)
{
	char *root = skytest_tmpdir("sites");
	char *dir = skyx_asprintf("%s/demo", root);
	ck_assert_int_eq(sky_mkdir_p(dir), 0);
	struct {
		const char *name, *text;
	} files[] = {
	    {"index.html", "<h1>demo index</h1>"},
	    {"thanks.html", "<h1>thanks page</h1>"},
	    {"private.html", "<h1>members only</h1>"},
	    {"verify.html", "<h1>enter code</h1>"},
	    {"vault.html", "<h1>the vault</h1>"},
	    {"doc.pdf", "%PDF-1.4 tiny"},
	    {"page2.html", "<h1>second page</h1>"},
	    {"hits.html", "<h1>kettle hits</h1>"},
	    {"nohits.html", "<h1>no results</h1>"},
	    {"task.json",
	     "{\"goal\": \"g\", \"url\": \"index.html\", \"expect\": {}}"},
	    {"server.json",
	     "{\"routes\": ["
	     "{\"method\": \"POST\", \"path\": \"/login\", \"login\": "
	     "{\"fields\": {\"u\": \"ann\", \"p\": \"pw\"}, \"redirect\": "
	     "\"private.html\", \"failure_redirect\": \"index.html\"}},"
	     "{\"method\": \"POST\", \"path\": \"/login2\", \"login\": "
	     "{\"fields\": {\"u\": \"ann\"}, \"pending\": true, "
	     "\"redirect\": \"verify.html\"}},"
	     "{\"path\": \"/private.html\", \"require_login\": "
	     "\"index.html\"},"
	     "{\"path\": \"/vault.html\", \"require_verified\": "
	     "\"index.html\"},"
	     "{\"method\": \"POST\", \"path\": \"/verify\", \"totp\": "
	     "{\"field\": \"otp\", \"secret_base32\": "
	     "\"JBSWY3DPEHPK3PXP\", \"redirect\": \"vault.html\", "
	     "\"failure_redirect\": \"verify.html\"}},"
	     "{\"method\": \"POST\", \"path\": \"/apply\", \"respond\": "
	     "\"thanks.html\"},"
	     "{\"method\": \"POST\", \"path\": \"/api\", \"json\": "
	     "{\"ok\": true}},"
	     "{\"path\": \"/get/doc\", \"download\": {\"file\": "
	     "\"doc.pdf\", \"filename\": \"Report 7.pdf\", "
	     "\"content_type\": \"application/pdf\"}},"
	     "{\"path\": \"/gone\", \"status\": 410},"
	     "{\"path\": \"/list\", \"query\": {\"page\": \"2\"}, "
	     "\"respond\": \"page2.html\"},"
	     "{\"path\": \"/list\", \"respond\": \"index.html\"},"
	     "{\"path\": \"/find\", \"query_contains\": {\"q\": "
	     "\"kettle\"}, \"respond\": \"hits.html\"},"
	     "{\"path\": \"/find\", \"respond\": \"nohits.html\"}"
	     "]}"},
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = skyx_asprintf("%s/%s", dir, files[i].name);
		ck_assert_int_eq(
		    sky_write_file(p, files[i].text, strlen(files[i].text)), 0);
		free(p);
	}
	free(dir);
	return root;
}

static skytest_sites *start(const char *root)
{
	char *err = NULL;
	skytest_sites *s = skytest_sites_start(root, &err);
	ck_assert_msg(s != NULL, "start: %s", err ? err : "?");
	return s;
}

static int do_req(skytest_sites *s, const char *method, const char *path,
                  const char *headers, const char *body, skytest_http_resp *r)
{
	char *url = skyx_asprintf("%s%s", skytest_sites_base(s), path);
	int rc = skytest_http(method, url, headers, body,
	                      body ? strlen(body) : 0, r);
	free(url);
	ck_assert_int_eq(rc, 0);
	return r->status;
}

static const char *URLENC =
    "Content-Type: application/x-www-form-urlencoded\r\n";

START_TEST(serves_and_records_forms)
{
	char *root = make_fixture_corpus();
	skytest_sites *s = start(root);
	skytest_http_resp r;
	ck_assert_int_eq(skytest_sites_count(s), 1);
	ck_assert_str_eq(skytest_sites_name(s, 0), "demo");

	ck_assert_int_eq(do_req(s, "GET", "/demo/", NULL, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "demo index"));
	skytest_http_resp_free(&r);
	ck_assert_int_eq(do_req(s, "GET", "/demo", NULL, NULL, &r), 303);
	char *loc = skytest_http_header(&r, "location");
	ck_assert_str_eq(loc, "/demo/");
	free(loc);
	skytest_http_resp_free(&r);
	/* the answers are not part of the site */
	ck_assert_int_eq(do_req(s, "GET", "/demo/task.json", NULL, NULL, &r),
	                 404);
	skytest_http_resp_free(&r);
	ck_assert_int_eq(do_req(s, "GET", "/nosuch/", NULL, NULL, &r), 404);
	skytest_http_resp_free(&r);

	ck_assert_int_eq(do_req(s, "POST", "/demo/apply?src=ad", URLENC,
	                        "first+name=Chris&skill=c&skill=sql&"
	                        "email=chris%40pbacon.com",
	                        &r),
	                 200);
	ck_assert_ptr_nonnull(strstr(r.body, "thanks page"));
	skytest_http_resp_free(&r);

	ck_assert_int_eq(do_req(s, "POST", "/demo/api",
	                        "Content-Type: application/json\r\n",
	                        "{\"user\": \"neo\", \"age\": 3}", &r),
	                 200);
	ck_assert_str_eq(r.body, "{\"ok\":true}");
	skytest_http_resp_free(&r);

	const char *mp = "--XyZ\r\n"
	                 "Content-Disposition: form-data; name=\"email\"\r\n"
	                 "\r\n"
	                 "a@b.c\r\n"
	                 "--XyZ\r\n"
	                 "Content-Disposition: form-data; name=\"cv\"; "
	                 "filename=\"cv.txt\"\r\n"
	                 "Content-Type: text/plain\r\n"
	                 "\r\n"
	                 "0123456789\r\n"
	                 "--XyZ--\r\n";
	ck_assert_int_eq(
	    do_req(s, "POST", "/demo/thanks.html",
	           "Content-Type: multipart/form-data; boundary=XyZ\r\n", mp,
	           &r),
	    200);
	skytest_http_resp_free(&r);

	json_t *reqs = skytest_sites_requests(s, "demo");
	ck_assert_int_eq(json_array_size(reqs), 5);
	json_t *apply = json_array_get(reqs, 2);
	ck_assert_str_eq(json_string_value(json_object_get(apply, "path")),
	                 "/apply");
	json_t *f = json_object_get(apply, "fields");
	ck_assert_str_eq(json_string_value(json_object_get(f, "first name")),
	                 "Chris");
	ck_assert_str_eq(json_string_value(json_object_get(f, "email")),
	                 "chris@pbacon.com");
	ck_assert_int_eq(json_array_size(json_object_get(f, "skill")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(apply, "query"), "src")),
	                 "ad");
	json_t *api = json_object_get(json_array_get(reqs, 3), "fields");
	ck_assert_str_eq(json_string_value(json_object_get(api, "user")),
	                 "neo");
	ck_assert_str_eq(json_string_value(json_object_get(api, "age")), "3");
	json_t *up = json_array_get(reqs, 4);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(up, "fields"), "email")),
	                 "a@b.c");
	json_t *cv = json_object_get(json_object_get(up, "files"), "cv");
	ck_assert_str_eq(json_string_value(json_object_get(cv, "filename")),
	                 "cv.txt");
	ck_assert_int_eq(json_integer_value(json_object_get(cv, "size")), 10);
	json_decref(reqs);

	skytest_sites_reset(s, "demo");
	reqs = skytest_sites_requests(s, "demo");
	ck_assert_int_eq(json_array_size(reqs), 0);
	json_decref(reqs);
	skytest_sites_stop(s);
	skyx_rm_rf(root);
	free(root);
}
END_TEST

static char *cookie_of(const skytest_http_resp *r)
{
	char *sc = skytest_http_header(r, "set-cookie");
	if (!sc)
		return NULL;
	char *semi = strchr(sc, ';');
	if (semi)
		*semi = '\0';
	char *line = skyx_asprintf("Cookie: %s\r\n", sc);
	free(sc);
	return line;
}

START_TEST(login_totp_download)
{
	char *root = make_fixture_corpus();
	skytest_sites *s = start(root);
	skytest_http_resp r;
	char *loc;

	/* wrong password: back to the form, no session */
	ck_assert_int_eq(
	    do_req(s, "POST", "/demo/login", URLENC, "u=ann&p=nope", &r), 303);
	ck_assert_ptr_null(skytest_http_header(&r, "set-cookie"));
	skytest_http_resp_free(&r);
	ck_assert_int_eq(do_req(s, "GET", "/demo/private.html", NULL, NULL, &r),
	                 303);
	loc = skytest_http_header(&r, "location");
	ck_assert_str_eq(loc, "/demo/index.html");
	free(loc);
	skytest_http_resp_free(&r);

	ck_assert_int_eq(
	    do_req(s, "POST", "/demo/login", URLENC, "u=ann&p=pw", &r), 303);
	loc = skytest_http_header(&r, "location");
	ck_assert_str_eq(loc, "/demo/private.html");
	free(loc);
	char *cookie = cookie_of(&r);
	ck_assert_ptr_nonnull(cookie);
	skytest_http_resp_free(&r);
	ck_assert_int_eq(
	    do_req(s, "GET", "/demo/private.html", cookie, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "members only"));
	skytest_http_resp_free(&r);
	json_t *reqs = skytest_sites_requests(s, "demo");
	json_t *last = json_array_get(reqs, json_array_size(reqs) - 1);
	ck_assert(json_is_true(json_object_get(last, "logged_in")));
	json_decref(reqs);
	free(cookie);

	/* a pending login needs a TOTP code before the vault opens */
	ck_assert_int_eq(do_req(s, "POST", "/demo/login2", URLENC, "u=ann", &r),
	                 303);
	cookie = cookie_of(&r);
	skytest_http_resp_free(&r);
	ck_assert_int_eq(do_req(s, "GET", "/demo/vault.html", cookie, NULL, &r),
	                 303);
	skytest_http_resp_free(&r);
	skyx_buf hdr = {0};
	skyx_buf_printf(&hdr, "%s%s", cookie, URLENC);
	ck_assert_int_eq(
	    do_req(s, "POST", "/demo/verify", hdr.data, "otp=000000x", &r),
	    303);
	loc = skytest_http_header(&r, "location");
	ck_assert_str_eq(loc, "/demo/verify.html");
	free(loc);
	skytest_http_resp_free(&r);
	char code[7], *body;
	ck_assert_int_eq(
	    skytest_sites_totp("JBSWY3DPEHPK3PXP", (int64_t)time(NULL), code),
	    0);
	body = skyx_asprintf("otp=%s", code);
	ck_assert_int_eq(do_req(s, "POST", "/demo/verify", hdr.data, body, &r),
	                 303);
	loc = skytest_http_header(&r, "location");
	ck_assert_str_eq(loc, "/demo/vault.html");
	free(loc);
	skytest_http_resp_free(&r);
	ck_assert_int_eq(do_req(s, "GET", "/demo/vault.html", cookie, NULL, &r),
	                 200);
	skytest_http_resp_free(&r);
	free(body);
	skyx_buf_free(&hdr);
	free(cookie);

	ck_assert_int_eq(do_req(s, "GET", "/demo/get/doc", NULL, NULL, &r),
	                 200);
	char *cd = skytest_http_header(&r, "content-disposition");
	ck_assert_str_eq(cd, "attachment; filename=\"Report 7.pdf\"");
	free(cd);
	char *ct = skytest_http_header(&r, "content-type");
	ck_assert_str_eq(ct, "application/pdf");
	free(ct);
	skytest_http_resp_free(&r);
	ck_assert_int_eq(do_req(s, "GET", "/demo/gone", NULL, NULL, &r), 410);
	skytest_http_resp_free(&r);
	skytest_sites_stop(s);
	skyx_rm_rf(root);
	free(root);
}
END_TEST

/* RFC 6238 appendix B, SHA-1 (secret "12345678901234567890"). */
/* Routes chosen by query: pagination and a search box. */
START_TEST(query_routes)
{
	char *root = make_fixture_corpus();
	skytest_sites *s = start(root);
	skytest_http_resp r;
	struct {
		const char *path, *want;
	} cases[] = {
	    {"/demo/list?page=2", "second page"},
	    {"/demo/list?page=%202%20", "second page"},
	    {"/demo/list?page=12", "demo index"},
	    {"/demo/list", "demo index"},
	    {"/demo/find?q=Ember+Kettle", "kettle hits"},
	    {"/demo/find?q=KETTLE", "kettle hits"},
	    {"/demo/find?q=toaster", "no results"},
	    {"/demo/find", "no results"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(
		    do_req(s, "GET", cases[i].path, NULL, NULL, &r), 200);
		ck_assert_msg(strstr(r.body, cases[i].want), "%s: %s",
		              cases[i].path, r.body);
		skytest_http_resp_free(&r);
	}
	skytest_sites_stop(s);
	skyx_rm_rf(root);
	free(root);
}
END_TEST

START_TEST(totp_reference_vectors)
{
	char code[7];
	const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	ck_assert_int_eq(skytest_sites_totp(secret, 59, code), 0);
	ck_assert_str_eq(code, "287082");
	ck_assert_int_eq(skytest_sites_totp(secret, 1111111109, code), 0);
	ck_assert_str_eq(code, "081804");
	ck_assert_int_eq(skytest_sites_totp(secret, 2000000000, code), 0);
	ck_assert_str_eq(code, "279037");
	ck_assert_int_eq(skytest_sites_totp("!!!", 59, code), -1);
}
END_TEST

static int grade(const char *expect, const char *requests, const char *outcome,
                 char **why)
{
	json_t *e = json_loads(expect, 0, NULL);
	json_t *r = json_loads(requests, 0, NULL);
	json_t *o = outcome ? json_loads(outcome, 0, NULL) : NULL;
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(r);
	int rc = skytest_sites_grade_expect(e, r, o, why);
	json_decref(e);
	json_decref(r);
	json_decref(o);
	return rc;
}

static void expect_fail(const char *expect, const char *requests,
                        const char *outcome, const char *needle)
{
	char *why = NULL;
	ck_assert_int_eq(grade(expect, requests, outcome, &why), 0);
	ck_assert_msg(strstr(why, needle), "reason '%s' lacks '%s'", why,
	              needle);
	free(why);
}

static void expect_pass(const char *expect, const char *requests,
                        const char *outcome)
{
	char *why = NULL;
	ck_assert_msg(grade(expect, requests, outcome, &why) == 1, "%s", why);
	free(why);
}

START_TEST(grader_fails_on_missing_or_wrong)
{
	const char *ex =
	    "{\"status\": \"completed\", \"requests\": ["
	    "{\"method\": \"GET\", \"path\": \"/step2.html\"},"
	    "{\"method\": \"POST\", \"path\": \"/apply\", \"fields\": "
	    "{\"first_name\": \"Chris\", \"skills\": [\"c\", \"sql\"]}, "
	    "\"absent_fields\": [\"marketing\"], \"logged_in\": true, "
	    "\"files\": {\"cv\": {\"filename\": \"cv.txt\", \"size\": 10}}}"
	    "], \"no_requests\": [{\"method\": \"GET\", \"path\": "
	    "\"/wrong.html\"}]}";
	const char *good_post =
	    "{\"method\": \"POST\", \"path\": \"/apply\", \"logged_in\": "
	    "true, \"fields\": {\"first_name\": \"Chris\", \"skills\": "
	    "[\"sql\", \"c\"]}, \"files\": {\"cv\": {\"filename\": "
	    "\"cv.txt\", \"size\": 10}}}";
	const char *step2 = "{\"method\": \"GET\", \"path\": \"/step2.html\"}";
	const char *done = "{\"status\": \"completed\"}";
	char *reqs;

	reqs = skyx_asprintf("[%s, %s]", step2, good_post);
	expect_pass(ex, reqs, done);
	expect_fail(ex, reqs,
	            "{\"status\": \"terminated\", "
	            "\"failure_reason\": \"gave up\"}",
	            "the run ended terminated (gave up), expected completed");
	expect_fail(ex, reqs, NULL, "expected completed");
	free(reqs);

	/* missing submission */
	expect_fail(ex, "[{\"method\": \"GET\", \"path\": \"/step2.html\"}]",
	            done, "no POST /apply was received");
	/* wrong order */
	reqs = skyx_asprintf("[%s, %s]", good_post, step2);
	expect_fail(ex, reqs, done, "no POST /apply was received after");
	free(reqs);
	/* wrong value */
	reqs =
	    skyx_asprintf("[%s, {\"method\": \"POST\", \"path\": \"/apply\", "
	                  "\"logged_in\": true, \"fields\": {\"first_name\": "
	                  "\"Chris P\", \"skills\": [\"c\", \"sql\"]}}]",
	                  step2);
	expect_fail(ex, reqs, done,
	            "field first_name was \"Chris P\", expected \"Chris\"");
	free(reqs);
	/* a checkbox group with one box missing */
	reqs =
	    skyx_asprintf("[%s, {\"method\": \"POST\", \"path\": \"/apply\", "
	                  "\"logged_in\": true, \"fields\": {\"first_name\": "
	                  "\"Chris\", \"skills\": \"c\"}}]",
	                  step2);
	expect_fail(ex, reqs, done, "field skills was \"c\"");
	free(reqs);
	/* a box that must stay unticked */
	reqs =
	    skyx_asprintf("[%s, {\"method\": \"POST\", \"path\": \"/apply\", "
	                  "\"logged_in\": true, \"fields\": {\"first_name\": "
	                  "\"Chris\", \"skills\": [\"c\", \"sql\"], "
	                  "\"marketing\": \"on\"}}]",
	                  step2);
	expect_fail(ex, reqs, done, "field marketing was sent");
	free(reqs);
	/* no session */
	reqs =
	    skyx_asprintf("[%s, {\"method\": \"POST\", \"path\": \"/apply\", "
	                  "\"logged_in\": false, \"fields\": {\"first_name\": "
	                  "\"Chris\", \"skills\": [\"c\", \"sql\"]}, "
	                  "\"files\": {\"cv\": {\"filename\": \"cv.txt\", "
	                  "\"size\": 10}}}]",
	                  step2);
	expect_fail(ex, reqs, done, "without a login session");
	free(reqs);
	/* file missing or wrong size */
	reqs =
	    skyx_asprintf("[%s, {\"method\": \"POST\", \"path\": \"/apply\", "
	                  "\"logged_in\": true, \"fields\": {\"first_name\": "
	                  "\"Chris\", \"skills\": [\"c\", \"sql\"]}, "
	                  "\"files\": {\"cv\": {\"filename\": \"cv.txt\", "
	                  "\"size\": 3}}}]",
	                  step2);
	expect_fail(ex, reqs, done, "file cv had 3 bytes, expected 10");
	free(reqs);
	/* a free-text field graded by the parts it must contain */
	const char *ex2 = "{\"requests\": [{\"method\": \"POST\", \"path\": "
	                  "\"/msg\", \"fields\": {\"body\": {\"contains\": "
	                  "[\"order 88\", \"damaged\"]}}}]}";
	expect_pass(
	    ex2,
	    "[{\"method\": \"POST\", \"path\": \"/msg\", "
	    "\"fields\": {\"body\": \"My Order 88 arrived DAMAGED.\"}}]",
	    NULL);
	expect_fail(ex2,
	            "[{\"method\": \"POST\", \"path\": \"/msg\", "
	            "\"fields\": {\"body\": \"My order 88 arrived late\"}}]",
	            NULL, "field body was");
	/* a forbidden page was visited */
	reqs = skyx_asprintf("[%s, %s, {\"method\": \"GET\", \"path\": "
	                     "\"/wrong.html\"}]",
	                     step2, good_post);
	expect_fail(ex, reqs, done, "unexpected GET /wrong.html");
	free(reqs);
}
END_TEST

START_TEST(grader_outcome_checks)
{
	const char *ex = "{\"status\": \"terminated\", \"reason_contains\": "
	                 "[\"CAPTCHA\"], \"errors\": [\"BOT_CHECK\"]}";
	expect_pass(ex, "[]",
	            "{\"status\": \"terminated\", \"failure_reason\": \"the "
	            "page shows a captcha\", \"errors\": [{\"error_code\": "
	            "\"BOT_CHECK\"}]}");
	expect_fail(ex, "[]",
	            "{\"status\": \"terminated\", \"failure_reason\": \"no "
	            "plan\", \"errors\": [{\"error_code\": \"BOT_CHECK\"}]}",
	            "does not mention \"CAPTCHA\"");
	expect_fail(ex, "[]",
	            "{\"status\": \"terminated\", \"failure_reason\": "
	            "\"captcha\", \"errors\": []}",
	            "error code BOT_CHECK was not surfaced");

	const char *out = "{\"output\": {\"total\": 1234.5, \"n\": 3, "
	                  "\"rows\": [{\"a\": true}]}}";
	/* numbers compare by value */
	expect_pass(out, "[]",
	            "{\"output\": {\"n\": 3.0, \"total\": 1234.50, \"rows\": "
	            "[{\"a\": true}]}}");
	expect_fail(out, "[]",
	            "{\"output\": {\"n\": 3, \"total\": \"$1,234.50\", "
	            "\"rows\": [{\"a\": true}]}}",
	            "the output was");
	expect_fail(out, "[]",
	            "{\"output\": {\"n\": 3, \"total\": 1234.5, \"rows\": "
	            "[{\"a\": true}, {\"a\": false}]}}",
	            "the output was");
	expect_fail(out, "[]", "{\"output\": null}", "the output was null");
}
END_TEST

/* ---- the real corpus ---------------------------------------------------- */

/* Both corpora: tests/sites (written with the offline planner) and
 * tests/sites-b (written independently of it, issue 19). */
static const char *const CORPORA[] = {"tests/sites", "tests/sites-b"};

static skytest_sites *corpus_at(const char *rel)
{
	char *root = skytest_src_path(rel);
	skytest_sites *s = start(root);
	free(root);
	return s;
}

START_TEST(corpus_is_complete)
{
	skytest_sites *s = corpus_at(CORPORA[_i]);
	ck_assert_uint_ge(skytest_sites_count(s), _i ? 40 : 22);
	for (size_t i = 0; i < skytest_sites_count(s); i++) {
		const char *name = skytest_sites_name(s, i);
		json_t *task = skytest_sites_task(s, name);
		const char *url =
		    json_string_value(json_object_get(task, "url"));
		const char *goal =
		    json_string_value(json_object_get(task, "goal"));
		ck_assert_ptr_nonnull(url);
		ck_assert_msg(!strstr(goal, "{{"),
		              "%s: placeholder left in "
		              "goal",
		              name);
		skytest_http_resp r;
		ck_assert_int_eq(skytest_http("GET", url, NULL, NULL, 0, &r),
		                 0);
		ck_assert_msg(r.status == 200, "%s: start page answered %d",
		              name, r.status);
		/* the corpus is local: no page reaches out to the network */
		ck_assert_msg(!strstr(r.body, "src=\"http") &&
		                  !strstr(r.body, "href=\"http"),
		              "%s: external URL in the start page", name);
		skytest_http_resp_free(&r);
		json_decref(task);
	}
	skytest_sites_stop(s);
}
END_TEST

/* Log into a site with its own login route's fields; a Cookie line. */
static char *login_cookie(skytest_sites *s, const char *name)
{
	char *path =
	    skyx_asprintf("%s/server.json", skytest_sites_dir(s, name));
	json_t *srv = json_load_file(path, 0, NULL);
	json_t *r;
	size_t i;
	char *cookie = NULL;
	free(path);
	json_array_foreach (json_object_get(srv, "routes"), i, r) {
		json_t *login = json_object_get(r, "login");
		if (!login || cookie)
			continue;
		skyx_buf body = {0};
		const char *k;
		json_t *v;
		json_object_foreach (json_object_get(login, "fields"), k, v)
			skyx_buf_printf(&body, "%s%s=%s", body.len ? "&" : "",
			                k, json_string_value(v));
		char *p = skyx_asprintf(
		    "/%s%s", name,
		    json_string_value(json_object_get(r, "path")));
		skytest_http_resp resp;
		do_req(s, "POST", p, URLENC, body.data, &resp);
		cookie = cookie_of(&resp);
		skytest_http_resp_free(&resp);
		skyx_buf_free(&body);
		free(p);
	}
	json_decref(srv);
	return cookie;
}

static void put_encoded(skyx_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-_.~", c))
			skyx_buf_putc(b, (char)c);
		else
			skyx_buf_printf(b, "%%%02X", c);
	}
}

/* The text a browser would send for an expected value: the string, or
 * the parts of a {"contains": [..]} expectation joined by spaces
 * (borrowed or in *tmp, freed by the caller); "spoiled" when spoiling. */
static const char *value_text(const json_t *v, int spoil, char **tmp)
{
	json_t *parts = json_object_get(v, "contains"), *p;
	size_t i;
	skyx_buf b = {0};
	*tmp = NULL;
	if (spoil)
		return "spoiled";
	if (!parts)
		return json_string_value(v);
	json_array_foreach (parts, i, p)
		skyx_buf_printf(&b, "%s%s", i ? " " : "", json_string_value(p));
	*tmp = skyx_buf_steal(&b);
	return *tmp ? *tmp : "";
}

/* Send one expected request as a browser would, optionally with one
 * field's value spoiled. */
static void replay(skytest_sites *s, const char *name, const json_t *want,
                   const char *cookie, int spoil)
{
	const char *method = json_string_value(json_object_get(want, "method"));
	const char *path = json_string_value(json_object_get(want, "path"));
	json_t *fields = json_object_get(want, "fields");
	json_t *files = json_object_get(want, "files");
	skyx_buf url = {0}, body = {0}, hdr = {0};
	const char *k;
	json_t *v;
	int spoiled = 0;
	skyx_buf_printf(&url, "%s/%s%s", skytest_sites_base(s), name, path);
	json_object_foreach (json_object_get(want, "query"), k, v) {
		skyx_buf_putc(&url,
		              url.len && strchr(url.data, '?') ? '&' : '?');
		put_encoded(&url, k);
		skyx_buf_putc(&url, '=');
		put_encoded(&url, json_string_value(v));
	}
	if (cookie)
		skyx_buf_puts(&hdr, cookie);
	if (json_object_size(files)) {
		skyx_buf_puts(&hdr, "Content-Type: multipart/form-data; "
		                    "boundary=B0uNd\r\n");
		json_object_foreach (fields, k, v) {
			char *tmp;
			skyx_buf_printf(
			    &body,
			    "--B0uNd\r\nContent-Disposition: "
			    "form-data; name=\"%s\"\r\n\r\n%s\r\n",
			    k, value_text(v, spoil && !spoiled++, &tmp));
			free(tmp);
		}
		json_object_foreach (files, k, v) {
			const char *fn =
			    json_string_value(json_object_get(v, "filename"));
			char *p = skyx_asprintf("%s/%s",
			                        skytest_sites_dir(s, name), fn);
			size_t n = 0;
			char *data = skyx_read_file(p, &n);
			ck_assert_msg(data != NULL, "%s: no file %s", name, fn);
			skyx_buf_printf(
			    &body,
			    "--B0uNd\r\nContent-Disposition: "
			    "form-data; name=\"%s\"; filename=\"%s\"\r\n"
			    "Content-Type: text/plain\r\n\r\n",
			    k, fn);
			skyx_buf_append(&body, data, n);
			skyx_buf_puts(&body, "\r\n");
			free(data);
			free(p);
		}
		skyx_buf_puts(&body, "--B0uNd--\r\n");
	} else if (json_object_size(fields)) {
		skyx_buf_puts(&hdr, URLENC);
		json_object_foreach (fields, k, v) {
			size_t i;
			json_t *item;
			json_t *vals = json_is_array(v) ? v : NULL;
			if (!vals) {
				vals = json_array();
				json_array_append(vals, v);
			} else {
				json_incref(vals);
			}
			json_array_foreach (vals, i, item) {
				if (body.len)
					skyx_buf_putc(&body, '&');
				put_encoded(&body, k);
				skyx_buf_putc(&body, '=');
				char *tmp;
				put_encoded(
				    &body, value_text(item, spoil && !spoiled++,
				                      &tmp));
				free(tmp);
			}
			json_decref(vals);
		}
	}
	skytest_http_resp r;
	ck_assert_int_eq(
	    skytest_http(method, url.data, hdr.data, body.data, body.len, &r),
	    0);
	ck_assert_msg(r.status < 500, "%s: %s %s answered %d", name, method,
	              path, r.status);
	skytest_http_resp_free(&r);
	skyx_buf_free(&url);
	skyx_buf_free(&body);
	skyx_buf_free(&hdr);
}

/* The outcome a correct run would report, taken from the expectation. */
static json_t *ideal_outcome(const json_t *expect)
{
	json_t *o = json_object(), *errs = json_array(), *v;
	size_t i;
	skyx_buf reason = {0};
	if (json_object_get(expect, "status"))
		json_object_set(o, "status", json_object_get(expect, "status"));
	if (json_object_get(expect, "output"))
		json_object_set(o, "output", json_object_get(expect, "output"));
	json_array_foreach (json_object_get(expect, "reason_contains"), i, v)
		skyx_buf_printf(&reason, "%s; ", json_string_value(v));
	json_object_set_new(o, "failure_reason",
	                    json_string(reason.data ? reason.data : ""));
	json_array_foreach (json_object_get(expect, "errors"), i, v)
		json_array_append_new(errs,
		                      json_pack("{s:O}", "error_code", v));
	json_object_set_new(o, "errors", errs);
	skyx_buf_free(&reason);
	return o;
}

/* Every site's expected submissions, sent by plain HTTP, pass its grader;
 * the same submissions with one value spoiled fail it. This proves each
 * expectation is reachable through the site's own routes (logins,
 * guards) and that the grader is not vacuous. */
START_TEST(corpus_expectations_are_gradable)
{
	skytest_sites *s = corpus_at(CORPORA[_i]);
	for (size_t i = 0; i < skytest_sites_count(s); i++) {
		const char *name = skytest_sites_name(s, i);
		json_t *task = skytest_sites_task(s, name);
		json_t *expect = json_object_get(task, "expect");
		json_t *reqs = json_object_get(expect, "requests");
		json_t *outcome = ideal_outcome(expect);
		for (int spoil = 0; spoil <= 1; spoil++) {
			char *why = NULL, *cookie = NULL;
			size_t j;
			json_t *want;
			int spoilable = 0;
			skytest_sites_reset(s, name);
			json_array_foreach (reqs, j, want) {
				int last = j + 1 == json_array_size(reqs);
				json_t *f = json_object_get(want, "fields");
				if (json_is_true(
				        json_object_get(want, "logged_in")) &&
				    !cookie)
					cookie = login_cookie(s, name);
				replay(s, name, want, cookie, spoil && last);
				spoilable |= last && json_object_size(f) > 0;
			}
			int rc = skytest_sites_grade(s, name, outcome, &why);
			if (!spoil)
				ck_assert_msg(rc == 1, "%s: %s", name, why);
			else if (spoilable)
				ck_assert_msg(rc == 0,
				              "%s: a spoiled submission passed",
				              name);
			free(why);
			free(cookie);
		}
		/* a run that did nothing never passes */
		skytest_sites_reset(s, name);
		json_t *nothing = json_pack("{s:s}", "status", "failed");
		char *why = NULL;
		ck_assert_msg(skytest_sites_grade(s, name, nothing, &why) == 0,
		              "%s: an idle failed run passed", name);
		free(why);
		json_decref(nothing);
		json_decref(outcome);
		json_decref(task);
	}
	skytest_sites_stop(s);
}
END_TEST

START_TEST(bad_corpus_is_reported)
{
	char *root = skytest_tmpdir("sites-bad");
	char *dir = skyx_asprintf("%s/broken", root);
	char *p = skyx_asprintf("%s/task.json", dir);
	char *err = NULL;
	ck_assert_int_eq(sky_mkdir_p(dir), 0);
	ck_assert_int_eq(sky_write_file(p, "{\"goal\": 1}", 11), 0);
	ck_assert_ptr_null(skytest_sites_start(root, &err));
	ck_assert_msg(err && strstr(err, "broken/task.json"), "%s", err);
	free(err);
	ck_assert_ptr_null(skytest_sites_start("/nonexistent/corpus", &err));
	ck_assert_ptr_nonnull(strstr(err, "cannot open corpus"));
	free(err);
	skyx_rm_rf(root);
	free(root);
	free(dir);
	free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sites");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, serves_and_records_forms);
	tcase_add_test(tc, login_totp_download);
	tcase_add_test(tc, query_routes);
	tcase_add_test(tc, totp_reference_vectors);
	tcase_add_test(tc, grader_fails_on_missing_or_wrong);
	tcase_add_test(tc, grader_outcome_checks);
	tcase_add_loop_test(tc, corpus_is_complete, 0, 2);
	tcase_add_loop_test(tc, corpus_expectations_are_gradable, 0, 2);
	tcase_add_test(tc, bad_corpus_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
