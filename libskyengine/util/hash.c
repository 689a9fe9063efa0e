/* SHA-256, HMAC, base64/base32 and random tokens over libcrypto. */
#include "util/hash.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sky_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

char *sky_sha256_hex(const void *data, size_t len,
                     char out[SKY_SHA256_HEX_LEN])
{
	unsigned char md[32];
	sky_sha256(data, len, md);
	to_hex(md, 32, out);
	return out;
}

int sky_sha256_file_hex(const char *path, char out[SKY_SHA256_HEX_LEN],
                        int64_t *size)
{
	unsigned char buf[65536], md[32];
	unsigned int n = 32;
	int64_t total = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	size_t r;
	while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
		EVP_DigestUpdate(ctx, buf, r);
		total += (int64_t)r;
	}
	int err = ferror(f);
	fclose(f);
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	if (err)
		return -1;
	to_hex(md, 32, out);
	if (size)
		*size = total;
	return 0;
}

int sky_hmac(const char *algo, const void *key, size_t keylen,
             const void *msg, size_t len, unsigned char out[64])
{
	const EVP_MD *md;
	unsigned int n = 0;
	if (!strcmp(algo, "sha1"))
		md = EVP_sha1();
	else if (!strcmp(algo, "sha256"))
		md = EVP_sha256();
	else if (!strcmp(algo, "sha512"))
		md = EVP_sha512();
	else
		return -1;
	if (!HMAC(md, key, (int)keylen, msg, len, out, &n))
		return -1;
	return (int)n;
}

char *sky_hmac_sha256_hex(const void *key, size_t keylen, const void *msg,
                          size_t len, char out[SKY_SHA256_HEX_LEN])
{
	unsigned char mac[64];
	int n = sky_hmac("sha256", key, keylen, msg, len, mac);
	to_hex(mac, n > 0 ? (size_t)n : 0, out);
	return out;
}

char *sky_random_hex(size_t nbytes)
{
	unsigned char *raw = malloc(nbytes ? nbytes : 1);
	char *out = malloc(nbytes * 2 + 1);
	if (!raw || !out || RAND_bytes(raw, (int)nbytes) != 1) {
		free(raw);
		free(out);
		return NULL;
	}
	to_hex(raw, nbytes, out);
	free(raw);
	return out;
}

char *sky_base64_encode(const void *data, size_t len)
{
	size_t olen = 4 * ((len + 2) / 3);
	char *out = malloc(olen + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	out[olen] = '\0';
	return out;
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

unsigned char *sky_base64_decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n * 3 / 4 + 3);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '=' || isspace(c))
			continue;
		int v = b64_val(c);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*out_len = o;
	return out;
}

unsigned char *sky_base32_decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n * 5 / 8 + 2);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = toupper((unsigned char)s[i]);
		int v;
		if (c == '=' || c == ' ' || c == '-')
			continue;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			free(out);
			return NULL;
		}
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*out_len = o;
	return out;
}
