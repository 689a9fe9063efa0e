/*
 * browser-cdp: the transport-neutral DevTools connection. Worker threads
 * make blocking calls that wait on their own condvar; the transport's
 * reader thread hands complete messages here, which demultiplexes replies
 * by id and passes events to the browser by session.
 */
#include "cdp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A call waiting for its reply; lives on the caller's stack. */
struct cdp_pending {
	int id;
	pthread_cond_t cond;
	int done;
	const char *session; /* borrowed from the caller */
	const char *failed;  /* why it ended without a reply, or NULL */
	char *buf;           /* the raw reply, parsed by the waiter */
	size_t len;
	struct cdp_pending *next;
};

cdp_conn *cdp_conn_new(const cdp_transport *tp, void *tp_state,
                       cdp_event_fn on_event, cdp_death_fn on_death, void *ud)
{
	cdp_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->refs = 1;
	c->next_id = 1;
	c->tp = tp;
	c->tp_state = tp_state;
	c->on_event = on_event;
	c->on_death = on_death;
	c->ud = ud;
	return c;
}

void cdp_conn_ref(cdp_conn *c)
{
	pthread_mutex_lock(&c->lock);
	c->refs++;
	pthread_mutex_unlock(&c->lock);
}

void cdp_conn_unref(cdp_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	int last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (!last)
		return;
	c->tp->shutdown(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int cdp_conn_dead(cdp_conn *c)
{
	pthread_mutex_lock(&c->lock);
	int d = c->dead;
	pthread_mutex_unlock(&c->lock);
	return d;
}

void cdp_conn_fail_session(cdp_conn *c, const char *session, const char *why)
{
	pthread_mutex_lock(&c->lock);
	struct cdp_pending **pp = &c->pending;
	while (*pp) {
		struct cdp_pending *p = *pp;
		if (p->session && session && !strcmp(p->session, session)) {
			*pp = p->next;
			p->failed = why;
			p->done = 1;
			pthread_cond_signal(&p->cond);
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void cdp__on_close(cdp_conn *c, const char *reason)
{
	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->dead = 1;
	snprintf(c->dead_reason, sizeof c->dead_reason, "%s", reason);
	for (struct cdp_pending *p = c->pending; p; p = p->next) {
		p->done = 1;
		pthread_cond_signal(&p->cond);
	}
	c->pending = NULL;
	int ours = c->closing;
	pthread_mutex_unlock(&c->lock);
	/* Our own shutdown is not news. */
	cdp_log(ours ? SKY_HOST_LOG_DEBUG : SKY_HOST_LOG_WARN,
	        "browser connection %s: %s", ours ? "closed" : "lost", reason);
	if (c->on_death)
		c->on_death(c->ud, c, reason);
}

/* Replies start with {"id":N (Chromium writes the id first); anything
 * else is parsed in full. Big replies are handed over unparsed so that
 * the reader never spends time in a multi-megabyte parse. */
static int reply_id(const char *buf, size_t len)
{
	if (len > 7 && !memcmp(buf, "{\"id\":", 6))
		return (int)strtol(buf + 6, NULL, 10);
	return 0;
}

void cdp__on_message(cdp_conn *c, char *buf, size_t len)
{
	int id = reply_id(buf, len);
	if (cdp_trace)
		cdp_log(SKY_HOST_LOG_TRACE, "<- %.*s",
		        len > 300 ? 300 : (int)len, buf);
	if (id > 0) {
		pthread_mutex_lock(&c->lock);
		struct cdp_pending **pp = &c->pending;
		while (*pp && (*pp)->id != id)
			pp = &(*pp)->next;
		struct cdp_pending *p = *pp;
		if (p) {
			*pp = p->next;
			p->buf = buf;
			p->len = len;
			p->done = 1;
			pthread_cond_signal(&p->cond);
			buf = NULL;
		}
		pthread_mutex_unlock(&c->lock);
		if (buf && memmem(buf, len, "\"error\"", 7))
			cdp_log(SKY_HOST_LOG_DEBUG,
			        "posted command failed: %.300s", buf);
		free(buf);
		return;
	}
	json_error_t jerr;
	json_t *msg = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!msg) {
		cdp_log(SKY_HOST_LOG_WARN, "unparsable CDP message: %s",
		        jerr.text);
		return;
	}
	const char *method = cdp_jstr(msg, "method");
	if (method && c->on_event)
		c->on_event(c->ud, c, method, json_object_get(msg, "params"),
		            cdp_jstr(msg, "sessionId"));
	json_decref(msg);
}

static char *frame(int id, const char *session, const char *method,
                   json_t *params, size_t *len)
{
	cdp_buf b = {0};
	char *ps = params ? cdp_json_dumps(params) : NULL;
	cdp_buf_printf(&b, "{\"id\":%d,\"method\":\"%s\"", id, method);
	if (session)
		cdp_buf_printf(&b, ",\"sessionId\":\"%s\"", session);
	cdp_buf_puts(&b, ",\"params\":");
	cdp_buf_puts(&b, ps ? ps : "{}");
	cdp_buf_puts(&b, "}");
	free(ps);
	*len = b.len;
	return b.data;
}

int cdp_post(cdp_conn *c, const char *session, const char *method,
             json_t *params)
{
	pthread_mutex_lock(&c->lock);
	int dead = c->dead;
	int id = c->next_id++;
	pthread_mutex_unlock(&c->lock);
	if (dead) {
		json_decref(params);
		return cdp_fail(SKY_EBROWSER, "the browser is gone (%s)",
		                c->dead_reason);
	}
	size_t len;
	char *msg = frame(id, session, method, params, &len);
	json_decref(params);
	if (cdp_trace)
		cdp_log(SKY_HOST_LOG_TRACE, "=> %.*s",
		        len > 300 ? 300 : (int)len, msg);
	int rc = c->tp->send(c, msg, len);
	free(msg);
	return rc;
}

static int parse_reply(const char *method, const char *buf, size_t len,
                       json_t **result)
{
	json_error_t jerr;
	json_t *msg = json_loadb(buf, len, 0, &jerr);
	if (!msg)
		return cdp_fail(SKY_EBROWSER, "%s: unparsable reply: %s",
		                method, jerr.text);
	json_t *err = json_object_get(msg, "error");
	if (err) {
		const char *m = cdp_jstr(err, "message");
		const char *d = cdp_jstr(err, "data");
		int rc = cdp_fail(SKY_ERROR, "%s: %s%s%s", method,
		                  m ? m : "error", d ? ": " : "", d ? d : "");
		json_decref(msg);
		return rc;
	}
	if (result) {
		*result = json_object_get(msg, "result");
		if (*result)
			json_incref(*result);
		else
			*result = json_object();
	}
	json_decref(msg);
	return 0;
}

int cdp_call(cdp_conn *c, const char *session, const char *method,
             json_t *params, int timeout_ms, json_t **result)
{
	struct cdp_pending p = {0};
	pthread_condattr_t ca;
	struct timespec dl;
	int rc;

	if (result)
		*result = NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.cond, &ca);
	pthread_condattr_destroy(&ca);

	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		pthread_mutex_unlock(&c->lock);
		json_decref(params);
		pthread_cond_destroy(&p.cond);
		return cdp_fail(SKY_EBROWSER, "the browser is gone (%s)",
		                c->dead_reason);
	}
	p.id = c->next_id++;
	p.session = session;
	p.next = c->pending;
	c->pending = &p;
	pthread_mutex_unlock(&c->lock);

	size_t len;
	char *msg = frame(p.id, session, method, params, &len);
	json_decref(params);
	if (cdp_trace)
		cdp_log(SKY_HOST_LOG_TRACE, "-> %.*s",
		        len > 300 ? 300 : (int)len, msg);
	rc = c->tp->send(c, msg, len);
	free(msg);

	pthread_mutex_lock(&c->lock);
	if (rc == 0) {
		cdp_deadline(&dl, timeout_ms > 0 ? timeout_ms : 30000);
		while (!p.done) {
			int w = pthread_cond_timedwait(&p.cond, &c->lock, &dl);
			if (w == ETIMEDOUT)
				break;
		}
	}
	if (!p.done) {
		/* timed out or the send failed: unlink ourselves */
		struct cdp_pending **pp = &c->pending;
		while (*pp && *pp != &p)
			pp = &(*pp)->next;
		if (*pp)
			*pp = p.next;
	}
	int dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&p.cond);

	if (rc)
		return rc;
	if (!p.done)
		return cdp_fail(SKY_ETIMEDOUT, "%s: no reply within %d ms",
		                method, timeout_ms > 0 ? timeout_ms : 30000);
	if (!p.buf && p.failed)
		return cdp_fail(SKY_EBROWSER, "%s: %s", method, p.failed);
	if (!p.buf)
		return cdp_fail(SKY_EBROWSER, "%s: the browser is gone (%s)",
		                method, dead ? c->dead_reason : "closed");
	rc = parse_reply(method, p.buf, p.len, result);
	free(p.buf);
	return rc;
}
