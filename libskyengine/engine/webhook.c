/*
 * Webhook delivery: when a run reaches a final status (or is canceled)
 * and has a webhook_url, its payload is signed and queued in the store's
 * outbox; one delivery thread sends due rows, retries with backoff on
 * timeouts, network errors, 403/408/425/429 and 5xx (honouring
 * Retry-After up to 30 s), and records the outcome on the run
 * (webhook_failure_reason). The outbox survives restarts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skyengine/version.h>

#include "engine/engine_internal.h"
#include "engine/response.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COMPONENT "webhook"

int sky_engine__webhook_enqueue(sky_engine *e, const sky_task_rec *t,
                                const char *signing_key)
{
	json_t *payload = sky_response_webhook_payload(&e->rctx, t);
	char *body = sky_json_dumps(payload);
	json_decref(payload);
	if (!body)
		return sky_error_from_code(SKY_ENOMEM);
	char sig[SKYX_SHA256_HEX_LEN] = "";
	if (signing_key && *signing_key)
		skyx_hmac_sha256_hex(signing_key, strlen(signing_key), body,
		                     strlen(body), sig);
	else
		sky_log_warn(COMPONENT,
		             "run %s: no API key to sign its webhook "
		             "with; sending it unsigned",
		             t->task_id);
	/* Once per run: the worker finishing a run and an API cancel can
	 * both announce the same final status. */
	int rc =
	    sky_store_webhook_enqueue_once(e->store, t->task_id, t->webhook_url,
	                                   body, sig[0] ? sig : NULL, NULL);
	free(body);
	if (rc == SKY_EEXISTS) {
		sky_log_debug(COMPONENT, "run %s: webhook already queued",
		              t->task_id);
		rc = 0;
	} else if (rc)
		sky_log_error(COMPONENT, "run %s: webhook not queued: %s",
		              t->task_id, sky_error_last());
	sky_engine__webhook_kick(e);
	return rc;
}

void sky_engine__webhook_kick(sky_engine *e)
{
	pthread_mutex_lock(&e->lock);
	pthread_cond_signal(&e->webhook_cond);
	pthread_mutex_unlock(&e->lock);
}

static int retryable(int status)
{
	return status == 403 || status == 408 || status == 425 ||
	       status == 429 || status >= 500;
}

static const char *header(const sky_http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

/* Retry-After in seconds (the HTTP-date form is rare for webhooks and
 * is treated as absent). */
static int64_t retry_after_ms(const sky_http_response *r)
{
	const char *v = header(r, "retry-after");
	if (!v)
		return -1;
	char *end;
	double s = strtod(v, &end);
	if (end == v || s < 0)
		return -1;
	if (s > 30)
		s = 30;
	return (int64_t)(s * 1000);
}

static void deliver(sky_engine *e, const sky_webhook_rec *w)
{
	char ts[32];
	snprintf(ts, sizeof ts, "%lld", (long long)(skyx_time_now_ms() / 1000));
	/* x-skyengine-webhook-id is the outbox row: the same on every
	 * attempt, so a receiver can drop the copy it gets when a crash
	 * interrupted a delivery after the body went out. */
	sky_http_header h[5] = {{"content-type", "application/json"},
	                        {"x-skyvern-timestamp", ts},
	                        {"user-agent", "skyengine/" SKY_VERSION_STRING},
	                        {"x-skyengine-webhook-id", w->webhook_id},
	                        {"x-skyvern-signature", w->signature}};
	sky_http_request req = {.version = SKY_HTTP_REQUEST_VERSION};
	req.method = "POST";
	req.url = w->url;
	req.headers = h;
	req.n_headers = w->signature ? 5 : 4;
	req.body = w->payload;
	req.body_len = strlen(w->payload);
	req.timeout_ms = e->webhook_timeout_ms;
	req.max_response_bytes = 1024 * 1024;
	sky_http_response *resp = NULL;
	char *err = NULL;
	int rc = sky_http_client_call(e->http, &req, &resp, &err);
	int attempt = w->attempts + 1;
	int status = rc ? 0 : resp->status;
	char *why = NULL;
	sky_webhook_outcome outcome;
	int64_t next = 0;

	if (!rc && status >= 200 && status < 300) {
		outcome = SKY_WEBHOOK_OUTCOME_DELIVERED;
	} else {
		why = rc ? skyx_asprintf("%s", err ? err : sky_strerror(rc))
		         : skyx_asprintf("HTTP %d", status);
		int again = (rc || retryable(status)) &&
		            attempt < e->webhook_max_attempts;
		outcome = again ? SKY_WEBHOOK_OUTCOME_RETRY
		                : SKY_WEBHOOK_OUTCOME_FAILED;
		if (again) {
			int64_t delay = resp ? retry_after_ms(resp) : -1;
			if (delay < 0)
				delay = (int64_t)e->webhook_backoff_ms
				        << (attempt - 1);
			delay += rand() % (e->webhook_backoff_ms + 1);
			next = skyx_time_now_ms() + delay;
		}
	}
	sky_store_webhook_record(e->store, w->webhook_id, e->node_id, outcome,
	                         next, why);
	if (outcome == SKY_WEBHOOK_OUTCOME_DELIVERED) {
		sky_store_task_set_webhook_failure_reason(e->store, w->task_id,
		                                          NULL);
		sky_log_info(COMPONENT,
		             "run %s: webhook delivered (attempt %d)",
		             w->task_id, attempt);
	} else if (outcome == SKY_WEBHOOK_OUTCOME_FAILED) {
		char *reason = skyx_asprintf(
		    "Webhook delivery to %s failed after "
		    "%d attempt%s: %s",
		    w->url, attempt, attempt == 1 ? "" : "s", why);
		sky_store_task_set_webhook_failure_reason(e->store, w->task_id,
		                                          reason);
		sky_log_warn(COMPONENT, "run %s: %s", w->task_id, reason);
		free(reason);
	} else {
		sky_log_info(COMPONENT,
		             "run %s: webhook attempt %d failed (%s); "
		             "retrying",
		             w->task_id, attempt, why);
	}
	free(why);
	free(err);
	sky_http_response_free(resp);
}

static void *webhook_main(void *arg)
{
	sky_engine *e = arg;
	for (;;) {
		pthread_mutex_lock(&e->lock);
		int stop = e->stopping;
		pthread_mutex_unlock(&e->lock);
		if (stop)
			break;
		sky_webhook_list *l = NULL;
		/* The lease covers every attempt of the batch, so another
		 * process takes a row only if this one died. */
		sky_lease lease = {e->node_id,
		                   e->lease_ms +
		                       8 * (int64_t)e->webhook_timeout_ms};
		if (sky_store_webhook_claim_due(
		        e->store, &lease, skyx_time_now_ms(), 8, &l) == 0) {
			for (size_t i = 0; i < l->count; i++)
				deliver(e, &l->items[i]);
		}
		size_t n = l ? l->count : 0;
		sky_webhook_list_free(l);
		if (n)
			continue;
		/* Sleep until kicked, or a short while for retries that
		 * become due. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&e->lock);
		if (!e->stopping)
			pthread_cond_timedwait(&e->webhook_cond, &e->lock, &ts);
		pthread_mutex_unlock(&e->lock);
	}
	return NULL;
}

/* Final runs whose webhook never reached the outbox: a crash came
 * between storing the status and queueing. Signed with the engine's key
 * (the submitting key is known only as a hash by now). */
static void queue_unqueued(sky_engine *e)
{
	sky_task_list *l = NULL;
	if (sky_store_webhook_unqueued(e->store, &l)) {
		sky_log_error(COMPONENT, "listing runs without a webhook: %s",
		              sky_error_last());
		return;
	}
	for (size_t i = 0; i < l->count; i++) {
		sky_log_warn(COMPONENT,
		             "run %s: webhook was never queued (the "
		             "engine stopped first); queueing it now",
		             l->items[i].task_id);
		sky_engine__webhook_enqueue(e, &l->items[i], e->webhook_key);
	}
	sky_task_list_free(l);
}

int sky_engine__webhook_start(sky_engine *e)
{
	/* Only the engine that executes runs: it holds the data dir's
	 * lock, so no run of its own can be between status and queue. */
	if (!e->no_execute)
		queue_unqueued(e);
	if (pthread_create(&e->webhook_thread, NULL, webhook_main, e))
		return sky_error_set(SKY_ERROR, "cannot start the webhook "
		                                "thread");
	e->webhook_running = 1;
	return 0;
}

void sky_engine__webhook_stop(sky_engine *e)
{
	if (!e->webhook_running)
		return;
	sky_engine__webhook_kick(e);
	pthread_join(e->webhook_thread, NULL);
	e->webhook_running = 0;
}
