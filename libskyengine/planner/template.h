/* Internal to planner/: the tiny template engine behind the prompt files
 * (named inputs, {{#if}} sections, untrusted inputs fenced by a nonce). */
#ifndef SKY_PLANNER_TEMPLATE_H
#define SKY_PLANNER_TEMPLATE_H

#include <stddef.h>

/*
 * One named input. `value` NULL means "not given": an error for a required
 * input, an empty substitution and a false {{#if}} for an optional one.
 */
typedef struct sky_tmpl_input {
	const char *name;
	const char *value;
} sky_tmpl_input;

/*
 * Template syntax:
 *   {{! required: a, b
 *       optional: c
 *       untrusted: b, c }}   header, must open the file; stripped
 *   {{name}}                 the input's value
 *   {{#if name}} {{else}} {{/if}}, {{#unless name}} ... {{/unless}}
 *                            sections; an input is true when given and
 *                            non-empty
 *   {{! comment }}           stripped
 *   {{nonce}}                the fence nonce (see below)
 *   \{{                      a literal "{{"
 * A line that holds nothing but a section tag or a comment disappears
 * entirely, newline included, so templates can be laid out readably.
 *
 * Every name used must be declared; every input passed must be declared;
 * a required input must be given. Untrusted inputs are wrapped in
 *   <untrusted-data name="x" nonce="N">\n...\n</untrusted-data nonce="N">
 * where N is derived from the SHA-256 of all untrusted values, so a page
 * cannot know it in advance, and the same inputs always give the same
 * prompt (the replay plugin keys on it). Any "untrusted-data" inside a
 * value is rewritten to "untrusted_data" so that the only fence markers in
 * the prompt are ours.
 *
 * `label` names the template in error messages. Returns 0 and a malloc'd
 * *out, or SKY_EINVALID (template or input error, message set), SKY_ENOMEM.
 */
int sky_planner__tmpl_render(const char *label, const char *src,
                             const sky_tmpl_input *in, size_t n, char **out);

/* Same with the embedded file planner/prompts/<name>.txt. SKY_ENOTFOUND
 * when there is no such template. */
int sky_planner__tmpl_render_file(const char *name, const sky_tmpl_input *in,
                                  size_t n, char **out);

#define SKY_TMPL_FENCE_TAG "untrusted-data"

#endif
