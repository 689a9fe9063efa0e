/* The thread-local last error and static texts for the codes. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SKY_ERR_MAX 1024

static _Thread_local char err_msg[SKY_ERR_MAX];
static _Thread_local int err_code;
static _Thread_local int err_set;

SKY_PRINTF(3, 0)
static int error_vset(int code, const char *prefix, const char *fmt, va_list ap)
{
	int n = vsnprintf(err_msg, sizeof err_msg, fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof err_msg)
		len = sizeof err_msg - 1;
	if (prefix && prefix[0] && len + 2 < sizeof err_msg) {
		size_t room = sizeof err_msg - len - 3;
		size_t pl = strlen(prefix);
		memcpy(err_msg + len, ": ", 2);
		memcpy(err_msg + len + 2, prefix, pl < room ? pl : room);
		err_msg[len + 2 + (pl < room ? pl : room)] = '\0';
	}
	err_code = code;
	err_set = 1;
	return code;
}

int sky_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int sky_error_wrap(int code, const char *fmt, ...)
{
	char old[SKY_ERR_MAX];
	va_list ap;
	snprintf(old, sizeof old, "%s", err_set ? err_msg : "");
	va_start(ap, fmt);
	error_vset(code, old, fmt, ap);
	va_end(ap);
	return code;
}

int sky_error_from_code(int code)
{
	return sky_error_set(code, "%s", sky_strerror(code));
}

const char *sky_error_last(void)
{
	return err_set ? err_msg : NULL;
}

int sky_error_last_code(void)
{
	return err_set ? err_code : SKY_OK;
}

void sky_error_clear(void)
{
	err_set = 0;
	err_code = 0;
	err_msg[0] = '\0';
}

const char *sky_strerror(int code)
{
	switch (code) {
	case SKY_OK:
		return "success";
	case SKY_ERROR:
		return "error";
	case SKY_ENOMEM:
		return "out of memory";
	case SKY_EINVALID:
		return "invalid argument";
	case SKY_ENOTFOUND:
		return "not found";
	case SKY_EEXISTS:
		return "already exists";
	case SKY_EIO:
		return "input/output error";
	case SKY_ETIMEDOUT:
		return "timed out";
	case SKY_ECANCELED:
		return "canceled";
	case SKY_EPLUGIN:
		return "plugin error";
	case SKY_EABI:
		return "plugin ABI mismatch";
	case SKY_EUNSUPPORTED:
		return "not supported";
	case SKY_EBUSY:
		return "busy";
	case SKY_EBROWSER:
		return "browser error";
	case SKY_ELLM:
		return "language model error";
	case SKY_EHTTP:
		return "HTTP error";
	case SKY_EAUTH:
		return "authentication failed";
	case SKY_ETOOBIG:
		return "too big";
	case SKY_EPARSE:
		return "parse error";
	case SKY_ECONNREFUSED:
		return "connection refused";
	case SKY_ERATELIMIT:
		return "rate limited";
	case SKY_ESHUTDOWN:
		return "shutting down";
	default:
		return "unknown error";
	}
}
