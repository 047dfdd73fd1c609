/*
 * bench_layer.c - the layer filesystem against the tools people use for the same jobs, measured
 * interleaved in the same run. Needs root (owners are restored; overlay mounts).
 *
 *   import    hcs_layer_import of a large layer archive (gzip, then zstd) against
 *             `tar -xf` and `umoci raw unpack` of the same archive (umoci reads it from an OCI
 *             layout written here whose only layer blob is that archive);
 *   attach    hcs_layer_attach + hcs_layer_detach of a writable layer over 1 and over 50
 *             imported layers, against mount(2) + umount2(2) of the same overlay by hand;
 *   export    hcs_layer_export of the large layer as tar+zstd against `tar -c | zstd`.
 *
 * The large layer is a generated tree (deterministic: a fixed seed): about 20,000 files of
 * mixed sizes (half text-like, half binary-like content), 1,500 folders, 1,000 symlinks, 500
 * hard links, a tenth of the files owned by 1000:1000; HCS_BENCH_LAYER_MB (default 600) is its
 * total size. With HCS_BENCH_DEBOOTSTRAP=1 and debootstrap installed, a `debootstrap
 * --variant=minbase` root is used instead (needs the network; the mirror is
 * HCS_BENCH_DEBOOTSTRAP_MIRROR, default deb.debian.org). Archives are made by GNU tar
 * (--sort=name), gzip -1 (half the time of -6 to make; it decompresses about as fast) and zstd -3.
 *
 * Each contender runs ROUNDS times (HCS_BENCH_LAYER_ROUNDS, default 3), the contenders in a
 * different order each round; rows give medians. The page cache is not dropped (that would
 * touch the whole machine): every contender reads the same archive, already cached. Before each
 * timed run the filesystem's dirty data is written out (syncfs on our folder) so that no run
 * pays for the previous one's writeback. hcs_layer_import makes the layer durable (syncfs
 * before its rename) and computes the diff id (sha256); tar and umoci do neither.
 *
 * Everything lives in /tmp/hcs-bench-layer-XXXXXX and a private mount namespace, both gone at
 * the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "layer/layer.h"

#define MAX_ROUNDS 15
#define ATTACH_ROUNDS 15
#define CHAIN 50

static char tmp[64] = ""; /* /tmp/hcs-bench-layer-XXXXXX */
static pid_t main_pid;
static int rounds = 3;
static bool in_memory; /* tmp is a tmpfs of our mount namespace */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[64];
    memcpy(s, v, (size_t)n * sizeof(*v));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_layer: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void die_err(const char *what, hcs_error *err)
{
    die("%s: %s", what, err != NULL && err->message != NULL ? err->message : "failed");
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 64, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
    if (getpid() != main_pid || tmp[0] == '\0')
        return;
    if (in_memory)
        umount2(tmp, MNT_DETACH);
    remove_tree(tmp);
}

/* Run a shell command line (our paths need no quoting); 0 when it exited 0. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int status = system(cmd);
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static bool have(const char *tool)
{
    return sh("command -v %s > /dev/null 2>&1", tool) == 0;
}

/* Write out the filesystem's dirty data, so that the next timed run starts clean. */
static void settle(void)
{
    int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
}

static void row(const char *name, double value, double baseline, int decimals)
{
    char v[32], b[32], r[32];
    snprintf(v, sizeof(v), "%.*f", decimals, value);
    snprintf(b, sizeof(b), "%.*f", decimals, baseline);
    snprintf(r, sizeof(r), "%.2f", value / baseline);
    printf("%s\t%s\t%s\t%s\n", name, v, baseline > 0 ? b : "-", baseline > 0 ? r : "-");
    fflush(stdout);
}

/* --- the generated tree --------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const words[] = {
    "the ",    "layer ",   "import ", "return ", "static ", "int ",    "char ", "const ",
    "void ",   "struct ",  "if (",    "else ",   "for (",   "while (", "0;\n",  "NULL",
    "error ",  "path ",    "file ",   "folder ", "{\n",     "}\n",     "    ",  "\n",
    "value ",  "archive ", "entry ",  "size ",   "mode ",   "owner ",  "= ",    "+= 1;\n",
    "printf(", "\"%s\" ",  "), ",     "data ",   "buffer ", "length ", "zlib ", "config ",
};

/* A block of text-like bytes (compresses about 4x), made once; files copy slices of it. */
#define TEXT_BLOCK (1 << 20)
static unsigned char text_block[TEXT_BLOCK];

static void make_text_block(void)
{
    size_t i = 0;
    while (i < TEXT_BLOCK) {
        const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
        for (; *w != '\0' && i < TEXT_BLOCK; w++)
            text_block[i++] = (unsigned char)*w;
    }
}

/* Content of one file: text-like, or binary-like (runs of random bytes and of zeros). */
static void fill(unsigned char *buf, size_t n, bool text)
{
    size_t i = 0;
    while (i < n) {
        size_t run = 512 + rnd() % 3584;
        if (run > n - i)
            run = n - i;
        if (text) {
            size_t at = rnd() % (TEXT_BLOCK - run);
            memcpy(buf + i, text_block + at, run);
        } else if (rnd() % 2 == 0) {
            memset(buf + i, 0, run);
        } else {
            for (size_t k = 0; k < run; k += 8) {
                uint64_t v = rnd();
                memcpy(buf + i + k, &v, run - k < 8 ? run - k : 8);
            }
        }
        i += run;
    }
}

enum { N_DIRS = 1500, N_FILES = 20000, N_SYMLINKS = 1000, N_HARDLINKS = 500 };

/* Sizes drawn from a long-tailed mix, then scaled so that they sum to total. */
static void file_sizes(size_t *sizes, uint64_t total)
{
    uint64_t sum = 0;
    for (int i = 0; i < N_FILES; i++) {
        uint64_t p = rnd() % 1000, s;
        if (p < 800)
            s = 128 + rnd() % 8064; /* small: configs, scripts */
        else if (p < 970)
            s = 8192 + rnd() % (120 << 10); /* libraries, docs */
        else if (p < 998)
            s = (128 << 10) + rnd() % (896 << 10);
        else
            s = (1 << 20) + rnd() % (15 << 20); /* a few large binaries */
        sizes[i] = (size_t)s;
        sum += s;
    }
    for (int i = 0; i < N_FILES; i++)
        sizes[i] = (size_t)((double)sizes[i] * (double)total / (double)sum);
}

static void generate(const char *root, uint64_t total)
{
    static char dirs[N_DIRS][64];
    static char files[N_FILES][80];
    static size_t sizes[N_FILES];
    if (mkdir(root, 0755) < 0)
        die("mkdir %s: %s", root, strerror(errno));
    if (chdir(root) < 0)
        die("chdir %s: %s", root, strerror(errno));
    /* Folders: each under a random earlier one, at most 6 deep. */
    for (int i = 0; i < N_DIRS; i++) {
        int parent = i < 12 ? -1 : (int)(rnd() % (uint64_t)i);
        while (parent >= 0 && strlen(dirs[parent]) > 40)
            parent = parent < 12 ? -1 : (int)(rnd() % (uint64_t)parent);
        if (parent < 0)
            snprintf(dirs[i], sizeof(dirs[i]), "d%04d", i);
        else
            snprintf(dirs[i], sizeof(dirs[i]), "%s/d%04d", dirs[parent], i);
        if (mkdir(dirs[i], rnd() % 10 == 0 ? 0700 : 0755) < 0)
            die("mkdir %s: %s", dirs[i], strerror(errno));
    }
    file_sizes(sizes, total);
    make_text_block();
    size_t cap = 0;
    for (int i = 0; i < N_FILES; i++)
        cap = sizes[i] > cap ? sizes[i] : cap;
    unsigned char *buf = malloc(cap + 1);
    if (buf == NULL)
        die("out of memory");
    for (int i = 0; i < N_FILES; i++) {
        bool text = rnd() % 2 == 0;
        snprintf(files[i], sizeof(files[i]), "%s/f%05d.%s", dirs[rnd() % N_DIRS], i,
                 text ? "txt" : "bin");
        fill(buf, sizes[i], text);
        int fd = open(files[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                      text && rnd() % 4 != 0 ? 0644 : 0755);
        if (fd < 0 || write(fd, buf, sizes[i]) != (ssize_t)sizes[i])
            die("write %s: %s", files[i], strerror(errno));
        close(fd);
        if (rnd() % 10 == 0 && chown(files[i], 1000, 1000) < 0)
            die("chown %s: %s", files[i], strerror(errno));
    }
    free(buf);
    for (int i = 0; i < N_SYMLINKS; i++) {
        char name[96], target[96];
        snprintf(name, sizeof(name), "%s/s%04d", dirs[rnd() % N_DIRS], i);
        snprintf(target, sizeof(target), "/%s", files[rnd() % N_FILES]);
        if (symlink(target, name) < 0)
            die("symlink %s: %s", name, strerror(errno));
    }
    for (int i = 0; i < N_HARDLINKS; i++) {
        char name[96];
        snprintf(name, sizeof(name), "%s/h%04d", dirs[rnd() % N_DIRS], i);
        if (link(files[rnd() % N_FILES], name) < 0)
            die("link %s: %s", name, strerror(errno));
    }
    if (chdir("/") < 0)
        die("chdir /: %s", strerror(errno));
}

/* --- the OCI layout umoci reads -------------------------------------------------------------- */

static void sha256_file(const char *path, char out[72])
{
    static unsigned char buf[1 << 20];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("open %s: %s", path, strerror(errno));
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sha256_update(&ctx, (size_t)n, buf);
    close(fd);
    unsigned char raw[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof(raw), raw);
    strcpy(out, "sha256:");
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", raw[i]);
}

/* Write a blob (text) into layout/blobs/sha256; its digest into digest. */
static void put_blob(const char *layout, const char *text, char digest[72])
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/blob.tmp", layout);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        die("write %s: %s", path, strerror(errno));
    sha256_file(path, digest);
    char final[PATH_MAX + 80];
    snprintf(final, sizeof(final), "%s/blobs/sha256/%s", layout, digest + 7);
    if (rename(path, final) < 0)
        die("rename %s: %s", final, strerror(errno));
}

/*
 * An OCI layout with one image per archive, tagged by name: the archive hard-linked as the
 * layer blob, a config with its diff id, a manifest.
 */
static void write_layout(const char *layout, const char *diff_id, const char *const *archives,
                         const char *const *media, const char *const *tags, int n)
{
    char path[PATH_MAX + 80], digest[72], config[72], manifest[72];
    snprintf(path, sizeof(path), "%s/blobs/sha256", layout);
    if (sh("mkdir -p %s", path) != 0)
        die("mkdir %s", path);
    snprintf(path, sizeof(path), "%s/oci-layout", layout);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs("{\"imageLayoutVersion\":\"1.0.0\"}", f) < 0 || fclose(f) != 0)
        die("write %s", path);
    char text[4096], index[8192] = "{\"schemaVersion\":2,\"manifests\":[";
    snprintf(text, sizeof(text),
             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
             diff_id);
    put_blob(layout, text, config);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(archives[i], &st) < 0)
            die("stat %s: %s", archives[i], strerror(errno));
        sha256_file(archives[i], digest);
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, digest + 7);
        if (link(archives[i], path) < 0 && errno != EEXIST)
            die("link %s: %s", path, strerror(errno));
        /* The config's size, for its descriptor. */
        char cpath[PATH_MAX + 80];
        struct stat cst;
        snprintf(cpath, sizeof(cpath), "%s/blobs/sha256/%s", layout, config + 7);
        if (stat(cpath, &cst) < 0)
            die("stat %s", cpath);
        snprintf(
            text, sizeof(text),
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
            "\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\","
            "\"digest\":\"%s\",\"size\":%lld}]}",
            config, (long long)cst.st_size, media[i], digest, (long long)st.st_size);
        put_blob(layout, text, manifest);
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, manifest + 7);
        if (stat(path, &st) < 0)
            die("stat %s", path);
        snprintf(index + strlen(index), sizeof(index) - strlen(index),
                 "%s{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"digest\":\"%s\",\"size\":%lld,\"annotations\":"
                 "{\"org.opencontainers.image.ref.name\":\"%s\"}}",
                 i ? "," : "", manifest, (long long)st.st_size, tags[i]);
    }
    strcat(index, "]}");
    snprintf(path, sizeof(path), "%s/index.json", layout);
    f = fopen(path, "w");
    if (f == NULL || fputs(index, f) < 0 || fclose(f) != 0)
        die("write %s", path);
}

/* --- import ------------------------------------------------------------------------------------
 */

enum contender { HCS, TAR, UMOCI, N_CONTENDERS };
static const char *const contender_names[N_CONTENDERS] = {"hcs_layer_import", "tar -x",
                                                          "umoci raw unpack"};

/* One timed unpack of archive (tag names it in the layout) into a fresh folder; seconds. */
static double unpack_once(enum contender c, const char *archive, const char *layout,
                          const char *tag, const char *flag)
{
    char out[PATH_MAX];
    snprintf(out, sizeof(out), "%s/out", tmp);
    remove_tree(out);
    settle();
    double t0 = now(), dt;
    if (c == HCS) {
        hcs_error *err = NULL;
        char diff[HCS_LAYER_DIGEST_LEN];
        if (hcs_layer_import(out, archive, NULL, diff, &err) < 0)
            die_err("hcs_layer_import", err);
        dt = now() - t0;
    } else if (c == TAR) {
        if (mkdir(out, 0755) < 0 || sh("tar -C %s %s -xf %s", out, flag, archive) != 0)
            die("tar -x of %s failed", archive);
        dt = now() - t0;
    } else {
        if (sh("umoci --log error raw unpack --image %s:%s %s", layout, tag, out) != 0)
            die("umoci raw unpack of %s:%s failed", layout, tag);
        dt = now() - t0;
    }
    settle();
    remove_tree(out);
    return dt;
}

/* Whether umoci can unpack the image tagged tag (umoci 0.4 reads no tar+zstd layers). */
static bool umoci_reads(const char *layout, const char *tag)
{
    char out[PATH_MAX];
    snprintf(out, sizeof(out), "%s/out", tmp);
    bool ok =
        sh("umoci --log fatal raw unpack --image %s:%s %s > /dev/null 2>&1", layout, tag, out) == 0;
    remove_tree(out);
    if (!ok)
        printf("# umoci cannot unpack the tar+%s layer: its row is skipped\n",
               strcmp(tag, "gz") == 0 ? "gzip" : "zstd");
    return ok;
}

static void bench_import(const char *gz, const char *zst, const char *layout, bool umoci,
                         double mib)
{
    const char *archives[2] = {gz, zst}, *tags[2] = {"gz", "zst"}, *flags[2] = {"-z", "--zstd"};
    bool with_umoci[2] = {umoci && umoci_reads(layout, "gz"), umoci && umoci_reads(layout, "zst")};
    double t[2][N_CONTENDERS][MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        for (int a = 0; a < 2; a++)
            for (int i = 0; i < N_CONTENDERS; i++) {
                enum contender c = (enum contender)((i + r) % N_CONTENDERS);
                /* umoci once: it is several times slower, one run says enough. */
                if (c == UMOCI && (!with_umoci[a] || r > 0))
                    continue;
                t[a][c][r] = unpack_once(c, archives[a], layout, tags[a], flags[a]);
            }
    for (int a = 0; a < 2; a++) {
        double hcs = median(t[a][HCS], rounds);
        for (int c = TAR; c < N_CONTENDERS; c++) {
            if (c == UMOCI && !with_umoci[a])
                continue;
            char name[160];
            snprintf(name, sizeof(name), "import %.0f MiB tar+%s, hcs_layer_import vs %s [s]", mib,
                     a == 0 ? "gzip" : "zstd", contender_names[c]);
            row(name, hcs, median(t[a][c], c == UMOCI ? 1 : rounds), 2);
        }
    }
}

/* --- attach ------------------------------------------------------------------------------------
 */

/* A tiny layer i: one folder and one file. */
static void small_layer(int i, char *path, size_t size)
{
    char tree[PATH_MAX], archive[PATH_MAX];
    snprintf(tree, sizeof(tree), "%s/small/t%02d", tmp, i);
    snprintf(archive, sizeof(archive), "%s/small/a%02d.tar", tmp, i);
    snprintf(path, size, "%s/c/%02d", tmp, i);
    if (sh("mkdir -p %s/dir%02d && echo %d > %s/dir%02d/file && echo %d > %s/top%02d && "
           "tar -C %s -cf %s .",
           tree, i, i, tree, i, i, tree, i, tree, archive) != 0)
        die("making %s", archive);
    hcs_error *err = NULL;
    if (hcs_layer_import(path, archive, NULL, NULL, &err) < 0)
        die_err("hcs_layer_import", err);
}

static double attach_once(const char *w)
{
    hcs_error *err = NULL;
    double t0 = now();
    if (hcs_layer_attach(w, NULL, 0, &err) < 0)
        die_err("hcs_layer_attach", err);
    if (hcs_layer_detach(w, &err) < 0)
        die_err("hcs_layer_detach", err);
    return now() - t0;
}

/* The same overlay by hand: lowerdir with relative paths (short enough for one page). */
static double mount_once(int n)
{
    static char opts[8192];
    int len = snprintf(opts, sizeof(opts), "lowerdir=");
    for (int i = n - 1; i >= 0; i--)
        len +=
            snprintf(opts + len, sizeof(opts) - (size_t)len, "c/%02d/Files%s", i, i > 0 ? ":" : "");
    snprintf(opts + len, sizeof(opts) - (size_t)len, ",upperdir=m/u,workdir=m/w");
    double t0 = now();
    if (mount("overlay", "m/t", "overlay", 0, opts) < 0)
        die("mount overlay (%d lowers): %s", n, strerror(errno));
    if (umount2("m/t", 0) < 0)
        die("umount m/t: %s", strerror(errno));
    return now() - t0;
}

static void bench_attach(const char *big, double big_mib)
{
    char layers[CHAIN][PATH_MAX], w1[PATH_MAX], wn[PATH_MAX], wb[PATH_MAX];
    const char *chain[CHAIN];
    if (sh("mkdir -p %s/c %s/small", tmp, tmp) != 0)
        die("mkdir %s/c", tmp);
    for (int i = 0; i < CHAIN; i++) {
        small_layer(i, layers[i], sizeof(layers[i]));
        chain[CHAIN - 1 - i] = layers[i]; /* nearest first: the last made on top */
    }
    snprintf(w1, sizeof(w1), "%s/w1", tmp);
    snprintf(wn, sizeof(wn), "%s/w%d", tmp, CHAIN);
    snprintf(wb, sizeof(wb), "%s/wbig", tmp);
    hcs_error *err = NULL;
    if (hcs_layer_init_writable(w1, &chain[CHAIN - 1], 1, &err) < 0 ||
        hcs_layer_init_writable(wn, chain, CHAIN, &err) < 0 ||
        hcs_layer_init_writable(wb, &big, 1, &err) < 0)
        die_err("hcs_layer_init_writable", err);
    bool overlay = hcs_layer_backend() == HCS_LAYER_BACKEND_OVERLAY;
    if (chdir(tmp) < 0 || sh("mkdir -p %s/m/u %s/m/w %s/m/t", tmp, tmp, tmp) != 0)
        die("chdir %s", tmp);
    double a1[ATTACH_ROUNDS], an[ATTACH_ROUNDS], ab[ATTACH_ROUNDS], m1[ATTACH_ROUNDS],
        mn[ATTACH_ROUNDS];
    /* the copy backend copies on the first attach only */
    attach_once(w1), attach_once(wn), attach_once(wb);
    for (int r = 0; r < ATTACH_ROUNDS; r++) {
        a1[r] = attach_once(w1);
        an[r] = attach_once(wn);
        ab[r] = attach_once(wb);
        m1[r] = overlay ? mount_once(1) : 0;
        mn[r] = overlay ? mount_once(CHAIN) : 0;
    }
    if (chdir("/") < 0)
        die("chdir /");
    double ma1 = median(a1, ATTACH_ROUNDS) * 1e3, man = median(an, ATTACH_ROUNDS) * 1e3;
    row("attach+detach, writable over 1 layer vs mount(2)+umount(2) overlay [ms]", ma1,
        overlay ? median(m1, ATTACH_ROUNDS) * 1e3 : 0, 3);
    row("attach+detach, writable over 50 layers vs mount(2)+umount(2) overlay [ms]", man,
        overlay ? median(mn, ATTACH_ROUNDS) * 1e3 : 0, 3);
    row("attach+detach, 50 layers vs 1 layer [ms]", man, ma1, 3);
    char name[160];
    snprintf(name, sizeof(name),
             "attach+detach, over the %.0f MiB layer vs over a 2-file layer [ms]", big_mib);
    row(name, median(ab, ATTACH_ROUNDS) * 1e3, ma1, 3);
    if (hcs_layer_destroy(wb, &err) < 0)
        die_err("hcs_layer_destroy", err);
    if (!overlay)
        printf("# attach: the copy backend is in use (%s): no overlay baseline\n",
               hcs_layer_backend_name(hcs_layer_backend()));
}

/* --- export ------------------------------------------------------------------------------------
 */

static void bench_export(const char *layer, double mib)
{
    char out[PATH_MAX], files[PATH_MAX + 16];
    snprintf(out, sizeof(out), "%s/export.tar.zst", tmp);
    snprintf(files, sizeof(files), "%s/%s", layer, HCS_LAYER_FILES);
    double h[MAX_ROUNDS] = {0}, b[MAX_ROUNDS] = {0};
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 2; i++) {
            unlink(out);
            settle();
            double t0 = now();
            if ((i + r) % 2 == 0) {
                hcs_layer_export_opts o = {.compression = HCS_LAYER_COMPRESS_ZSTD};
                hcs_error *err = NULL;
                if (hcs_layer_export(layer, out, &o, NULL, &err) < 0)
                    die_err("hcs_layer_export", err);
                h[r] = now() - t0;
            } else {
                if (sh("tar -C %s -cf - . | zstd -q -3 -o %s", files, out) != 0)
                    die("tar -c | zstd failed");
                b[r] = now() - t0;
            }
        }
    }
    unlink(out);
    char name[160];
    snprintf(name, sizeof(name),
             "export %.0f MiB as tar+zstd, hcs_layer_export vs tar -c | zstd -3 [MiB/s]", mib);
    row(name, mib / median(h, rounds), mib / median(b, rounds), 1);
}

/* --- main --------------------------------------------------------------------------------------
 */

int main(void)
{
    if (geteuid() != 0) {
        printf("# bench_layer: skipped: importing layers (owners) and overlay mounts need root\n");
        return 0;
    }
    for (const char *tool = "tar\0zstd\0gzip\0"; *tool != '\0'; tool += strlen(tool) + 1)
        if (!have(tool))
            die("%s is not installed (apt-get install %s)", tool, tool);
    const char *e = getenv("HCS_BENCH_LAYER_ROUNDS");
    if (e != NULL && atoi(e) > 0)
        rounds = atoi(e) > MAX_ROUNDS ? MAX_ROUNDS : atoi(e);
    e = getenv("HCS_BENCH_LAYER_MB");
    uint64_t mb = e != NULL && atoi(e) > 0 ? (uint64_t)atoi(e) : 600;

    /* Our own mount namespace: every mount made here goes away with the process. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die("private mount namespace: %s", strerror(errno));
    main_pid = getpid();
    snprintf(tmp, sizeof(tmp), "/tmp/hcs-bench-layer-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);
    /*
     * In memory by default: what is measured is the software, not this machine's disk (the
     * numbers of a disk with online discard are dominated by deleting the previous run).
     */
    e = getenv("HCS_BENCH_LAYER_DISK");
    in_memory = e == NULL || strcmp(e, "1") != 0;
    if (in_memory && mount("hcs-bench", tmp, "tmpfs", 0, "mode=0700") < 0)
        die("tmpfs on %s: %s", tmp, strerror(errno));
    char data[PATH_MAX];
    snprintf(data, sizeof(data), "%s/data", tmp);
    setenv("HCS_DATA_ROOT", data, 1);
    setenv("HCS_RUNTIME_ROOT", data, 1);

    char tree[PATH_MAX], tar[PATH_MAX], gz[PATH_MAX], zst[PATH_MAX], layout[PATH_MAX];
    snprintf(tree, sizeof(tree), "%s/tree", tmp);
    snprintf(tar, sizeof(tar), "%s/layer.tar", tmp);
    snprintf(gz, sizeof(gz), "%s/layer.tar.gz", tmp);
    snprintf(zst, sizeof(zst), "%s/layer.tar.zst", tmp);
    snprintf(layout, sizeof(layout), "%s/layout", tmp);
    double t0 = now();
    const char *what = "generated";
    e = getenv("HCS_BENCH_DEBOOTSTRAP");
    if (e != NULL && strcmp(e, "1") == 0 && have("debootstrap")) {
        const char *mirror = getenv("HCS_BENCH_DEBOOTSTRAP_MIRROR");
        if (sh("debootstrap --variant=minbase bookworm %s %s > %s/debootstrap.log 2>&1", tree,
               mirror ? mirror : "http://deb.debian.org/debian", tmp) != 0)
            die("debootstrap failed (see %s/debootstrap.log)", tmp);
        what = "debootstrap minbase";
    } else {
        if (e != NULL && strcmp(e, "1") == 0)
            printf("# bench_layer: debootstrap is not installed: the generated tree is used\n");
        generate(tree, mb << 20);
    }
    double t_tree = now() - t0;
    if (sh("tar -C %s --sort=name --numeric-owner -cf %s . && "
           "{ gzip -1 -c %s > %s & zstd -q -3 -c %s > %s & wait; }",
           tree, tar, tar, gz, tar, zst) != 0)
        die("making the archives failed");
    struct stat st_tar, st_gz, st_zst;
    if (stat(tar, &st_tar) < 0 || stat(gz, &st_gz) < 0 || stat(zst, &st_zst) < 0)
        die("stat the archives: %s", strerror(errno));
    char diff_id[72];
    sha256_file(tar, diff_id);
    bool umoci = have("umoci");
    if (umoci) {
        const char *archives[2] = {gz, zst};
        const char *media[2] = {"application/vnd.oci.image.layer.v1.tar+gzip",
                                "application/vnd.oci.image.layer.v1.tar+zstd"};
        const char *tags[2] = {"gz", "zst"};
        write_layout(layout, diff_id, archives, media, tags, 2);
    }
    remove_tree(tree);
    double mib = (double)st_tar.st_size / (1 << 20);
    printf("# layer: %s tree, tar %.0f MiB, tar+gzip %.0f MiB, tar+zstd %.0f MiB; made in %.0f "
           "s (the tree in %.0f s); everything on %s\n",
           what, mib, (double)st_gz.st_size / (1 << 20), (double)st_zst.st_size / (1 << 20),
           now() - t0, t_tree,
           in_memory ? "a tmpfs (HCS_BENCH_LAYER_DISK=1: on /tmp's disk)" : "/tmp's disk");
    if (!umoci)
        printf("# umoci is not installed: its rows are skipped (apt-get install umoci)\n");

    bench_import(gz, zst, layout, umoci, mib);

    /* One import kept for the export. */
    char layer[PATH_MAX];
    snprintf(layer, sizeof(layer), "%s/big", tmp);
    hcs_error *err = NULL;
    if (hcs_layer_import(layer, zst, NULL, NULL, &err) < 0)
        die_err("hcs_layer_import", err);
    unlink(gz);
    bench_export(layer, mib);
    bench_attach(layer, mib);
    if (hcs_layer_destroy(layer, &err) < 0)
        die_err("hcs_layer_destroy", err);
    printf("# import: medians of %d rounds (umoci: one run), the contenders interleaved; "
           "hcs_layer_import also "
           "hashes the diff id and syncs the layer before its rename; umoci raw unpack reads "
           "the archive from an OCI layout (the same file, hard-linked)\n",
           rounds);
    printf("# attach: medians of %d rounds; backend %s; the baseline mounts the same overlay "
           "with a lowerdir string\n",
           ATTACH_ROUNDS, hcs_layer_backend_name(hcs_layer_backend()));
    printf("# export: medians of %d rounds, MiB of uncompressed tar per second; zstd level 3 "
           "on both sides\n",
           rounds);
    return 0;
}
