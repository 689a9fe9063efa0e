/*
 * Internal: URLs. One normalizer (WHATWG-style) serves Skyvern's
 * validate_url with the private-address policy (task, session and
 * webhook URLs) and the HTTP client's split of an http(s) URL; plus
 * deciding whether a host goes through a proxy.
 */
#ifndef SKY_NET_URL_H
#define SKY_NET_URL_H

#define SKY_URL_MAX 2083

/* URL policy (design.md §6: loopback and private hosts are allowed unless
 * the host asks otherwise). */
#define SKY_URL_BLOCK_METADATA 0x1u /* link-local, cloud metadata hosts */
#define SKY_URL_BLOCK_PRIVATE 0x2u  /* also loopback, private, .internal */

/*
 * Skyvern's validate_url: prepends "https://" when there is no scheme,
 * accepts http and https only, at most 2083 characters, and normalizes
 * (lower-case scheme and host, IDN to punycode, IPv4 forms to dotted
 * quads, default port dropped, dot segments resolved, unsafe characters
 * percent-encoded, "/" for an empty path). Then applies `flags`.
 * 0 with *out (malloc'd); else SKY_EINVALID with *detail (malloc'd) the
 * 400 message: "Invalid URL: …" or "The host in your url is blocked: …".
 */
int sky_url_validate(const char *url, unsigned flags, char **out,
                     char **detail);

/* The same for a URL whose scheme must be one of `schemes` (NULL-
 * terminated; parsed as an http-like URL with an authority); with
 * `prepend`, a URL without a scheme gets "https://". *blocked says the
 * host was refused by `flags` (rather than the URL being invalid). */
int sky_url_check(const char *url, const char *const *schemes, int prepend,
                  unsigned flags, char **out, char **detail, int *blocked);

/* An absolute http:// or https:// URL, split. Strings are malloc'd. */
typedef struct sky_url {
	int tls;    /* 1 for https */
	char *host; /* without brackets for IPv6 literals, lower-case */
	int port;   /* explicit or the scheme's default */
	int port_explicit;
	char *path; /* path + "?query", at least "/"; fragment dropped */
} sky_url;

/* Parse `url` (normalized as sky_url_validate does). Returns 0, or
 * SKY_EINVALID with a message naming what is wrong (scheme, host or
 * port, user:password in the URL, spaces). */
int sky_url_parse(const char *url, sky_url *out);
void sky_url_clear(sky_url *u);

/* 1 for "localhost", "*.localhost", 127.0.0.0/8 and ::1. */
int sky_url_host_is_loopback(const char *host);

/* 1 if `host` matches a $no_proxy list: comma/space separated entries,
 * "*" matches everything, "example.com" and ".example.com" match the host
 * and its subdomains, an IP literal matches itself. Ports and CIDR ranges
 * in entries are ignored (the entry's host part is compared). */
int sky_url_no_proxy_match(const char *no_proxy, const char *host);

#endif
