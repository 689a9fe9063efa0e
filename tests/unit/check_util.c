/* Unit tests: util/ (errors, strings, time, ids, hashing, redaction). */
#include <pthread.h>
#include <stdio.h>
#include <skyengine.h>
#include <string.h>

#include "skytest.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/id.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

START_TEST(error_is_thread_local)
{
	sky_error_clear();
	ck_assert_ptr_null(sky_error_last());
	ck_assert_int_eq(sky_error_set(SKY_EINVALID, "bad %s", "thing"),
	                 SKY_EINVALID);
	ck_assert_str_eq(sky_error_last(), "bad thing");
	ck_assert_int_eq(sky_error_last_code(), SKY_EINVALID);
	sky_error_wrap(SKY_EIO, "outer");
	ck_assert_str_eq(sky_error_last(), "outer: bad thing");
	ck_assert_str_eq(sky_strerror(SKY_ENOTFOUND), "not found");
	ck_assert_str_eq(sky_strerror(12345), "unknown error");
	sky_error_clear();
	ck_assert_int_eq(sky_error_last_code(), SKY_OK);
}
END_TEST

START_TEST(buf_grows_and_formats)
{
	skyx_buf b = {0};
	for (int i = 0; i < 1000; i++)
		skyx_buf_printf(&b, "%d,", i);
	ck_assert(skyx_str_startswith(b.data, "0,1,2,"));
	ck_assert_uint_eq(b.len, strlen(b.data));
	char *s = skyx_buf_steal(&b);
	ck_assert_ptr_null(b.data);
	ck_assert(strstr(s, ",999,") != NULL);
	free(s);
}
END_TEST

START_TEST(iso_timestamps_round_trip)
{
	char iso[SKYX_ISO_LEN];
	int64_t ms;
	ck_assert_str_eq(skyx_time_iso(1743689309505LL, iso),
	                 "2025-04-03T14:08:29.505Z");
	ck_assert_int_eq(skyx_time_parse_iso("2025-04-03T14:08:29.505Z", &ms),
	                 0);
	ck_assert_int_eq(ms, 1743689309505LL);
	/* Skyvern's naive form (no Z, microseconds) is read as UTC. */
	ck_assert_int_eq(skyx_time_parse_iso("2025-04-03T14:08:29.505123", &ms),
	                 0);
	ck_assert_int_eq(ms, 1743689309505LL);
	ck_assert_int_eq(skyx_time_parse_iso("2025-04-03T16:08:29+02:00", &ms),
	                 0);
	ck_assert_int_eq(ms, 1743689309000LL);
	ck_assert_int_eq(skyx_time_parse_iso("2025-13-03T14:08:29Z", &ms), -1);
	ck_assert_int_eq(skyx_time_parse_iso("yesterday", &ms), -1);
}
END_TEST

#define ID_THREADS 4
#define ID_PER_THREAD 20000
static uint64_t ids[ID_THREADS * ID_PER_THREAD];

static void *id_worker(void *arg)
{
	uint64_t *out = arg;
	for (int i = 0; i < ID_PER_THREAD; i++)
		out[i] = sky_id_next();
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(ids_unique_under_concurrency)
{
	pthread_t t[ID_THREADS];
	for (int i = 0; i < ID_THREADS; i++)
		pthread_create(&t[i], NULL, id_worker, ids + i * ID_PER_THREAD);
	for (int i = 0; i < ID_THREADS; i++)
		pthread_join(t[i], NULL);
	qsort(ids, ID_THREADS * ID_PER_THREAD, sizeof ids[0], cmp_u64);
	for (int i = 1; i < ID_THREADS * ID_PER_THREAD; i++)
		ck_assert_msg(ids[i] != ids[i - 1], "duplicate id %llu",
		              (unsigned long long)ids[i]);
	ck_assert(ids[0] < (1ULL << 63));
	char buf[SKY_ID_MAX];
	sky_id_new(SKY_ID_TASK_V2, buf);
	ck_assert(skyx_str_startswith(buf, "tsk_v2_"));
	ck_assert_uint_gt(strlen(buf), strlen("tsk_v2_") + 10);
}
END_TEST

START_TEST(hash_known_vectors)
{
	char hex[SKYX_SHA256_HEX_LEN];
	ck_assert_str_eq(
	    skyx_sha256_hex("abc", 3, hex),
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2 */
	ck_assert_str_eq(
	    skyx_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28,
	                         hex),
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	char *b64 = skyx_base64_encode("hello world", 11);
	ck_assert_str_eq(b64, "aGVsbG8gd29ybGQ=");
	size_t n;
	unsigned char *raw = sky_base64_decode(b64, &n);
	ck_assert_uint_eq(n, 11);
	ck_assert(!memcmp(raw, "hello world", 11));
	free(raw);
	free(b64);
	raw = skyx_base32_decode("GEZDGNBVGY3TQOJQ", &n); /* "1234567890" */
	ck_assert_uint_eq(n, 10);
	ck_assert(!memcmp(raw, "1234567890", 10));
	free(raw);
	ck_assert_ptr_null(skyx_base32_decode("not base32!", &n));
	ck_assert(skyx_ct_equal("abc", 3, "abc", 3));
	ck_assert(!skyx_ct_equal("abc", 3, "abd", 3));
	ck_assert(!skyx_ct_equal("abc", 3, "abcd", 4));
}
END_TEST

START_TEST(utf8_validation)
{
	ck_assert(skyx_utf8_valid("plain", 5));
	ck_assert(skyx_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
	ck_assert(!skyx_utf8_valid("\xc3", 1));             /* truncated */
	ck_assert(!skyx_utf8_valid("\xc0\xaf", 2));         /* overlong */
	ck_assert(!skyx_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	ck_assert(!skyx_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	ck_assert(!skyx_utf8_valid("\xff", 1));
}
END_TEST

static char last_line[4096];
static void capture(sky_log_level l, const char *c, const char *m, void *ud)
{
	(void)l;
	(void)c;
	(void)ud;
	snprintf(last_line, sizeof last_line, "%s", m);
}

START_TEST(secrets_never_reach_the_log)
{
	sky_log_set(capture, SKY_LOG_DEBUG, NULL);
	sky_secret_register("hunter2-password");
	sky_log_info("test",
	             "login with hunter2-password then hunter2-password");
	ck_assert_ptr_null(strstr(last_line, "hunter2"));
	ck_assert_ptr_nonnull(strstr(last_line, "[REDACTED] then [REDACTED]"));
	sky_log_info("test", "Authorization: Bearer abcdefghijklmnop");
	ck_assert_ptr_null(strstr(last_line, "abcdefghijklmnop"));
	sky_log_info("test", "proxy http://bob:s3cretpass@127.0.0.1:3128/");
	ck_assert_ptr_null(strstr(last_line, "s3cretpass"));
	ck_assert_ptr_nonnull(strstr(last_line, "bob:"));
	sky_log_info("test",
	             "key sk-proj-ABCDEF0123456789 and task-application-form");
	ck_assert_ptr_null(strstr(last_line, "ABCDEF0123456789"));
	ck_assert_ptr_nonnull(strstr(last_line, "task-application-form"));
	/* Below the level: nothing is written. */
	last_line[0] = '\0';
	sky_log(SKY_LOG_TRACE, "test", "not shown");
	ck_assert_str_eq(last_line, "");
	sky_secret_unregister("hunter2-password");
	sky_log_info("test", "hunter2-password");
	ck_assert_str_eq(last_line, "hunter2-password");
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
}
END_TEST

START_TEST(global_init_is_refcounted)
{
	ck_assert_int_eq(sky_global_init(), 1);
	ck_assert_int_eq(sky_global_init(), 2);
	ck_assert_int_eq(sky_global_shutdown(), 1);
	ck_assert_int_eq(sky_global_shutdown(), 0);
	ck_assert_int_eq(sky_global_shutdown(), SKY_EINVALID);
	ck_assert_str_eq(sky_version(), SKY_VERSION_STRING);
	ck_assert_int_eq(sky_version_number(), SKY_VERSION_NUMBER);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, error_is_thread_local);
	tcase_add_test(tc, buf_grows_and_formats);
	tcase_add_test(tc, iso_timestamps_round_trip);
	tcase_add_test(tc, ids_unique_under_concurrency);
	tcase_add_test(tc, hash_known_vectors);
	tcase_add_test(tc, utf8_validation);
	tcase_add_test(tc, secrets_never_reach_the_log);
	tcase_add_test(tc, global_init_is_refcounted);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
