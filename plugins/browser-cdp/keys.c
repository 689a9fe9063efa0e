/* browser-cdp: key names of the keypress action -> the key, code,
 * keyCode and text that Input.dispatchKeyEvent needs for a page to see a
 * real key (keydown/keypress/keyup with the right properties). */
#include "cdp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const cdp_key named[] = {
    {"Enter", "Enter", 13, "\r"},
    {"Tab", "Tab", 9, NULL},
    {"Escape", "Escape", 27, NULL},
    {"Backspace", "Backspace", 8, NULL},
    {"Delete", "Delete", 46, NULL},
    {"ArrowUp", "ArrowUp", 38, NULL},
    {"ArrowDown", "ArrowDown", 40, NULL},
    {"ArrowLeft", "ArrowLeft", 37, NULL},
    {"ArrowRight", "ArrowRight", 39, NULL},
    {"PageUp", "PageUp", 33, NULL},
    {"PageDown", "PageDown", 34, NULL},
    {"Home", "Home", 36, NULL},
    {"End", "End", 35, NULL},
    {" ", "Space", 32, " "},
    {"Shift", "ShiftLeft", 16, NULL},
    {"Control", "ControlLeft", 17, NULL},
    {"Alt", "AltLeft", 18, NULL},
    {"Meta", "MetaLeft", 91, NULL},
};

/* Aliases people (and models) write. */
static const struct {
	const char *alias, *name;
} aliases[] = {
    {"Return", "Enter"},   {"Esc", "Escape"},       {"Space", " "},
    {"Spacebar", " "},     {"Up", "ArrowUp"},       {"Down", "ArrowDown"},
    {"Left", "ArrowLeft"}, {"Right", "ArrowRight"}, {"Del", "Delete"},
    {"Ctrl", "Control"},   {"Cmd", "Meta"},         {"Command", "Meta"},
    {"Option", "Alt"},
};

static const struct {
	char c;
	const char *code;
	int keycode;
} punct[] = {
    {'-', "Minus", 189},        {'=', "Equal", 187},
    {',', "Comma", 188},        {'.', "Period", 190},
    {'/', "Slash", 191},        {';', "Semicolon", 186},
    {'\'', "Quote", 222},       {'[', "BracketLeft", 219},
    {']', "BracketRight", 221}, {'\\', "Backslash", 220},
    {'`', "Backquote", 192},
};

static const char *const letter_codes[26] = {
    "KeyA", "KeyB", "KeyC", "KeyD", "KeyE", "KeyF", "KeyG", "KeyH", "KeyI",
    "KeyJ", "KeyK", "KeyL", "KeyM", "KeyN", "KeyO", "KeyP", "KeyQ", "KeyR",
    "KeyS", "KeyT", "KeyU", "KeyV", "KeyW", "KeyX", "KeyY", "KeyZ"};
static const char *const digit_codes[10] = {
    "Digit0", "Digit1", "Digit2", "Digit3", "Digit4",
    "Digit5", "Digit6", "Digit7", "Digit8", "Digit9"};

static int modifier_bit(const char *name)
{
	if (!strcasecmp(name, "Alt"))
		return 1;
	if (!strcasecmp(name, "Control"))
		return 2;
	if (!strcasecmp(name, "Meta"))
		return 4;
	if (!strcasecmp(name, "Shift"))
		return 8;
	return 0;
}

static const char *canonical(const char *name)
{
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
		if (!strcasecmp(name, aliases[i].alias))
			return aliases[i].name;
	return name;
}

/* One UTF-8 code point? */
static int one_char(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80       ? 1
	           : c >> 5 == 6  ? 2
	           : c >> 4 == 14 ? 3
	           : c >> 3 == 30 ? 4
	                          : 0;
	return n && strlen(s) == n;
}

static int single(const char *name, cdp_key *k, int *mods, char textbuf[8])
{
	name = canonical(name);
	for (size_t i = 0; i < sizeof named / sizeof *named; i++)
		if (!strcasecmp(name, named[i].key)) {
			*k = named[i];
			return 0;
		}
	if (!one_char(name))
		return -1;
	snprintf(textbuf, 8, "%s", name);
	k->key = textbuf;
	k->text = textbuf;
	k->code = "";
	k->keycode = 0;
	unsigned char c = (unsigned char)name[0];
	if (isalpha(c)) {
		int u = toupper(c);
		k->code = letter_codes[u - 'A'];
		k->keycode = u;
		if (isupper(c))
			*mods |= 8;
	} else if (isdigit(c)) {
		k->code = digit_codes[c - '0'];
		k->keycode = c;
	} else {
		for (size_t i = 0; i < sizeof punct / sizeof *punct; i++)
			if (punct[i].c == (char)c) {
				k->code = punct[i].code;
				k->keycode = punct[i].keycode;
			}
	}
	return 0;
}

int cdp_key_parse(const char *spec, cdp_key *key, int *modifiers,
                  char textbuf[8])
{
	char part[32];
	const char *p = spec;
	*modifiers = 0;
	if (!spec || !*spec)
		return -1;
	/* "Shift+Tab": modifiers, then the key; a lone "+" is the key. */
	for (;;) {
		const char *plus = strchr(p, '+');
		if (!plus || plus == p || !plus[1])
			break;
		size_t n = (size_t)(plus - p);
		if (n >= sizeof part)
			return -1;
		memcpy(part, p, n);
		part[n] = '\0';
		int bit = modifier_bit(canonical(part));
		if (!bit)
			return -1;
		*modifiers |= bit;
		p = plus + 1;
	}
	if (single(p, key, modifiers, textbuf))
		return -1;
	/* With Control/Alt/Meta held, a character types nothing. */
	if (*modifiers & 7)
		key->text = NULL;
	return 0;
}
