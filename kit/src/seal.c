/* skyx: AES-256-GCM sealing of data at rest over libcrypto. */
#include "skyx/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "skyx/codec.h"
#include "skyx/hash.h"

#define SEAL_PREFIX "sk1:"
#define NONCE_LEN 12
#define TAG_LEN 16

int skyx_seal_key_from_text(const char *text,
                            unsigned char key[SKYX_SEAL_KEY_LEN])
{
	size_t n = text ? strlen(text) : 0;
	if (!n)
		return -1;
	if (n == 2 * SKYX_SEAL_KEY_LEN) {
		int ok = 1;
		for (size_t i = 0; i < SKYX_SEAL_KEY_LEN && ok; i++) {
			int hi = skyx_hexval(text[2 * i]);
			int lo = skyx_hexval(text[2 * i + 1]);
			ok = hi >= 0 && lo >= 0;
			if (ok)
				key[i] = (unsigned char)(hi << 4 | lo);
		}
		if (ok)
			return 0;
	}
	size_t dlen = 0;
	unsigned char *d = skyx_base64_decode(text, n, &dlen);
	if (d && dlen == SKYX_SEAL_KEY_LEN) {
		memcpy(key, d, SKYX_SEAL_KEY_LEN);
		OPENSSL_cleanse(d, dlen);
		free(d);
		return 0;
	}
	if (d) {
		OPENSSL_cleanse(d, dlen);
		free(d);
	}
	skyx_sha256(text, n, key);
	return 0;
}

int skyx_is_sealed(const char *text)
{
	return text && !strncmp(text, SEAL_PREFIX, strlen(SEAL_PREFIX));
}

char *skyx_seal(const unsigned char key[SKYX_SEAL_KEY_LEN], const void *plain,
                size_t len, const char *aad)
{
	if (len > (size_t)INT32_MAX - NONCE_LEN - TAG_LEN)
		return NULL;
	unsigned char *buf = malloc(NONCE_LEN + len + TAG_LEN);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	char *b64 = NULL, *out = NULL;
	int n = 0, fin = 0;
	if (!buf || !ctx || RAND_bytes(buf, NONCE_LEN) != 1)
		goto done;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1)
		goto done;
	if (aad && *aad &&
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	                      (int)strlen(aad)) != 1)
		goto done;
	if (len &&
	    EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &n, plain, (int)len) != 1)
		goto done;
	if (EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	                        buf + NONCE_LEN + len) != 1)
		goto done;
	b64 = skyx_base64_encode(buf, NONCE_LEN + len + TAG_LEN);
	if (!b64)
		goto done;
	out = malloc(strlen(SEAL_PREFIX) + strlen(b64) + 1);
	if (out) {
		memcpy(out, SEAL_PREFIX, strlen(SEAL_PREFIX));
		strcpy(out + strlen(SEAL_PREFIX), b64);
	}
done:
	EVP_CIPHER_CTX_free(ctx);
	if (buf) {
		OPENSSL_cleanse(buf, NONCE_LEN + len + TAG_LEN);
		free(buf);
	}
	free(b64);
	return out;
}

int skyx_unseal(const unsigned char key[SKYX_SEAL_KEY_LEN], const char *sealed,
                const char *aad, unsigned char **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (!skyx_is_sealed(sealed))
		return -1;
	const char *b = sealed + strlen(SEAL_PREFIX);
	size_t blen = 0;
	unsigned char *buf = skyx_base64_decode(b, strlen(b), &blen);
	if (!buf || blen < NONCE_LEN + TAG_LEN) {
		free(buf);
		return -1;
	}
	size_t len = blen - NONCE_LEN - TAG_LEN;
	unsigned char *plain = malloc(len + 1);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, rc = -1;
	if (!plain || !ctx ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1)
		goto done;
	if (aad && *aad &&
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	                      (int)strlen(aad)) != 1)
		goto done;
	if (len &&
	    EVP_DecryptUpdate(ctx, plain, &n, buf + NONCE_LEN, (int)len) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	                        buf + NONCE_LEN + len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1)
		goto done;
	plain[len] = 0;
	*out = plain;
	*out_len = len;
	plain = NULL;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	if (plain) {
		OPENSSL_cleanse(plain, len);
		free(plain);
	}
	OPENSSL_cleanse(buf, blen);
	free(buf);
	return rc;
}
