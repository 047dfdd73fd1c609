/* digest.c - sha256 digests ("sha256:<hex>") of memory and of streams, with nettle. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "common/cleanup.h"
#include "hcsdiag.h"
#include "layer/layer.h"

#define CHUNK (1 << 20)
#define PROGRESS_EVERY (4ULL << 20)

void hd_sha256_text(const void *data, size_t len, char out[HD_DIGEST_LEN])
{
    struct sha256_ctx ctx;
    uint8_t raw[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof(raw), raw);
    hcs_layer_digest_text(raw, out);
}

bool hd_digest_valid(const char *s)
{
    if (s == NULL || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
        return false;
    for (const char *p = s + 7; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int hd_sha256_fd(int fd, const char *name, uint64_t total, hd_hash_progress_fn progress, void *ctx,
                 char out[HD_DIGEST_LEN], uint64_t *len, hcs_error **err)
{
    AUTOFREE uint8_t *buf = malloc(CHUNK);
    if (buf == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "%s: out of memory", name);
    struct sha256_ctx sha;
    sha256_init(&sha);
    uint64_t done = 0, reported = 0;
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hcs_err_errno(err, errno, "%s: read", name);
        if (n == 0)
            break;
        sha256_update(&sha, (size_t)n, buf);
        done += (uint64_t)n;
        if (progress != NULL && done - reported >= PROGRESS_EVERY) {
            progress(done, total, ctx);
            reported = done;
        }
    }
    uint8_t raw[SHA256_DIGEST_SIZE];
    sha256_digest(&sha, sizeof(raw), raw);
    hcs_layer_digest_text(raw, out);
    if (len != NULL)
        *len = done;
    return 0;
}
