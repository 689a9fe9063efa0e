/* skyx: SHA-256, HMAC and random tokens over libcrypto. */
#include "skyx/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skyx/codec.h"

void skyx_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

char *skyx_sha256_hex(const void *data, size_t len,
                      char out[SKYX_SHA256_HEX_LEN])
{
	unsigned char md[32];
	skyx_sha256(data, len, md);
	skyx_hex_encode(md, 32, out);
	return out;
}

int skyx_sha256_file_hex(const char *path, char out[SKYX_SHA256_HEX_LEN],
                         int64_t *size)
{
	unsigned char buf[65536], md[32];
	unsigned int n = 32;
	int64_t total = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		fclose(f);
		return -1;
	}
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
	skyx_hex_encode(md, 32, out);
	if (size)
		*size = total;
	return 0;
}

int skyx_hmac(const char *algo, const void *key, size_t keylen, const void *msg,
              size_t len, unsigned char out[64])
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

char *skyx_hmac_sha256_hex(const void *key, size_t keylen, const void *msg,
                           size_t len, char out[SKYX_SHA256_HEX_LEN])
{
	unsigned char mac[64];
	int n = skyx_hmac("sha256", key, keylen, msg, len, mac);
	skyx_hex_encode(mac, n > 0 ? (size_t)n : 0, out);
	return out;
}

char *skyx_random_hex(size_t nbytes)
{
	unsigned char *raw = malloc(nbytes ? nbytes : 1);
	char *out = malloc(nbytes * 2 + 1);
	if (!raw || !out || RAND_bytes(raw, (int)nbytes) != 1) {
		free(raw);
		free(out);
		return NULL;
	}
	skyx_hex_encode(raw, nbytes, out);
	free(raw);
	return out;
}
