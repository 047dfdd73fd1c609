/*
 * bindgen - generate the Go and C# binding layers from include/hcs.h.
 *
 *   bindgen [--check] [--go FILE] [--cs FILE] HEADER
 *
 * Without --check, writes each FILE (atomically: a temporary file in the same folder, then
 * rename). With --check, writes nothing and exits 1 when a FILE differs from what HEADER gives,
 * naming the file and its first differing line. Exit status 2 on usage and parse errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bgutil.h"
#include "bindgen.h"

static int usage(void)
{
    fputs("usage: bindgen [--check] [--go FILE] [--cs FILE] HEADER\n"
          "  --go FILE  the Go layer (bindings/go/zhcs.go)\n"
          "  --cs FILE  the C# layer (bindings/csharp/Native.g.cs)\n"
          "  --check    compare with the files on disk instead of writing them; exit 1 if stale\n",
          stderr);
    return 2;
}

/* Run emit into memory. Returns 0, or -1 (the emitter said why). */
static int generate(int (*emit)(const bg_api *, FILE *), const bg_api *api, char **buf, size_t *len)
{
    FILE *m = open_memstream(buf, len);
    if (m == NULL) {
        fprintf(stderr, "bindgen: open_memstream: %s\n", strerror(errno));
        return -1;
    }
    int rc = emit(api, m);
    if (fclose(m) != 0 && rc == 0) {
        fprintf(stderr, "bindgen: out of memory\n");
        rc = -1;
    }
    return rc;
}

static int write_atomic(const char *given, const char *buf, size_t len)
{
    /* Something that is not a regular file (/dev/null, a pipe) is written to as it is: renaming
     * over it would replace the device. A symbolic link is followed, so that the file it names
     * is replaced, not the link. */
    struct stat st;
    char *real = realpath(given, NULL);
    if (real != NULL && stat(real, &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(real, "w");
        free(real);
        if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "bindgen: writing %s: %s\n", given, strerror(errno));
            return -1;
        }
        return 0;
    }
    const char *path = real != NULL ? real : given;
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL) {
        free(real);
        return -1;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "bindgen: %s: %s\n", tmp, strerror(errno));
        free(tmp);
        free(real);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    int rc = 0;
    if (f == NULL || fwrite(buf, 1, len, f) != len || fflush(f) != 0 || fchmod(fd, 0644) != 0 ||
        fsync(fd) != 0)
        rc = -1;
    if (f != NULL) {
        if (fclose(f) != 0)
            rc = -1;
    } else {
        close(fd);
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "bindgen: writing %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(real);
    return rc;
}

/* Print one line of s (starting at p, at most 200 bytes) quoted. */
static void put_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    fprintf(stderr, "%.*s%s", (int)(n > 200 ? 200 : n), p, n > 200 ? "..." : "");
}

/* Compare buf with path's contents; 0 when equal, 1 (after saying why) when stale. */
static int check(const char *path, const char *header, const char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bindgen: %s is stale: %s; run make bindings\n", path, strerror(errno));
        return 1;
    }
    char *disk = NULL;
    size_t dlen = 0, cap = 0;
    for (;;) {
        if (cap - dlen < 65536) {
            char *d = realloc(disk, cap = cap ? cap * 2 : 1 << 20);
            if (d == NULL) {
                free(disk);
                fclose(f);
                fputs("bindgen: out of memory\n", stderr);
                return 1;
            }
            disk = d;
        }
        size_t r = fread(disk + dlen, 1, cap - dlen, f);
        if (r == 0)
            break;
        dlen += r;
    }
    fclose(f);
    if (dlen == len && memcmp(disk, buf, len) == 0) {
        free(disk);
        return 0;
    }
    size_t i = 0, line = 1, ls = 0;
    while (i < len && i < dlen && disk[i] == buf[i]) {
        if (buf[i] == '\n') {
            line++;
            ls = i + 1;
        }
        i++;
    }
    fprintf(stderr,
            "bindgen: %s is stale (it differs from what %s gives at line %zu); run make "
            "bindings\n  generated: ",
            path, header, line);
    if (ls < len)
        put_line(buf + ls, buf + len);
    else
        fputs("(end of file)", stderr);
    fputs("\n  on disk:   ", stderr);
    if (ls < dlen)
        put_line(disk + ls, disk + dlen);
    else
        fputs("(end of file)", stderr);
    fputc('\n', stderr);
    free(disk);
    return 1;
}

int main(int argc, char **argv)
{
    bool check_only = false;
    const char *go = NULL, *cs = NULL, *header = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check_only = true;
        } else if (strcmp(argv[i], "--go") == 0 && i + 1 < argc) {
            go = argv[++i];
        } else if (strcmp(argv[i], "--cs") == 0 && i + 1 < argc) {
            cs = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' || header != NULL) {
            fprintf(stderr, "bindgen: unexpected argument '%s'\n", argv[i]);
            return usage();
        } else {
            header = argv[i];
        }
    }
    if (header == NULL)
        return usage();

    bg_api api;
    if (bg_parse(header, &api) != 0) {
        bg_api_free(&api);
        return 2;
    }
    const struct {
        const char *path;
        int (*emit)(const bg_api *, FILE *);
    } outs[] = {{go, bg_emit_go}, {cs, bg_emit_cs}};
    int status = 0;
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]) && status != 2; i++) {
        if (outs[i].path == NULL)
            continue;
        char *buf = NULL;
        size_t len = 0;
        if (generate(outs[i].emit, &api, &buf, &len) != 0) {
            fprintf(stderr, "bindgen: %s not generated\n", outs[i].path);
            status = 2;
        } else if (check_only) {
            if (check(outs[i].path, header, buf, len) != 0)
                status = 1;
        } else if (write_atomic(outs[i].path, buf, len) != 0) {
            status = 2;
        }
        free(buf);
    }
    bg_api_free(&api);
    return status;
}
