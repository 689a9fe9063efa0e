/* Browser actions in real Chromium, each checked by reading the page's
 * state back (main-world evaluate, or what the fixture server received),
 * never by "no error" alone. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skybrowser.h"
#include "skytest.h"
#include "util/fs.h"
#include "util/hash.h"

static skyb_site *site;
static void *browser, *ctx;

static void setup(void)
{
	site = skyb_site_start();
	browser = skyb_browser_shared();
	ctx = skyb_context(browser, NULL);
}

static void teardown(void)
{
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(browser);
	skyb_site_stop(site);
}

static json_t *open_page(const char *path)
{
	char *url = skyb_url(site, path);
	json_decref(skyb_navigate(ctx, url));
	json_decref(skyb_settle(ctx));
	free(url);
	return skyb_snapshot(ctx);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *by_name(json_t *arr, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		const char *n = str(json_object_get(e, "attrs"), "name");
		if (n && !strcmp(n, name))
			return e;
		json_t *r = by_name(json_object_get(e, "children"), name);
		if (r)
			return r;
	}
	return NULL;
}

static const char *name_id(json_t *snap, const char *name)
{
	json_t *e = by_name(json_object_get(snap, "elements"), name);
	ck_assert_msg(e != NULL, "no field named %s", name);
	return str(e, "id");
}

/* An action that must fail with this error kind; returns the result. */
static json_t *act_fails(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *act_fails(const char *kind, const char *fmt, ...)
{
	va_list ap;
	char *a = NULL;
	va_start(ap, fmt);
	ck_assert(vasprintf(&a, fmt, ap) >= 0);
	va_end(ap);
	json_t *r = skyb_act(ctx, a);
	char *txt = json_dumps(r, JSON_COMPACT);
	ck_assert_msg(json_is_false(json_object_get(r, "success")) &&
	                  str(r, "error") && !strcmp(str(r, "error"), kind),
	              "%s: expected %s, got %s", a, kind, txt);
	ck_assert_ptr_nonnull(str(r, "message"));
	free(txt);
	free(a);
	return r;
}

START_TEST(form_filled_and_submitted)
{
	json_t *s = open_page("form.html");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"Ada\"}",
	                        name_id(s, "first_name")));
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"Lovelace\"}",
	                        name_id(s, "last_name"));
	ck_assert_str_eq(str(r, "value"), "Lovelace");
	json_decref(r);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"ada@example.com\"}",
	                        name_id(s, "email")));
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"input_text\",\"element_id\":"
	                "\"%s\",\"text\":\"hunter22\"}",
	                name_id(s, "password"));
	ck_assert_str_eq(str(r, "value"), "****"); /* never echoed */
	json_decref(r);
	/* typing replaces what was there */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"7\"}",
	                        name_id(s, "years")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"12\"}",
	                        name_id(s, "years")));
	/* inputs that take no typing */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"2026-01-15\"}",
	                        name_id(s, "start")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"#ff8800\"}",
	                        name_id(s, "colour")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"Dear team,\\nI apply.\"}",
	                        name_id(s, "cover")));
	/* selects by label, by value, by index */
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"select_option\","
	                "\"element_id\":\"%s\",\"option\":{\"label\":"
	                "\"France\"}}",
	                name_id(s, "country"));
	ck_assert_str_eq(str(json_object_get(r, "selected"), "value"), "fr");
	json_decref(r);
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"select_option\","
	                "\"element_id\":\"%s\",\"option\":{\"value\":"
	                "\"gb\"}}",
	                name_id(s, "country"));
	ck_assert_str_eq(str(json_object_get(r, "selected"), "text"),
	                 "United Kingdom");
	json_decref(r);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"select_option\","
	                        "\"element_id\":\"%s\",\"option\":"
	                        "{\"index\":1}}",
	                        name_id(s, "langs")));
	json_decref(act_fails("option_not_found",
	                      "{\"action_type\":\"select_option\","
	                      "\"element_id\":\"%s\",\"option\":{\"label\":"
	                      "\"Narnia\"}}",
	                      name_id(s, "country")));
	json_decref(act_fails("disabled",
	                      "{\"action_type\":\"select_option\","
	                      "\"element_id\":\"%s\",\"option\":{\"value\":"
	                      "\"de\"}}",
	                      name_id(s, "country")));
	/* radios and checkboxes */
	json_t *els = json_object_get(s, "elements");
	json_t *yes = skyb_find(s, "input", "Yes");
	ck_assert_ptr_nonnull(yes);
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"checkbox\",\"element_id\":"
	                "\"%s\",\"is_checked\":true}",
	                str(yes, "id"));
	ck_assert(json_is_true(json_object_get(r, "changed")));
	json_decref(r);
	json_decref(act_fails("unsupported",
	                      "{\"action_type\":\"checkbox\",\"element_id\":"
	                      "\"%s\",\"is_checked\":false}",
	                      str(yes, "id")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        str(skyb_find(s, "input", "A friend"), "id")));
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"checkbox\",\"element_id\":"
	                "\"%s\",\"is_checked\":true}",
	                name_id(s, "terms"));
	json_decref(r);
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"checkbox\",\"element_id\":"
	                "\"%s\",\"is_checked\":true}",
	                name_id(s, "terms"));
	ck_assert(json_is_false(json_object_get(r, "changed"))); /* no-op */
	json_decref(r);
	/* the label bound with for= toggles its checkbox */
	json_t *news_label = skyb_find(s, "label", "Send me news");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        str(news_label, "id")));
	ck_assert_int_eq(skyb_eval_int(ctx, "document.getElementById('news')."
	                                    "checked ? 1 : 0"),
	                 1);
	/* a value the field will not hold */
	json_decref(act_fails("value_mismatch",
	                      "{\"action_type\":\"input_text\","
	                      "\"element_id\":\"%s\",\"text\":\"123456789\"}",
	                      name_id(s, "postcode")));
	/* submit, and read what the server received */
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"click\",\"element_id\":"
	                "\"%s\"}",
	                skyb_id(s, "button", "Submit application"));
	ck_assert(json_is_true(json_object_get(r, "navigated")));
	ck_assert_ptr_nonnull(strstr(str(r, "url"), "/submit/form"));
	json_decref(r);
	char *body = skyb_site_submitted(site, "form");
	ck_assert_ptr_nonnull(body);
	static const char *const want[] = {"first_name=Ada",
	                                   "last_name=Lovelace",
	                                   "email=ada%40example.com",
	                                   "password=hunter22",
	                                   "years=12",
	                                   "start=2026-01-15",
	                                   "colour=%23ff8800",
	                                   "cover=Dear+team%2C%0D%0AI+apply.",
	                                   "country=gb",
	                                   "langs=Rust",
	                                   "auth=yes",
	                                   "source=friend",
	                                   "terms=agreed",
	                                   "newsletter=on",
	                                   "postcode=12345"};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		ck_assert_msg(strstr(body, want[i]), "%s not in %s", want[i],
		              body);
	(void)els;
	free(body);
	json_decref(s);
}
END_TEST

START_TEST(controlled_input_takes_real_typing)
{
	json_t *s = open_page("react.html");
	/* the fixture really ignores a plain .value= (as React does) */
	json_decref(skyb_eval(ctx, "(() => { const i = document.getElementById"
	                           "('city'); i.value = 'Nowhere'; i."
	                           "dispatchEvent(new Event('input', {bubbles:"
	                           " true})); i.dispatchEvent(new Event('blur'"
	                           ")); return 1; })()"));
	char *v = skyb_eval_str(ctx, "document.getElementById('city').value");
	ck_assert_str_eq(v, "");
	free(v);

	const char *id = skyb_id(s, "input", "City");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"Springfield\"}",
	                        id);
	ck_assert_str_eq(str(r, "value"), "Springfield");
	json_decref(r);
	v = skyb_eval_str(ctx, "document.getElementById('mirror').textContent");
	ck_assert_str_eq(v, "Springfield");
	free(v);
	/* retyping replaces the state too */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"Shelbyville\",\"press_enter\":true}",
	                        id));
	char *body = skyb_site_submitted(site, "react");
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body, "city=Shelbyville");
	free(body);
	json_decref(s);
}
END_TEST

START_TEST(covered_disabled_and_hidden_controls)
{
	json_t *s = open_page("modal.html");
	const char *buy = skyb_id(s, "button", "Buy now");
	/* covered: not clicked, and the failure names what covers it */
	json_t *r = act_fails("covered",
	                      "{\"action_type\":\"click\","
	                      "\"element_id\":\"%s\"}",
	                      buy);
	ck_assert_msg(strstr(str(r, "covered_by"), "Accept cookies"),
	              "covered_by: %s", str(r, "covered_by"));
	json_decref(r);
	ck_assert_int_eq(skyb_eval_int(ctx, "window.bought || 0"), 0);
	/* close the modal the way a person would, then click for real */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Accept cookies")));
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"click\",\"element_id\":"
	                "\"%s\"}",
	                buy);
	json_decref(r);
	ck_assert_int_eq(skyb_eval_int(ctx, "window.bought"), 1);

	/* an invisible checkbox under a styled box inside its label */
	json_t *gift = skyb_find(s, "input", "Gift wrap");
	ck_assert_ptr_nonnull(gift);
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"checkbox\",\"element_id\":"
	                "\"%s\",\"is_checked\":true}",
	                str(gift, "id"));
	json_decref(r);
	ck_assert_int_eq(skyb_eval_int(ctx, "document.getElementById('gift')."
	                                    "checked ? 1 : 0"),
	                 1);
	/* display:none checkbox: only its label is offered, and acts for it */
	json_t *express = skyb_find(s, "label", "Express delivery");
	ck_assert_ptr_nonnull(express);
	ck_assert(json_is_false(json_object_get(express, "checked")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"checkbox\","
	                        "\"element_id\":\"%s\",\"is_checked\":"
	                        "true}",
	                        str(express, "id")));
	ck_assert_int_eq(skyb_eval_int(ctx, "document.getElementById("
	                                    "'hiddenbox').checked ? 1 : 0"),
	                 1);
	json_decref(act_fails("disabled",
	                      "{\"action_type\":\"click\",\"element_id\":"
	                      "\"%s\"}",
	                      skyb_id(s, "button", "Sold out option")));
	json_decref(act_fails("element_not_found",
	                      "{\"action_type\":\"click\",\"element_id\":"
	                      "\"9999\"}"));
	json_decref(act_fails("invalid_action",
	                      "{\"action_type\":\"click\",\"element_id\":"
	                      "\"x y\"}"));
	json_decref(act_fails("invalid_action", "{\"element_id\":\"1\"}"));
	json_decref(act_fails("unsupported", "{\"action_type\":\"fly\"}"));
	json_decref(act_fails("not_interactable",
	                      "{\"action_type\":\"upload_file\","
	                      "\"element_id\":\"%s\",\"file_path\":"
	                      "\"/etc/hostname\"}",
	                      buy));
	char *res = NULL, *err = NULL;
	ck_assert_int_eq(skyb_provider()->act(ctx, "not json", &res, &err),
	                 SKY_EINVALID);
	free(err);
	/* ids of a page that is gone, even after a new snapshot: ids go on
	 * counting across the documents of a tab */
	json_t *s2 = open_page("basic.html");
	ck_assert_ptr_null(
	    skyb_find(s2, NULL, NULL) &&
	            str(skyb_find(s2, "a", "Second page"), "id") &&
	            !strcmp(str(skyb_find(s2, "a", "Second page"), "id"), buy)
	        ? "reused"
	        : NULL);
	json_decref(act_fails("element_not_found",
	                      "{\"action_type\":\"click\",\"element_id\":"
	                      "\"%s\"}",
	                      buy));
	json_decref(s2);
	json_decref(s);
}
END_TEST

START_TEST(wizard_across_three_pages)
{
	json_t *s = open_page("wizard1.html");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"Grace Hopper\"}",
	                        skyb_id(s, "input", "Full name")));
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Next"));
	ck_assert(json_is_true(json_object_get(r, "navigated")));
	json_decref(r);
	json_decref(s);
	json_decref(skyb_settle(ctx));
	s = skyb_snapshot(ctx);
	ck_assert_str_eq(str(s, "title"), "Wizard step 2");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"grace@navy.mil\"}",
	                        skyb_id(s, "input", "Email")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"select_option\","
	                        "\"element_id\":\"%s\",\"option\":"
	                        "{\"label\":\"professional\"}}",
	                        skyb_id(s, "select", "Plan")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"keypress\","
	                        "\"element_id\":\"%s\",\"keys\":"
	                        "[\"Enter\"]}",
	                        skyb_id(s, "input", "Email")));
	json_decref(s);
	json_decref(skyb_settle(ctx));
	s = skyb_snapshot(ctx);
	ck_assert_str_eq(str(s, "title"), "Wizard step 3");
	ck_assert_ptr_nonnull(
	    strstr(str(s, "text"), "Grace Hopper <grace@navy.mil> on pro"));
	json_decref(
	    skyb_act_ok(ctx,
	                "{\"action_type\":\"checkbox\","
	                "\"element_id\":\"%s\",\"is_checked\":"
	                "true}",
	                skyb_id(s, "input", "I confirm these details")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Finish")));
	char *body = skyb_site_submitted(site, "wizard");
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body, "name=Grace+Hopper&email=grace%40navy.mil&"
	                       "plan=pro&confirm=yes");
	free(body);
	/* history */
	json_t *b = skyb_act_ok(ctx, "{\"action_type\":\"go_back\"}");
	ck_assert_ptr_nonnull(strstr(str(b, "url"), "wizard3.html"));
	json_decref(b);
	b = skyb_act_ok(ctx, "{\"action_type\":\"go_forward\"}");
	ck_assert_ptr_nonnull(strstr(str(b, "url"), "/submit/wizard"));
	json_decref(b);
	json_decref(skyb_eval(ctx, "window.marker = 1"));
	json_decref(skyb_act_ok(ctx, "{\"action_type\":\"reload_page\"}"));
	char *marker = skyb_eval_str(ctx, "typeof window.marker");
	ck_assert_str_eq(marker, "undefined");
	free(marker);
	json_decref(s);
}
END_TEST

START_TEST(custom_dropdowns_by_clicking)
{
	json_t *s = open_page("dropdown.html");
	const char *size = skyb_id(s, "button", "Choose a size");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"select_option\","
	                        "\"element_id\":\"%s\",\"option\":"
	                        "{\"label\":\"Medium\"}}",
	                        size);
	ck_assert_str_eq(str(json_object_get(r, "selected"), "text"), "Medium");
	json_decref(r);
	char *v = skyb_eval_str(ctx, "document.getElementById('size-val')."
	                             "value + '/' + document.getElementById("
	                             "'size').textContent");
	ck_assert_str_eq(v, "m/Medium");
	free(v);
	/* no roles at all: the options are what appeared after the click */
	json_t *colour = skyb_find(s, "span", "Pick a colour");
	ck_assert_ptr_nonnull(colour);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"select_option\","
	                        "\"element_id\":\"%s\",\"option\":"
	                        "{\"label\":\"Blue\"}}",
	                        str(colour, "id")));
	v = skyb_eval_str(ctx, "document.getElementById('colour-val').value");
	ck_assert_str_eq(v, "blue");
	free(v);
	r = act_fails("option_not_found",
	              "{\"action_type\":\"select_option\",\"element_id\":"
	              "\"%s\",\"option\":{\"label\":\"Huge\"}}",
	              size);
	ck_assert_ptr_nonnull(strstr(str(r, "message"), "Large"));
	json_decref(r);
	json_decref(s);
}
END_TEST

static char *write_tmp(const char *name, const char *content)
{
	char *dir = skytest_tmpdir("upload");
	char *path = skyx_path_join(dir, name);
	ck_assert_int_eq(sky_write_file(path, content, strlen(content)), 0);
	free(dir);
	return path;
}

START_TEST(upload_through_input_and_styled_button)
{
	json_t *s = open_page("upload.html");
	char *cv = write_tmp("cv.txt", "Ada Lovelace, engineer\n");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"upload_file\","
	                        "\"element_id\":\"%s\",\"file_path\":"
	                        "\"%s\"}",
	                        skyb_id(s, "input", "CV file"), cv);
	json_decref(r);
	char *letter = write_tmp("letter.txt", "Dear team");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"upload_file\","
	                        "\"element_id\":\"%s\",\"file_path\":"
	                        "\"%s\"}",
	                        skyb_id(s, "button", "Attach a cover letter"),
	                        letter));
	/* the page read the files through its change handlers */
	char *info = NULL;
	for (int i = 0; i < 100; i++) { /* FileReader is async */
		free(info);
		info = skyb_eval_str(ctx, "new Promise(r => setTimeout(() => "
		                          "r(document.getElementById('info')."
		                          "textContent), 20))");
		if (strstr(info, "file2"))
			break;
	}
	ck_assert_ptr_nonnull(
	    strstr(info, "file1:cv.txt:23:Ada Lovelace, engineer"));
	ck_assert_ptr_nonnull(strstr(info, "file2:letter.txt:9:Dear team"));
	free(info);
	json_decref(act_fails("file_not_found",
	                      "{\"action_type\":\"upload_file\","
	                      "\"element_id\":\"%s\",\"file_path\":"
	                      "\"/nonexistent/x.pdf\"}",
	                      skyb_id(s, "input", "CV file")));
	free(cv);
	free(letter);
	json_decref(s);
}
END_TEST

START_TEST(downloads_land_in_the_context_dir)
{
	json_t *s = open_page("download.html");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\",\"download\":true}",
	                        skyb_id(s, "a", "Download the report"));
	json_t *d = json_object_get(r, "download");
	const char *csv = "id,total\n1,10.50\n2,99.99\n";
	char hex[SKYX_SHA256_HEX_LEN];
	ck_assert_str_eq(str(d, "filename"), "report.csv");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "size")),
	                 (json_int_t)strlen(csv));
	ck_assert_str_eq(str(d, "sha256"),
	                 skyx_sha256_hex(csv, strlen(csv), hex));
	size_t len = 0;
	char *onfile = skyx_read_file(str(d, "path"), &len);
	ck_assert_str_eq(onfile, csv);
	free(onfile);
	json_decref(r);

	/* a button whose script navigates to a download; 300 kB */
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"download_file\","
	                "\"element_id\":\"%s\"}",
	                skyb_id(s, "button", "Export data"));
	d = json_object_get(r, "download");
	size_t blen;
	unsigned char *big = skyb_big_file(&blen);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "size")),
	                 (json_int_t)blen);
	ck_assert_str_eq(str(d, "sha256"), skyx_sha256_hex(big, blen, hex));
	free(big);
	json_decref(r);
	/* page_state lists both, once */
	json_t *st = skyb_state(ctx);
	ck_assert_int_eq(json_array_size(json_object_get(st, "downloads")), 0);
	json_decref(st);

	json_decref(act_fails("timeout",
	                      "{\"action_type\":\"download_file\","
	                      "\"element_id\":\"%s\",\"timeout_ms\":1500}",
	                      skyb_id(s, "a", "Not a download")));
	json_decref(s);
}
END_TEST

START_TEST(dialogs_accepted_and_reported)
{
	json_t *s = open_page("dialogs.html");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Save")));
	char *out = skyb_eval_str(ctx, "document.getElementById('out')."
	                               "textContent");
	ck_assert_str_eq(out, "after alert");
	free(out);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Delete account")));
	out = skyb_eval_str(ctx, "document.getElementById('out').textContent");
	ck_assert_str_eq(out, "deleted");
	free(out);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Rename")));
	out = skyb_eval_str(ctx, "document.getElementById('out').textContent");
	ck_assert_str_eq(out, "name=Ada");
	free(out);
	json_t *st = skyb_state(ctx);
	json_t *dl = json_object_get(st, "dialogs");
	ck_assert_int_eq(json_array_size(dl), 3);
	ck_assert_str_eq(str(json_array_get(dl, 0), "type"), "alert");
	ck_assert_str_eq(str(json_array_get(dl, 0), "message"),
	                 "Your changes were saved");
	ck_assert_str_eq(str(json_array_get(dl, 1), "type"), "confirm");
	ck_assert_str_eq(str(json_array_get(dl, 1), "message"),
	                 "Delete the account?");
	json_decref(st);
	st = skyb_state(ctx); /* cleared once reported */
	ck_assert_int_eq(json_array_size(json_object_get(st, "dialogs")), 0);
	json_decref(st);
	json_decref(s);
}
END_TEST

START_TEST(scroll_keys_hover)
{
	json_t *s = open_page("misc.html");
	json_t *r = skyb_act_ok(ctx, "{\"action_type\":\"scroll\","
	                             "\"direction\":\"down\",\"amount\":700}");
	ck_assert_int_eq(skyb_eval_int(ctx, "Math.round(scrollY)"), 700);
	ck_assert_str_eq(str(r, "target"), "page");
	json_decref(r);
	json_decref(skyb_act_ok(ctx, "{\"action_type\":\"scroll\","
	                             "\"direction\":\"up\"}"));
	ck_assert_int_eq(skyb_eval_int(ctx, "Math.round(scrollY)"), 200);
	/* the nearest scrollable container of an element */
	json_t *item = skyb_find(s, NULL, NULL);
	(void)item;
	json_decref(skyb_eval(ctx, "scrollTo(0, 0), 1"));
	json_t *s2 = skyb_snapshot(ctx);
	json_t *keys = skyb_find(s2, "input", "Key log");
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"keypress\",\"element_id\":"
	                "\"%s\",\"keys\":[\"a\",\"Shift+B\",\"Tab\"]}",
	                str(keys, "id"));
	json_decref(r);
	char *log = skyb_eval_str(ctx, "document.getElementById('log')."
	                               "textContent");
	ck_assert_str_eq(log, "a/KeyA B/KeyB/shift Tab/Tab");
	free(log);
	char *val = skyb_eval_str(ctx, "document.getElementById('keys').value");
	ck_assert_str_eq(val, "aB");
	free(val);
	json_decref(act_fails("invalid_action",
	                      "{\"action_type\":\"keypress\",\"keys\":"
	                      "[\"Hyper+Q\"]}"));
	/* a contenteditable editor takes typing like a field */
	json_t *ed = skyb_find(s2, "div", "Notes");
	ck_assert_ptr_nonnull(ed);
	json_t *er = skyb_act_ok(ctx,
	                         "{\"action_type\":\"input_text\","
	                         "\"element_id\":\"%s\",\"text\":"
	                         "\"New note\"}",
	                         str(ed, "id"));
	ck_assert_str_eq(str(er, "value"), "New note");
	json_decref(er);
	char *note = skyb_eval_str(ctx, "document.getElementById('editor')."
	                                "innerText");
	ck_assert_str_eq(note, "New note");
	free(note);
	/* Enter in a one-field form submits it */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"shoes\","
	                        "\"press_enter\":true}",
	                        str(skyb_find(s2, "input", "Search"), "id")));
	char *body = skyb_site_submitted(site, "search");
	ck_assert_str_eq(body ? body : "", "q=shoes");
	free(body);
	json_decref(s2);
	json_decref(s);

	/* hover opens a CSS :hover menu */
	s = open_page("misc.html");
	ck_assert_ptr_null(skyb_find(s, "a", "Laptops"));
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"hover\",\"element_id\":"
	                "\"%s\"}",
	                skyb_id(s, "a", "Products"));
	ck_assert(json_is_true(json_object_get(r, "hovered")));
	json_decref(r);
	json_t *s3 = skyb_snapshot(ctx);
	ck_assert_ptr_nonnull(skyb_find(s3, "a", "Laptops"));
	json_decref(s3);
	json_decref(s);
}
END_TEST

START_TEST(scroll_inside_a_container)
{
	json_t *s = open_page("misc.html");
	/* "Item 8" is text in a scrollable div; scroll via the search box's
	 * neighbour: use an element inside the box */
	json_decref(skyb_eval(ctx, "(() => { const b = document.createElement("
	                           "'button'); b.textContent = 'In box'; "
	                           "document.getElementById('box').prepend(b);"
	                           " return 1; })()"));
	json_decref(s);
	s = skyb_snapshot(ctx);
	const char *id = skyb_id(s, "button", "In box");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"scroll\","
	                        "\"element_id\":\"%s\",\"direction\":"
	                        "\"down\",\"amount\":100}",
	                        id);
	ck_assert_str_eq(str(r, "target"), "container");
	ck_assert(json_is_true(json_object_get(r, "moved")));
	json_decref(r);
	ck_assert_int_eq(skyb_eval_int(ctx, "document.getElementById('box')."
	                                    "scrollTop"),
	                 100);
	ck_assert_int_eq(skyb_eval_int(ctx, "Math.round(scrollY)"), 0);
	/* past the end: nothing moves, and the result says so */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"scroll\","
	                        "\"element_id\":\"%s\",\"direction\":"
	                        "\"down\",\"amount\":5000}",
	                        id));
	r = skyb_act_ok(ctx,
	                "{\"action_type\":\"scroll\",\"element_id\":"
	                "\"%s\",\"direction\":\"down\"}",
	                id);
	ck_assert(json_is_false(json_object_get(r, "moved")));
	json_decref(r);
	json_decref(s);
}
END_TEST

START_TEST(tabs_open_switch_close)
{
	json_t *s = open_page("misc.html");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "a", "Open in a new tab"));
	json_decref(r);
	json_decref(skyb_settle(ctx));
	json_t *st = skyb_state(ctx);
	json_t *tabs = json_object_get(st, "tabs");
	ck_assert_int_eq(json_array_size(tabs), 2);
	ck_assert(
	    json_is_true(json_object_get(json_array_get(tabs, 1), "active")));
	ck_assert_ptr_nonnull(strstr(str(st, "url"), "second.html"));
	json_decref(st);
	char *t = skyb_eval_str(ctx, "document.title");
	ck_assert_str_eq(t, "Second page");
	free(t);
	json_decref(skyb_act_ok(ctx, "{\"action_type\":\"switch_tab\","
	                             "\"tab_index\":0}"));
	t = skyb_eval_str(ctx, "document.title");
	ck_assert_str_eq(t, "Misc");
	free(t);
	r = skyb_act_ok(ctx, "{\"action_type\":\"close_tab\",\"tab_index\":1}");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "tabs")), 1);
	json_decref(r);
	char *url = skyb_url(site, "basic.html");
	r = skyb_act_ok(ctx, "{\"action_type\":\"new_tab\",\"url\":\"%s\"}",
	                url);
	free(url);
	json_decref(r);
	t = skyb_eval_str(ctx, "document.title");
	ck_assert_str_eq(t, "Basic page");
	free(t);
	st = skyb_state(ctx);
	ck_assert_int_eq(json_array_size(json_object_get(st, "tabs")), 2);
	json_decref(st);
	json_decref(act_fails("invalid_action",
	                      "{\"action_type\":\"switch_tab\","
	                      "\"tab_index\":7}"));
	json_decref(act_fails("navigation_failed",
	                      "{\"action_type\":\"goto_url\",\"url\":"
	                      "\"http://127.0.0.1:1/\"}"));
	json_decref(s);
}
END_TEST

START_TEST(actions_inside_frames_and_shadow_dom)
{
	json_t *s = open_page("frames.html");
	json_t *els = json_object_get(s, "elements");
	size_t i;
	json_t *f;
	int done = 0;
	json_array_foreach (els, i, f) {
		if (!json_is_object(f) || strcmp(str(f, "tag"), "iframe"))
			continue;
		json_t *kids = json_object_get(f, "children");
		json_t *code = by_name(kids, "code");
		json_decref(skyb_act_ok(ctx,
		                        "{\"action_type\":\"input_text\","
		                        "\"element_id\":\"%s\",\"text\":"
		                        "\"SAVE%zu\"}",
		                        str(code, "id"), i));
		/* find the frame's button among its children */
		size_t k;
		json_t *c;
		json_array_foreach (kids, k, c) {
			if (json_is_object(c) && str(c, "tag") &&
			    !strcmp(str(c, "tag"), "button"))
				json_decref(
				    skyb_act_ok(ctx,
				                "{\"action_type\":\"click\","
				                "\"element_id\":\"%s\"}",
				                str(c, "id")));
		}
		done++;
	}
	ck_assert_int_eq(done, 2);
	/* read both frames back through a new snapshot */
	json_t *s2 = skyb_snapshot(ctx);
	char *all = json_dumps(s2, JSON_COMPACT);
	char want[32];
	int applied = 0;
	for (size_t n = 0; n < 10; n++) {
		snprintf(want, sizeof want, "applied SAVE%zu", n);
		if (strstr(all, want))
			applied++;
	}
	ck_assert_msg(applied == 2, "frames did not take the click: %s", all);
	free(all);
	/* the shadow DOM widget */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"4\"}",
	                        skyb_id(s2, "input", "Stars")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s2, "button", "Rate")));
	char *rated = skyb_eval_str(ctx, "document.getElementById('rated')."
	                                 "textContent");
	ck_assert_str_eq(rated, "rated 4");
	free(rated);
	json_decref(s2);
	json_decref(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_actions");
	SKYB_TEST(s, form_filled_and_submitted, setup, teardown, 120);
	SKYB_TEST(s, controlled_input_takes_real_typing, setup, teardown, 120);
	SKYB_TEST(s, covered_disabled_and_hidden_controls, setup, teardown,
	          120);
	SKYB_TEST(s, wizard_across_three_pages, setup, teardown, 120);
	SKYB_TEST(s, custom_dropdowns_by_clicking, setup, teardown, 120);
	SKYB_TEST(s, upload_through_input_and_styled_button, setup, teardown,
	          120);
	SKYB_TEST(s, downloads_land_in_the_context_dir, setup, teardown, 120);
	SKYB_TEST(s, dialogs_accepted_and_reported, setup, teardown, 120);
	SKYB_TEST(s, scroll_keys_hover, setup, teardown, 120);
	SKYB_TEST(s, scroll_inside_a_container, setup, teardown, 120);
	SKYB_TEST(s, tabs_open_switch_close, setup, teardown, 120);
	SKYB_TEST(s, actions_inside_frames_and_shadow_dom, setup, teardown,
	          120);
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
