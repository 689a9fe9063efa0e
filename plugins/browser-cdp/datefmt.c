/*
 * browser-cdp: dates and times as people write them -> the value format
 * of date and time inputs (datefmt.h). A page's date field shows
 * "03/15/2024" but takes "2024-03-15": a planner that copies what the
 * page shows must still get the date in.
 */
#include "datefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct ymd {
	int y, m, d;
} ymd;

typedef struct hms {
	int h, mi, s, has_s;
} hms;

static const char *const month_names[] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

static const char *const day_names[] = {"monday",   "tuesday", "wednesday",
                                        "thursday", "friday",  "saturday",
                                        "sunday"};

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* The word is the name, or its first three letters or more. */
static int name_of(const char *w, size_t n, const char *const *names, int count)
{
	if (n < 3)
		return 0;
	for (int i = 0; i < count; i++)
		if (n <= strlen(names[i]) && !strncasecmp(w, names[i], n))
			return i + 1;
	return 0;
}

/* A date part: numbers, a month name, separators; weekday names and
 * ordinal suffixes are skipped. */
typedef struct dtok {
	int num, digits, month;
	char sep; /* the separator before this token, ' ' for spaces */
} dtok;

static int tokenize(const char *s, size_t len, dtok *t, int max)
{
	int n = 0;
	char sep = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (isdigit(c)) {
			long v = 0;
			int digits = 0;
			while (i < len && isdigit((unsigned char)s[i])) {
				if (digits < 5)
					v = v * 10 + (s[i] - '0');
				digits++;
				i++;
			}
			/* 15th, 1st, 2nd, 3rd */
			if (i + 1 < len && isalpha((unsigned char)s[i]) &&
			    (!strncasecmp(s + i, "st", 2) ||
			     !strncasecmp(s + i, "nd", 2) ||
			     !strncasecmp(s + i, "rd", 2) ||
			     !strncasecmp(s + i, "th", 2)) &&
			    (i + 2 == len || !isalpha((unsigned char)s[i + 2])))
				i += 2;
			if (n == max || digits > 4)
				return -1;
			t[n++] = (dtok){(int)v, digits, 0, sep};
			sep = 0;
		} else if (isalpha(c)) {
			size_t st = i;
			while (i < len && isalpha((unsigned char)s[i]))
				i++;
			int m = name_of(s + st, i - st, month_names, 12);
			if (i < len && s[i] == '.')
				i++; /* "Mar." */
			if (m) {
				if (n == max)
					return -1;
				t[n++] = (dtok){0, 0, m, sep};
				sep = 0;
			} else if (!name_of(s + st, i - st, day_names, 7) &&
			           !(i - st == 2 &&
			             !strncasecmp(s + st, "of", 2))) {
				return -1;
			}
		} else if (c == ' ' || c == ',' || c == '/' || c == '-' ||
		           c == '.' || c == '\t') {
			if (!sep || sep == ' ' || sep == ',')
				sep = (char)(c == '\t' || c == ',' ? ' ' : c);
			i++;
		} else {
			return -1;
		}
	}
	return n;
}

static int year_of(const dtok *t)
{
	if (t->digits == 4)
		return t->num;
	if (t->digits == 2 || t->digits == 1)
		return t->num >= 70 ? 1900 + t->num : 2000 + t->num;
	return -1;
}

static int valid(const ymd *d)
{
	return d->y >= 1 && d->y <= 9999 && d->m >= 1 && d->m <= 12 &&
	       d->d >= 1 && d->d <= days_in(d->y, d->m);
}

/* need_day 0: a month ("March 2024", "03/2024", "2024-03") is enough. */
static int parse_date(const char *s, size_t len, ymd *out, int need_day)
{
	dtok t[3];
	int n = tokenize(s, len, t, 3);
	int named = -1, nums[3], k = 0;
	if (n < 2)
		return -1;
	for (int i = 0; i < n; i++) {
		if (t[i].month) {
			if (named >= 0)
				return -1;
			named = i;
		} else {
			nums[k++] = i;
		}
	}
	memset(out, 0, sizeof *out);
	out->d = 1;
	if (named >= 0) {
		out->m = t[named].month;
		if (k == 1 && !need_day) { /* March 2024 */
			out->y = year_of(&t[nums[0]]);
			return valid(out) ? 0 : -1;
		}
		if (k != 2)
			return -1;
		/* the year: four digits, else above 31, else the last */
		int yi = t[nums[0]].digits == 4 || t[nums[0]].num > 31
		             ? nums[0]
		             : nums[1];
		int di = yi == nums[0] ? nums[1] : nums[0];
		if (t[di].digits > 2)
			return -1;
		out->y = year_of(&t[yi]);
		out->d = t[di].num;
		return valid(out) ? 0 : -1;
	}
	if (k == 2 && !need_day) { /* 2024-03, 03/2024 */
		const dtok *a = &t[0], *b = &t[1];
		if (a->digits == 4 && b->digits <= 2) {
			out->y = a->num;
			out->m = b->num;
		} else if (b->digits == 4 && a->digits <= 2) {
			out->y = b->num;
			out->m = a->num;
		} else {
			return -1;
		}
		return valid(out) ? 0 : -1;
	}
	if (k != 3)
		return -1;
	const dtok *a = &t[0], *b = &t[1], *c = &t[2];
	if (a->digits == 4) { /* 2024-03-15, 2024/3/15 */
		if (b->digits > 2 || c->digits > 2)
			return -1;
		out->y = a->num;
		out->m = b->num;
		out->d = c->num;
		return valid(out) ? 0 : -1;
	}
	if (a->digits > 2 || b->digits > 2 ||
	    (c->digits != 2 && c->digits != 4))
		return -1;
	out->y = year_of(c);
	/* dotted dates are day first (15.03.2024); slashes and dashes
	 * month first (03/15/2024) unless the first number is above 12 */
	int day_first = b->sep == '.' || (a->num > 12 && b->num <= 12);
	out->d = day_first ? a->num : b->num;
	out->m = day_first ? b->num : a->num;
	return valid(out) ? 0 : -1;
}

static size_t skip_space(const char *s, size_t i, size_t len)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* H:MM[:SS[.fff]] [am|pm|a.m.|p.m.], or H am|pm. */
static int parse_time(const char *s, size_t len, hms *out)
{
	size_t i = skip_space(s, 0, len);
	int part[3] = {0, 0, 0}, np = 0;
	while (np < 3) {
		size_t st = i;
		int v = 0;
		while (i < len && isdigit((unsigned char)s[i]) && i - st < 3)
			v = v * 10 + (s[i++] - '0');
		size_t nd = i - st;
		if (nd == 0 || nd > 2 || (np > 0 && nd != 2))
			return -1;
		part[np++] = v;
		if (i < len && s[i] == ':' && np < 3)
			i++;
		else
			break;
	}
	if (np == 3 && i < len && s[i] == '.') { /* fractions dropped */
		i++;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	i = skip_space(s, i, len);
	int ampm = 0; /* 1 am, 2 pm */
	if (i < len &&
	    (s[i] == 'a' || s[i] == 'A' || s[i] == 'p' || s[i] == 'P')) {
		ampm = tolower((unsigned char)s[i]) == 'a' ? 1 : 2;
		i++;
		if (i < len && s[i] == '.')
			i++;
		if (i >= len || tolower((unsigned char)s[i]) != 'm')
			return -1;
		i++;
		if (i < len && s[i] == '.')
			i++;
	}
	if (skip_space(s, i, len) != len)
		return -1;
	if (np == 1 && !ampm)
		return -1; /* "14" alone is not a time */
	int h = part[0];
	if (ampm) {
		if (h < 1 || h > 12)
			return -1;
		h = ampm == 1 ? (h == 12 ? 0 : h) : (h == 12 ? 12 : h + 12);
	}
	if (h > 23 || part[1] > 59 || part[2] > 59)
		return -1;
	*out = (hms){h, part[1], part[2], np == 3};
	return 0;
}

/* Where the time starts in "date time": the digits before the first
 * ':', else before a trailing am/pm; len when there is no time. */
static size_t time_start(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t i;
	if (colon) {
		i = (size_t)(colon - s);
	} else {
		i = len;
		while (i > 0 &&
		       (isspace((unsigned char)s[i - 1]) || s[i - 1] == '.'))
			i--;
		if (i < 2 || tolower((unsigned char)s[i - 1]) != 'm')
			return len;
		i--;
		while (i > 0 &&
		       (s[i - 1] == '.' || isspace((unsigned char)s[i - 1])))
			i--;
		if (i == 0 || !strchr("aApP", s[i - 1]))
			return len;
		i--;
		while (i > 0 && isspace((unsigned char)s[i - 1]))
			i--;
	}
	while (i > 0 && isdigit((unsigned char)s[i - 1]))
		i--;
	return i;
}

/* Sakamoto: 0 Sunday .. 6 Saturday. */
static int weekday(int y, int m, int d)
{
	static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static int iso_weeks(int y)
{
	int jan1 = weekday(y, 1, 1);
	return jan1 == 4 || (jan1 == 3 && leap(y)) ? 53 : 52;
}

/* The ISO week of a date: *wy its year. */
static int iso_week(const ymd *d, int *wy)
{
	int doy = d->d;
	for (int m = 1; m < d->m; m++)
		doy += days_in(d->y, m);
	int wd = weekday(d->y, d->m, d->d);
	wd = wd == 0 ? 7 : wd;
	int w = (doy - wd + 10) / 7;
	*wy = d->y;
	if (w < 1) {
		*wy = d->y - 1;
		return iso_weeks(*wy);
	}
	if (w > iso_weeks(d->y)) {
		*wy = d->y + 1;
		return 1;
	}
	return w;
}

/* "2024-W11", "2024 W11", "W11 2024", or a date of that week. */
static int parse_week(const char *s, size_t len, int *y, int *w)
{
	const char *p = NULL;
	for (size_t i = 0; i < len; i++)
		if ((s[i] == 'W' || s[i] == 'w') && i + 1 < len &&
		    isdigit((unsigned char)s[i + 1]))
			p = s + i;
	if (p) {
		int wk = 0, yr = 0, nd = 0;
		const char *q = p + 1;
		while (q < s + len && isdigit((unsigned char)*q) && nd < 3)
			wk = wk * 10 + (*q++ - '0'), nd++;
		if (nd > 2)
			return -1;
		/* the year: four digits before or after */
		int found = 0;
		for (size_t i = 0; i + 4 <= len; i++) {
			if (s + i + 4 > p && s + i <= p)
				continue;
			if (isdigit((unsigned char)s[i]) &&
			    isdigit((unsigned char)s[i + 1]) &&
			    isdigit((unsigned char)s[i + 2]) &&
			    isdigit((unsigned char)s[i + 3]) &&
			    (i + 4 == len ||
			     !isdigit((unsigned char)s[i + 4])) &&
			    (i == 0 || !isdigit((unsigned char)s[i - 1]))) {
				yr = (s[i] - '0') * 1000 +
				     (s[i + 1] - '0') * 100 +
				     (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
				found++;
			}
		}
		if (found != 1 || yr < 1 || wk < 1 || wk > iso_weeks(yr))
			return -1;
		*y = yr;
		*w = wk;
		return 0;
	}
	ymd d;
	if (parse_date(s, len, &d, 1))
		return -1;
	*w = iso_week(&d, y);
	return 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && (isspace((unsigned char)(*s)[*len - 1]) ||
	                (*s)[*len - 1] == ',' || (*s)[*len - 1] == '@'))
		(*len)--;
}

int cdp_date_value(const char *type, const char *text, char *out, size_t n,
                   const char **format)
{
	ymd d;
	hms t;
	*format = NULL;
	if (!type || !text)
		return 0;
	const char *s = text;
	size_t len = strlen(text);
	trim(&s, &len);
	if (!strcasecmp(type, "date")) {
		*format = "yyyy-mm-dd (e.g. 2024-03-15)";
		if (parse_date(s, len, &d, 1))
			return -1;
		snprintf(out, n, "%04d-%02d-%02d", d.y, d.m, d.d);
		return 1;
	}
	if (!strcasecmp(type, "month")) {
		*format = "yyyy-mm (e.g. 2024-03)";
		if (parse_date(s, len, &d, 0))
			return -1;
		snprintf(out, n, "%04d-%02d", d.y, d.m);
		return 1;
	}
	if (!strcasecmp(type, "week")) {
		int y, w;
		*format = "yyyy-Www (e.g. 2024-W11)";
		if (parse_week(s, len, &y, &w))
			return -1;
		snprintf(out, n, "%04d-W%02d", y, w);
		return 1;
	}
	if (!strcasecmp(type, "time")) {
		*format = "hh:mm in 24 hours (e.g. 14:30)";
		if (parse_time(s, len, &t))
			return -1;
		if (t.has_s)
			snprintf(out, n, "%02d:%02d:%02d", t.h, t.mi, t.s);
		else
			snprintf(out, n, "%02d:%02d", t.h, t.mi);
		return 1;
	}
	if (!strcasecmp(type, "datetime-local")) {
		*format = "yyyy-mm-ddThh:mm (e.g. 2024-03-15T14:30)";
		size_t ts = time_start(s, len);
		if (ts == len || ts == 0)
			return -1;
		const char *ds = s;
		size_t dl = ts;
		/* "2024-03-15T14:30", "March 15, 2024 at 2:30 PM" */
		while (dl && (isspace((unsigned char)ds[dl - 1]) ||
		              ds[dl - 1] == ',' || ds[dl - 1] == '@'))
			dl--;
		if (dl >= 3 && !strncasecmp(ds + dl - 2, "at", 2) &&
		    isspace((unsigned char)ds[dl - 3]))
			dl -= 2;
		else if (dl >= 2 && (ds[dl - 1] == 'T' || ds[dl - 1] == 't') &&
		         isdigit((unsigned char)ds[dl - 2]))
			dl--;
		trim(&ds, &dl);
		if (parse_date(ds, dl, &d, 1) ||
		    parse_time(s + ts, len - ts, &t))
			return -1;
		if (t.has_s)
			snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d", d.y,
			         d.m, d.d, t.h, t.mi, t.s);
		else
			snprintf(out, n, "%04d-%02d-%02dT%02d:%02d", d.y, d.m,
			         d.d, t.h, t.mi);
		return 1;
	}
	return 0;
}
