/*
 * browser-cdp: the screencast of a context's tab for live views
 * (Page.startScreencast). Frames arrive as Page.screencastFrame events on
 * the reader thread; each is acknowledged at once (Chromium sends the
 * next only then) and handed, as JPEG bytes, to the host's callback.
 */
#include <stdlib.h>
#include <string.h>

#include "cdp.h"

/* Frames at most the default viewport: a live view, not a recording. */
#define CAST_MAX_W 1280
#define CAST_MAX_H 800
#define CAST_QUALITY 60

int cdp_cast(cdp_ctx *ctx, int on, sky_browser_frame_fn fn, void *ud)
{
	cdp_browser *b = ctx->b;
	char *old = NULL, *sess = NULL;
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	old = ctx->cast_session;
	ctx->cast_session = NULL;
	ctx->cast_fn = NULL;
	ctx->cast_ud = NULL;
	if (on && !ctx->closing) {
		cdp_tab *t =
		    ctx->active < ctx->n_tabs ? ctx->tabs[ctx->active] : NULL;
		if (t && !t->closed && t->session) {
			sess = cdp_strdup(t->session);
			ctx->cast_session = cdp_strdup(t->session);
			ctx->cast_fn = fn;
			ctx->cast_ud = ud;
		}
	}
	pthread_mutex_unlock(&b->lock);

	/* From here on the old callback is never called. */
	if (old && (!sess || strcmp(old, sess)))
		cdp_post(ctx->conn, old, "Page.stopScreencast", NULL);
	free(old);
	if (!on)
		return 0;
	if (!sess)
		return cdp_fail(SKY_EBROWSER, "the context has no open tab");
	rc = cdp_call(ctx->conn, sess, "Page.startScreencast",
	              json_pack("{s:s, s:i, s:i, s:i}", "format", "jpeg",
	                        "quality", CAST_QUALITY, "maxWidth", CAST_MAX_W,
	                        "maxHeight", CAST_MAX_H),
	              10000, NULL);
	/* Chromium sends a frame only when the page paints: a page that
	 * has stopped painting would show nothing until it changes. A
	 * one-pixel capture makes it paint now (not waited for). */
	if (!rc) {
		cdp_post(ctx->conn, sess, "Page.captureScreenshot",
		         json_pack("{s:s, s:i, s:{s:i, s:i, s:i, s:i, s:i}}",
		                   "format", "jpeg", "quality", 10, "clip", "x",
		                   0, "y", 0, "width", 1, "height", 1, "scale",
		                   1));
	} else {
		pthread_mutex_lock(&b->lock);
		if (ctx->cast_session && !strcmp(ctx->cast_session, sess)) {
			free(ctx->cast_session);
			ctx->cast_session = NULL;
			ctx->cast_fn = NULL;
			ctx->cast_ud = NULL;
		}
		pthread_mutex_unlock(&b->lock);
	}
	free(sess);
	return rc;
}

void cdp_cast_frame(cdp_conn *c, cdp_session *s, json_t *params)
{
	json_t *ack = json_object_get(params, "sessionId");
	if (json_is_integer(ack))
		cdp_post(c, s->id, "Page.screencastFrameAck",
		         json_pack("{s:O}", "sessionId", ack));
	cdp_ctx *ctx = s->tab ? s->tab->ctx : NULL;
	if (!ctx || !ctx->cast_fn || !ctx->cast_session ||
	    strcmp(ctx->cast_session, s->id))
		return;
	const char *data = cdp_jstr(params, "data");
	size_t len = 0;
	unsigned char *jpeg =
	    data ? skyx_base64_decode(data, strlen(data), &len) : NULL;
	if (!jpeg || !len) {
		free(jpeg);
		return;
	}
	json_t *md = json_object_get(params, "metadata");
	int w = (int)cdp_jnum(md, "deviceWidth", 0);
	int h = (int)cdp_jnum(md, "deviceHeight", 0);
	/* Under the browser lock: a stop that cleared cast_fn has not
	 * returned before this call ends. */
	ctx->cast_fn(ctx->cast_ud, jpeg, len, w, h, s->tab->url);
	free(jpeg);
}
