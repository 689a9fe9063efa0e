/* The prompt template engine: a header that declares the inputs, {{name}}
 * substitution, {{#if}}/{{#unless}} sections and nonce-fenced untrusted
 * inputs. Strict on purpose: a typo in a prompt is an error, not a hole. */
#include "planner/template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/hash.h"
#include "util/resource.h"
#include <skyx/str.h>

#define TMPL_MAX_NAMES 64
#define TMPL_MAX_DEPTH 16
#define TMPL_NAME_MAX 48
#define NONCE_HEX 16

enum { DECL_REQUIRED = 1, DECL_OPTIONAL = 2, DECL_UNTRUSTED = 4 };

struct decl {
	char name[TMPL_NAME_MAX];
	unsigned int flags;
	const char *value; /* bound input, NULL when not given */
	int given;
};

struct tmpl {
	const char *label;
	struct decl d[TMPL_MAX_NAMES];
	size_t nd;
	char nonce[NONCE_HEX + 1];
};

static struct decl *decl_find(struct tmpl *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->nd; i++) {
		if (strlen(t->d[i].name) == len &&
		    !strncmp(t->d[i].name, name, len))
			return &t->d[i];
	}
	return NULL;
}

static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Parse "key: a, b, c" lines of the header comment. */
static int header_parse(struct tmpl *t, const char *s, size_t len)
{
	const char *end = s + len;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		if (!eol)
			eol = end;
		const char *p = s;
		while (p < eol && isspace((unsigned char)*p))
			p++;
		unsigned int flag = 0;
		if (!strncmp(p, "required:", 9))
			flag = DECL_REQUIRED, p += 9;
		else if (!strncmp(p, "optional:", 9))
			flag = DECL_OPTIONAL, p += 9;
		else if (!strncmp(p, "untrusted:", 10))
			flag = DECL_UNTRUSTED, p += 10;
		while (flag && p < eol) {
			while (p < eol &&
			       (isspace((unsigned char)*p) || *p == ','))
				p++;
			const char *n0 = p;
			while (p < eol && is_name_char((unsigned char)*p))
				p++;
			size_t nl = (size_t)(p - n0);
			if (!nl)
				break;
			if (nl >= TMPL_NAME_MAX)
				return sky_error_set(SKY_EINVALID,
				                     "template %s: input name "
				                     "too long",
				                     t->label);
			struct decl *d = decl_find(t, n0, nl);
			if (flag == DECL_UNTRUSTED) {
				if (!d)
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: untrusted input "
					    "'%.*s' is not declared "
					    "required or optional",
					    t->label, (int)nl, n0);
				d->flags |= DECL_UNTRUSTED;
				continue;
			}
			if (d)
				return sky_error_set(
				    SKY_EINVALID,
				    "template %s: input '%.*s' "
				    "declared twice",
				    t->label, (int)nl, n0);
			if (t->nd == TMPL_MAX_NAMES)
				return sky_error_set(
				    SKY_EINVALID,
				    "template %s: too many inputs", t->label);
			d = &t->d[t->nd++];
			memcpy(d->name, n0, nl);
			d->name[nl] = '\0';
			d->flags = flag;
		}
		s = eol + 1;
	}
	return 0;
}

static int bind_inputs(struct tmpl *t, const sky_tmpl_input *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!in[i].name)
			return sky_error_set(
			    SKY_EINVALID, "template %s: input without a name",
			    t->label);
		struct decl *d = decl_find(t, in[i].name, strlen(in[i].name));
		if (!d)
			return sky_error_set(SKY_EINVALID,
			                     "template %s: input '%s' is not "
			                     "declared by the template",
			                     t->label, in[i].name);
		if (d->given)
			return sky_error_set(
			    SKY_EINVALID, "template %s: input '%s' given twice",
			    t->label, in[i].name);
		d->given = 1;
		d->value = in[i].value;
	}
	for (size_t i = 0; i < t->nd; i++) {
		if ((t->d[i].flags & DECL_REQUIRED) && !t->d[i].value)
			return sky_error_set(SKY_EINVALID,
			                     "template %s: required input '%s' "
			                     "is missing",
			                     t->label, t->d[i].name);
	}
	return 0;
}

/* The nonce is a digest of every untrusted value: deterministic for the
 * same inputs, unguessable for the page that supplies part of them. */
static void make_nonce(struct tmpl *t)
{
	skyx_buf b = {0};
	for (size_t i = 0; i < t->nd; i++) {
		if (!(t->d[i].flags & DECL_UNTRUSTED) || !t->d[i].value)
			continue;
		skyx_buf_puts(&b, t->d[i].name);
		skyx_buf_append(&b, "", 1);
		skyx_buf_puts(&b, t->d[i].value);
		skyx_buf_append(&b, "", 1);
	}
	char hex[SKYX_SHA256_HEX_LEN];
	skyx_sha256_hex(b.data ? b.data : "", b.len, hex);
	memcpy(t->nonce, hex, NONCE_HEX);
	t->nonce[NONCE_HEX] = '\0';
	skyx_buf_free(&b);
}

/* Copy an untrusted value, defusing anything that looks like our fence. */
static void put_defused(skyx_buf *out, const char *v)
{
	const size_t tl = strlen(SKY_TMPL_FENCE_TAG);
	const char *p = v;
	while (*p) {
		if (!strncasecmp(p, SKY_TMPL_FENCE_TAG, tl)) {
			skyx_buf_append(out, p, 9); /* "untrusted" */
			skyx_buf_putc(out, '_');
			skyx_buf_append(out, p + 10, tl - 10);
			p += tl;
			continue;
		}
		skyx_buf_putc(out, *p++);
	}
}

static void put_value(struct tmpl *t, skyx_buf *out, const struct decl *d)
{
	if (!d->value)
		return;
	if (!(d->flags & DECL_UNTRUSTED)) {
		skyx_buf_puts(out, d->value);
		return;
	}
	skyx_buf_printf(out, "<%s name=\"%s\" nonce=\"%s\">\n",
	                SKY_TMPL_FENCE_TAG, d->name, t->nonce);
	put_defused(out, d->value);
	if (out->len && out->data[out->len - 1] != '\n')
		skyx_buf_putc(out, '\n');
	skyx_buf_printf(out, "</%s nonce=\"%s\">", SKY_TMPL_FENCE_TAG,
	                t->nonce);
}

/* If the tag starting at `tag` is alone on its line (only blanks around
 * it), return where the next line starts; else NULL. */
static const char *standalone_end(const char *line_start, const char *tag,
                                  const char *tag_end)
{
	for (const char *p = line_start; p < tag; p++) {
		if (*p != ' ' && *p != '\t')
			return NULL;
	}
	const char *p = tag_end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\n')
		return p + 1;
	if (*p == '\0')
		return p;
	return NULL;
}

struct frame {
	int active; /* output is emitted in this section */
	int parent; /* the enclosing section was active */
	int is_unless;
	int seen_else;
};

static int body_render(struct tmpl *t, const char *s, skyx_buf *out)
{
	struct frame st[TMPL_MAX_DEPTH];
	int depth = 0;
	int active = 1;
	const char *line_start = s;
	const char *p = s;
	while (*p) {
		if (*p == '\\' && p[1] == '{' && p[2] == '{') {
			if (active)
				skyx_buf_append(out, "{{", 2);
			p += 3;
			continue;
		}
		if (!(p[0] == '{' && p[1] == '{')) {
			if (active)
				skyx_buf_putc(out, *p);
			if (*p == '\n')
				line_start = p + 1;
			p++;
			continue;
		}
		const char *close = strstr(p + 2, "}}");
		if (!close)
			return sky_error_set(SKY_EINVALID,
			                     "template %s: unterminated tag",
			                     t->label);
		const char *a = p + 2, *b = close;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		const char *next = close + 2;
		int section = 0;
		if (*a == '!') {
			section = 1;
		} else if (*a == '#' || *a == '/' ||
		           (b - a == 4 && !strncmp(a, "else", 4))) {
			section = 1;
			const char *kw = *a == '#' || *a == '/' ? a + 1 : a;
			const char *kwe = kw;
			while (kwe < b && isalpha((unsigned char)*kwe))
				kwe++;
			const char *nm = kwe;
			while (nm < b && isspace((unsigned char)*nm))
				nm++;
			size_t kwl = (size_t)(kwe - kw);
			size_t nml = (size_t)(b - nm);
			if (*a == '#') {
				int unless =
				    kwl == 6 && !strncmp(kw, "unless", 6);
				if (!unless &&
				    !(kwl == 2 && !strncmp(kw, "if", 2)))
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: unknown section "
					    "'%.*s'",
					    t->label, (int)kwl, kw);
				struct decl *d = decl_find(t, nm, nml);
				if (!d)
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: section on "
					    "undeclared input '%.*s'",
					    t->label, (int)nml, nm);
				if (depth == TMPL_MAX_DEPTH)
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: sections nested "
					    "too deep",
					    t->label);
				int truth = d->value && *d->value;
				if (unless)
					truth = !truth;
				st[depth].parent = active;
				st[depth].is_unless = unless;
				st[depth].seen_else = 0;
				st[depth].active = active && truth;
				active = st[depth].active;
				depth++;
			} else if (*a == '/') {
				if (!depth)
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: '{{/%.*s}}' "
					    "without an open section",
					    t->label, (int)kwl, kw);
				depth--;
				int unless =
				    kwl == 6 && !strncmp(kw, "unless", 6);
				if (unless != st[depth].is_unless)
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: mismatched "
					    "'{{/%.*s}}'",
					    t->label, (int)kwl, kw);
				active = st[depth].parent;
			} else {
				if (!depth || st[depth - 1].seen_else)
					return sky_error_set(
					    SKY_EINVALID,
					    "template %s: misplaced "
					    "{{else}}",
					    t->label);
				struct frame *f = &st[depth - 1];
				f->seen_else = 1;
				f->active = f->parent && !f->active;
				active = f->active;
			}
		} else {
			struct decl *d = decl_find(t, a, (size_t)(b - a));
			int is_nonce = b - a == 5 && !strncmp(a, "nonce", 5);
			if (!d && !is_nonce)
				return sky_error_set(SKY_EINVALID,
				                     "template %s: undeclared "
				                     "input '%.*s'",
				                     t->label, (int)(b - a), a);
			if (active && is_nonce)
				skyx_buf_puts(out, t->nonce);
			else if (active)
				put_value(t, out, d);
		}
		if (section) {
			const char *se = standalone_end(line_start, p, next);
			if (se) {
				/* Drop the blanks already emitted before the
				 * tag on this line. */
				while (out->len &&
				       (out->data[out->len - 1] == ' ' ||
				        out->data[out->len - 1] == '\t'))
					out->len--;
				if (out->data)
					out->data[out->len] = '\0';
				next = se;
				line_start = se;
			}
		}
		p = next;
	}
	if (depth)
		return sky_error_set(SKY_EINVALID,
		                     "template %s: unclosed section", t->label);
	return 0;
}

int sky_planner__tmpl_render(const char *label, const char *src,
                             const sky_tmpl_input *in, size_t n, char **out)
{
	*out = NULL;
	struct tmpl *t = calloc(1, sizeof *t);
	skyx_buf b = {0};
	int rc;
	if (!t)
		return sky_error_from_code(SKY_ENOMEM);
	t->label = label ? label : "(inline)";
	if (!src || strncmp(src, "{{!", 3)) {
		rc = sky_error_set(SKY_EINVALID,
		                   "template %s: must start with a {{! ... }} "
		                   "header listing its inputs",
		                   t->label);
		goto cleanup;
	}
	const char *hend = strstr(src, "}}");
	if (!hend) {
		rc = sky_error_set(
		    SKY_EINVALID, "template %s: unterminated header", t->label);
		goto cleanup;
	}
	rc = header_parse(t, src + 3, (size_t)(hend - src - 3));
	if (rc)
		goto cleanup;
	rc = bind_inputs(t, in, n);
	if (rc)
		goto cleanup;
	make_nonce(t);
	const char *body = hend + 2;
	if (*body == '\n')
		body++;
	rc = body_render(t, body, &b);
	if (rc)
		goto cleanup;
	if (b.oom) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	*out = b.data ? skyx_buf_steal(&b) : skyx_strdup("");
	rc = *out ? 0 : sky_error_from_code(SKY_ENOMEM);
cleanup:
	skyx_buf_free(&b);
	free(t);
	return rc;
}

int sky_planner__tmpl_render_file(const char *name, const sky_tmpl_input *in,
                                  size_t n, char **out)
{
	char path[128];
	*out = NULL;
	if (snprintf(path, sizeof path, "planner/prompts/%s.txt", name) >=
	    (int)sizeof path)
		return sky_error_set(SKY_EINVALID, "template name too long");
	const char *src = sky_resource_get(path, NULL);
	if (!src)
		return sky_error_set(SKY_ENOTFOUND, "no prompt template %s",
		                     path);
	return sky_planner__tmpl_render(name, src, in, n, out);
}
