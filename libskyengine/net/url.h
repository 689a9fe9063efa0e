/* Internal: splitting http(s) URLs and deciding whether a host goes
 * through a proxy. Used by the HTTP client and by webhook validation. */
#ifndef SKY_NET_URL_H
#define SKY_NET_URL_H

/* An absolute http:// or https:// URL, split. Strings are malloc'd. */
typedef struct sky_url {
	int tls;    /* 1 for https */
	char *host; /* without brackets for IPv6 literals, lower-case */
	int port;   /* explicit or the scheme's default */
	int port_explicit;
	char *path; /* path + "?query", at least "/"; fragment dropped */
} sky_url;

/* Parse `url`. Returns 0, or SKY_EINVALID with a message naming what is
 * wrong (scheme, host, port, user:password in the URL, spaces). */
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
