/*
 * archive/checksum.h — SHA-256 fixity values, streamed.
 *
 * The only place bunko touches libcrypto (checksum.c wraps OpenSSL 3's EVP
 * interface); everything else sees lower-case hex strings. Files are hashed
 * through one fixed buffer, never read whole, so checking a 1 GB master
 * costs the same few kilobytes of memory as checking a 1 KB sidecar.
 */
#ifndef BUNKO_ARCHIVE_CHECKSUM_H
#define BUNKO_ARCHIVE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "bunko/common.h"

#define BK_SHA256_HEX_LEN 64 /* hex digits; buffers hold one more for NUL */

/* An incremental hash; opaque (an EVP_MD_CTX inside). Owned by the caller. */
struct bk_sha256;

struct bk_sha256 *bk_sha256_new(struct bk_error *err);
int bk_sha256_update(struct bk_sha256 *h, const void *data, size_t len,
		     struct bk_error *err);
/* Writes the digest as 64 lower-case hex digits plus NUL. The hash can be
 * used again afterwards: it restarts empty. */
int bk_sha256_final(struct bk_sha256 *h, char hex[BK_SHA256_HEX_LEN + 1],
		    struct bk_error *err);
void bk_sha256_free(struct bk_sha256 **h);

/* Digest of a memory buffer. */
int bk_sha256_mem(const void *data, size_t len,
		  char hex[BK_SHA256_HEX_LEN + 1], struct bk_error *err);

/*
 * Digest of an open file descriptor, read from its current position to the
 * end through a fixed buffer; `*size` (may be NULL) receives the byte count.
 * `name` is used in error messages. The descriptor is not closed.
 */
int bk_sha256_fd(int fd, const char *name, char hex[BK_SHA256_HEX_LEN + 1],
		 uint64_t *size, struct bk_error *err);

/* Digest of the file at `path` (opened read-only, streamed as above). */
int bk_sha256_file(const char *path, char hex[BK_SHA256_HEX_LEN + 1],
		   uint64_t *size, struct bk_error *err);

/* True if `s` is 64 hex digits (either case) and nothing else. */
int bk_sha256_is_hex(const char *s, size_t len);

#endif
