/*
 * archive/checksum.c — SHA-256 through OpenSSL 3's EVP interface (see
 * checksum.h). This is the one file of bunko that includes OpenSSL headers;
 * EVP_MD_CTX never leaves it.
 */
#include "archive/checksum.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Large enough to keep system-call overhead negligible, small enough to sit
 * on any thread's stack. */
#define BK_HASH_BUFFER (64 * 1024)

struct bk_sha256 {
	EVP_MD_CTX *ctx;
};

static int hash_restart(struct bk_sha256 *h, struct bk_error *err)
{
	if (!EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL))
		return bk_error_set(err, "cannot start a SHA-256 digest");
	return 0;
}

struct bk_sha256 *bk_sha256_new(struct bk_error *err)
{
	struct bk_sha256 *h = calloc(1, sizeof(*h));

	if (!h) {
		bk_error_set(err, "out of memory starting a SHA-256 digest");
		return NULL;
	}
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx) {
		bk_error_set(err, "out of memory starting a SHA-256 digest");
		free(h);
		return NULL;
	}
	if (hash_restart(h, err)) {
		bk_sha256_free(&h);
		return NULL;
	}
	return h;
}

int bk_sha256_update(struct bk_sha256 *h, const void *data, size_t len,
		     struct bk_error *err)
{
	if (len && !EVP_DigestUpdate(h->ctx, data, len))
		return bk_error_set(err, "SHA-256 digest update failed");
	return 0;
}

int bk_sha256_final(struct bk_sha256 *h, char hex[BK_SHA256_HEX_LEN + 1],
		    struct bk_error *err)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_DigestFinal_ex(h->ctx, md, &mdlen) || mdlen * 2 != BK_SHA256_HEX_LEN)
		return bk_error_set(err, "SHA-256 digest failed");
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[BK_SHA256_HEX_LEN] = '\0';
	return hash_restart(h, err);
}

void bk_sha256_free(struct bk_sha256 **h)
{
	if (!h || !*h)
		return;
	EVP_MD_CTX_free((*h)->ctx);
	free(*h);
	*h = NULL;
}

int bk_sha256_mem(const void *data, size_t len,
		  char hex[BK_SHA256_HEX_LEN + 1], struct bk_error *err)
{
	struct bk_sha256 *h = bk_sha256_new(err);
	int rc = -1;

	if (!h)
		return -1;
	if (bk_sha256_update(h, data, len, err) || bk_sha256_final(h, hex, err))
		goto out;
	rc = 0;
out:
	bk_sha256_free(&h);
	return rc;
}

int bk_sha256_fd(int fd, const char *name, char hex[BK_SHA256_HEX_LEN + 1],
		 uint64_t *size, struct bk_error *err)
{
	struct bk_sha256 *h = NULL;
	unsigned char *buf = NULL;
	uint64_t total = 0;
	int rc = -1;

	if (size)
		*size = 0;
	h = bk_sha256_new(err);
	if (!h)
		goto out;
	/* On the heap: callers may run on small thread stacks. */
	buf = malloc(BK_HASH_BUFFER);
	if (!buf) {
		bk_error_set(err, "cannot read '%s': out of memory", name);
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, buf, BK_HASH_BUFFER);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bk_error_set(err, "cannot read '%s': %s", name,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (bk_sha256_update(h, buf, (size_t)n, err))
			goto out;
		total += (uint64_t)n;
	}
	if (bk_sha256_final(h, hex, err))
		goto out;
	if (size)
		*size = total;
	rc = 0;
out:
	free(buf);
	bk_sha256_free(&h);
	return rc;
}

int bk_sha256_file(const char *path, char hex[BK_SHA256_HEX_LEN + 1],
		   uint64_t *size, struct bk_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return bk_error_set(err, "cannot open '%s': %s", path,
				    strerror(errno));
	rc = bk_sha256_fd(fd, path, hex, size, err);
	close(fd);
	return rc;
}

int bk_sha256_is_hex(const char *s, size_t len)
{
	if (len != BK_SHA256_HEX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}
