/*
 * bench_registry.c - the registry union (lib/registry) against plain baselines, side by side in
 * the same run:
 *   - lookups: hcs_reg_view_get of random existing values in a view of 100,000 keys (one value
 *     each) spread over 5 hive files (5 layers) under a memory delta of 1,000 changes, against
 *     a flat open-addressing hash map (FNV-1a over case-folded "key\name") of the same pairs,
 *     looking up the same random sequence;
 *   - view open: hcs_reg_hive_open of the 5 files + hcs_reg_view_new, 100k keys against 1k
 *     keys (the ratio should be about 1: opening is O(layers), not O(keys));
 *   - delta apply: hcs_reg_delta_apply of batches of 1 and of 100 changes (each batch fsync'd)
 *     against write() + fdatasync() of a record of the same size per batch in the same folder.
 *
 * Everything lives in a mkdtemp folder under $TMPDIR (or /tmp), removed at the end.
 * Run by bench/run (make bench).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "registry/registry.h"

#define N_LAYERS 5
#define N_KEYS 100000
#define N_SMALL 1000
#define N_DELTA 1000
#define N_LOOKUPS 50000 /* per round */
#define LOOKUP_ROUNDS 7
#define OPEN_ROUNDS 20
#define APPLY_ROUNDS 4 /* alternating rounds per side */
#define APPLY_ROUND_SECONDS 0.25
#define VALUE_NAME "Setting"

static char tmpdir[4096];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cleanup(void)
{
    if (tmpdir[0] == '\0')
        return;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_registry: could not remove %s\n", tmpdir);
    tmpdir[0] = '\0';
}

static void die(const char *what, const hcs_error *err)
{
    fprintf(stderr, "bench_registry: %s: %s\n", what, err ? err->message : "failed");
    cleanup();
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift64*: a reproducible random sequence. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Key i: mixed case, three components deep, like real hives. */
static char *key_name(size_t i)
{
    char *k = malloc(64);
    if (k == NULL)
        die("key", NULL);
    snprintf(k, 64, "ControlSet001\\Services\\Svc%02zu\\Instance%06zu", i % 97, i);
    return k;
}

/* --- the baseline: a flat open-addressing hash map of folded "key\name" -> value ------------ */

struct slot {
    char *k; /* folded "key\name"; NULL: empty */
    uint32_t v;
};

struct map {
    struct slot *slots;
    size_t mask;
};

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static uint64_t fnv_step(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= fold((unsigned char)*s);
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t map_hash(const char *key, const char *name)
{
    uint64_t h = fnv_step(0xcbf29ce484222325ull, key);
    h ^= '\\';
    h *= 0x100000001b3ull;
    return fnv_step(h, name);
}

/* Whether the stored folded s equals fold(key) "\\" fold(name). */
static int map_eq(const char *s, const char *key, const char *name)
{
    for (; *key; key++, s++)
        if (*s != (char)fold((unsigned char)*key))
            return 0;
    if (*s++ != '\\')
        return 0;
    for (; *name; name++, s++)
        if (*s != (char)fold((unsigned char)*name))
            return 0;
    return *s == '\0';
}

static struct slot *map_find(const struct map *m, const char *key, const char *name)
{
    size_t i = (size_t)map_hash(key, name) & m->mask;
    for (;; i = (i + 1) & m->mask) {
        struct slot *s = &m->slots[i];
        if (s->k == NULL || map_eq(s->k, key, name))
            return s;
    }
}

static void map_put(struct map *m, const char *key, const char *name, uint32_t v)
{
    struct slot *s = map_find(m, key, name);
    if (s->k == NULL) {
        size_t kl = strlen(key), nl = strlen(name);
        s->k = malloc(kl + nl + 2);
        if (s->k == NULL)
            die("map", NULL);
        for (size_t j = 0; j < kl; j++)
            s->k[j] = (char)fold((unsigned char)key[j]);
        s->k[kl] = '\\';
        for (size_t j = 0; j <= nl; j++)
            s->k[kl + 1 + j] = (char)fold((unsigned char)name[j]);
    }
    s->v = v;
}

static void map_free(struct map *m)
{
    for (size_t i = 0; i <= m->mask; i++)
        free(m->slots[i].k);
    free(m->slots);
}

/* --- building the layers ---------------------------------------------------------------------- */

static void le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

/* Write N_LAYERS hive files prefix0..prefix4 holding keys[0..n) (key i in file i % N_LAYERS). */
static void write_layers(int dirfd, const char *prefix, char **keys, size_t n)
{
    size_t per = n / N_LAYERS + 1;
    hcs_reg_change *ch = calloc(per, sizeof(*ch));
    uint8_t *data = calloc(per, 4);
    if (ch == NULL || data == NULL)
        die("layers", NULL);
    for (size_t l = 0; l < N_LAYERS; l++) {
        size_t m = 0;
        for (size_t i = l; i < n; i += N_LAYERS, m++) {
            le32(data + 4 * m, (uint32_t)i);
            ch[m] = (hcs_reg_change){.op = HCS_REG_SET_VALUE,
                                     .hive = HCS_REG_HIVE_SYSTEM,
                                     .key = keys[i],
                                     .name = VALUE_NAME,
                                     .type = HCS_REG_DWORD,
                                     .data = data + 4 * m,
                                     .len = 4};
        }
        char name[64];
        snprintf(name, sizeof(name), "%s%zu", prefix, l);
        hcs_error *err = NULL;
        if (hcs_reg_hive_write(dirfd, name, HCS_REG_HIVE_SYSTEM, ch, m, &err) < 0)
            die(name, err);
    }
    free(ch);
    free(data);
}

static void open_layers(int dirfd, const char *prefix, hcs_reg_hive_file **files)
{
    for (size_t l = 0; l < N_LAYERS; l++) {
        char name[64];
        snprintf(name, sizeof(name), "%s%zu", prefix, l);
        hcs_error *err = NULL;
        if (hcs_reg_hive_open(dirfd, name, &files[l], &err) < 0)
            die(name, err);
    }
}

/* --- 1. lookups ------------------------------------------------------------------------------ */

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void bench_lookups(int dirfd, char **keys)
{
    double t0 = now();
    write_layers(dirfd, "big", keys, N_KEYS);
    double t_write = now() - t0;

    hcs_reg_hive_file *files[N_LAYERS];
    open_layers(dirfd, "big", files);
    hcs_reg_delta *delta = NULL;
    hcs_error *err = NULL;
    if (hcs_reg_delta_new_memory(&delta, &err) < 0)
        die("delta", err);

    struct map m = {.mask = (1u << 18) - 1};
    m.slots = calloc(m.mask + 1, sizeof(*m.slots));
    if (m.slots == NULL)
        die("map", NULL);
    for (size_t i = 0; i < N_KEYS; i++)
        map_put(&m, keys[i], VALUE_NAME, (uint32_t)i);

    /* The delta: 1,000 changed values of random existing keys, applied in batches of 100. */
    static uint8_t ddata[N_DELTA][4];
    hcs_reg_change ch[100];
    for (size_t b = 0; b < N_DELTA / 100; b++) {
        for (size_t j = 0; j < 100; j++) {
            size_t c = b * 100 + j, i = (size_t)(rnd() % N_KEYS);
            le32(ddata[c], (uint32_t)(N_KEYS + c));
            ch[j] = (hcs_reg_change){.op = HCS_REG_SET_VALUE,
                                     .hive = HCS_REG_HIVE_SYSTEM,
                                     .key = keys[i],
                                     .name = VALUE_NAME,
                                     .type = HCS_REG_DWORD,
                                     .data = ddata[c],
                                     .len = 4};
            map_put(&m, keys[i], VALUE_NAME, (uint32_t)(N_KEYS + c));
        }
        if (hcs_reg_delta_apply(delta, ch, 100, &err) < 0)
            die("delta apply", err);
    }

    hcs_reg_level levels[N_LAYERS + 1];
    levels[0] = hcs_reg_delta_level(delta);
    for (size_t l = 0; l < N_LAYERS; l++)
        levels[l + 1] = hcs_reg_hive_level(files[l]);
    hcs_reg_view *v = NULL;
    if (hcs_reg_view_new(levels, N_LAYERS + 1, &v, &err) < 0)
        die("view", err);

    /* The random sequence; and a check that both sides agree on every key. */
    size_t *seq = malloc(N_LOOKUPS * sizeof(*seq));
    if (seq == NULL)
        die("lookups", NULL);
    for (size_t i = 0; i < N_LOOKUPS; i++)
        seq[i] = (size_t)(rnd() % N_KEYS);
    for (size_t i = 0; i < N_KEYS; i++) {
        hcs_reg_value val;
        const struct slot *s = map_find(&m, keys[i], VALUE_NAME);
        if (hcs_reg_view_get(v, HCS_REG_HIVE_SYSTEM, keys[i], VALUE_NAME, &val) != 1 ||
            val.len != 4 || s->k == NULL || rd32(val.data) != s->v) {
            fprintf(stderr, "bench_registry: %s differs between the view and the map\n", keys[i]);
            die("lookups", NULL);
        }
    }

    double hcs[LOOKUP_ROUNDS], base[LOOKUP_ROUNDS];
    volatile uint32_t sink = 0;
    for (int r = 0; r < LOOKUP_ROUNDS; r++) {
        uint32_t acc = 0;
        double a = now();
        for (size_t i = 0; i < N_LOOKUPS; i++) {
            hcs_reg_value val;
            if (hcs_reg_view_get(v, HCS_REG_HIVE_SYSTEM, keys[seq[i]], VALUE_NAME, &val) != 1)
                die("view get", NULL);
            acc += val.data[0];
        }
        double b = now();
        for (size_t i = 0; i < N_LOOKUPS; i++) {
            const struct slot *s = map_find(&m, keys[seq[i]], VALUE_NAME);
            if (s->k == NULL)
                die("map get", NULL);
            acc += (uint8_t)s->v;
        }
        double c = now();
        sink += acc;
        hcs[r] = N_LOOKUPS / (b - a);
        base[r] = N_LOOKUPS / (c - b);
    }
    (void)sink;
    double hv = median(hcs, LOOKUP_ROUNDS), bv = median(base, LOOKUP_ROUNDS);
    printf("registry lookups, 100k keys over 5 layers + delta vs flat hash map [lookups/s]\t%.0f\t"
           "%.0f\t%.2f\n",
           hv, bv, hv / bv);
    printf("# registry lookups: writing the 5 hive files of 100k keys took %.0f ms\n",
           t_write * 1e3);

    free(seq);
    hcs_reg_view_free(v);
    hcs_reg_delta_close(delta);
    for (size_t l = 0; l < N_LAYERS; l++)
        hcs_reg_hive_close(files[l]);
    map_free(&m);
}

/* --- 2. view open ---------------------------------------------------------------------------- */

static double open_once(int dirfd, const char *prefix)
{
    hcs_reg_hive_file *files[N_LAYERS];
    hcs_reg_level levels[N_LAYERS];
    hcs_reg_view *v = NULL;
    hcs_error *err = NULL;
    double t0 = now();
    open_layers(dirfd, prefix, files);
    for (size_t l = 0; l < N_LAYERS; l++)
        levels[l] = hcs_reg_hive_level(files[l]);
    if (hcs_reg_view_new(levels, N_LAYERS, &v, &err) < 0)
        die("view", err);
    double t = now() - t0;
    hcs_reg_view_free(v);
    for (size_t l = 0; l < N_LAYERS; l++)
        hcs_reg_hive_close(files[l]);
    return t * 1e6;
}

static void bench_open(int dirfd, char **keys)
{
    write_layers(dirfd, "small", keys, N_SMALL);
    open_once(dirfd, "big");
    open_once(dirfd, "small");
    double big[OPEN_ROUNDS], small[OPEN_ROUNDS];
    for (int r = 0; r < OPEN_ROUNDS; r++) {
        big[r] = open_once(dirfd, "big");
        small[r] = open_once(dirfd, "small");
    }
    double bv = median(big, OPEN_ROUNDS), sv = median(small, OPEN_ROUNDS);
    printf("registry view open, 100k keys vs 1k keys [us]\t%.1f\t%.1f\t%.2f\n", bv, sv, bv / sv);
}

/* --- 3. delta apply -------------------------------------------------------------------------- */

static size_t apply_seq;

/* Apply batches of `batch` new values for about `seconds`; returns changes per second. */
static double apply_round(hcs_reg_delta *d, size_t batch, double seconds)
{
    static char keybuf[100][64];
    static uint8_t data[100][4];
    hcs_reg_change ch[100];
    size_t done = 0;
    double t0 = now(), t;
    do {
        for (size_t j = 0; j < batch; j++) {
            size_t i = apply_seq++;
            snprintf(keybuf[j], sizeof(keybuf[j]), "Software\\Bench\\Key%07zu", i);
            le32(data[j], (uint32_t)i);
            ch[j] = (hcs_reg_change){.op = HCS_REG_SET_VALUE,
                                     .hive = HCS_REG_HIVE_SOFTWARE,
                                     .key = keybuf[j],
                                     .name = VALUE_NAME,
                                     .type = HCS_REG_DWORD,
                                     .data = data[j],
                                     .len = 4};
        }
        hcs_error *err = NULL;
        if (hcs_reg_delta_apply(d, ch, batch, &err) < 0)
            die("delta apply", err);
        done += batch;
        t = now() - t0;
    } while (t < seconds);
    return (double)done / t;
}

/* The baseline: write() + fdatasync() of a record_len record per batch. */
static double write_round(int fd, size_t record_len, size_t batch, double seconds)
{
    static char buf[1 << 16];
    memset(buf, 'r', record_len);
    size_t done = 0;
    double t0 = now(), t;
    do {
        if (write(fd, buf, record_len) != (ssize_t)record_len || fdatasync(fd) < 0)
            die("baseline write", NULL);
        done += batch;
        t = now() - t0;
    } while (t < seconds);
    return (double)done / t;
}

static off_t file_size(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, 0) < 0)
        die(name, NULL);
    return st.st_size;
}

static void bench_apply(int dirfd, size_t batch, const char *label)
{
    char logname[64], basename_[64];
    snprintf(logname, sizeof(logname), "delta%zu.log", batch);
    snprintf(basename_, sizeof(basename_), "plain%zu.log", batch);
    hcs_reg_delta *d = NULL;
    hcs_error *err = NULL;
    if (hcs_reg_delta_open(dirfd, logname, &d, &err) < 0)
        die(logname, err);
    int fd = openat(dirfd, basename_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(basename_, NULL);

    /* Calibrate the record size: a few batches, the log's growth per batch. */
    off_t s0 = file_size(dirfd, logname);
    size_t before = apply_seq;
    apply_round(d, batch, 0.02);
    size_t batches = (apply_seq - before) / batch;
    size_t record_len = (size_t)(file_size(dirfd, logname) - s0) / (batches ? batches : 1);
    if (record_len == 0 || record_len > (1 << 16))
        record_len = 64 * batch;
    write_round(fd, record_len, batch, 0.02);

    double hcs[APPLY_ROUNDS], base[APPLY_ROUNDS];
    for (int r = 0; r < APPLY_ROUNDS; r++) {
        hcs[r] = apply_round(d, batch, APPLY_ROUND_SECONDS);
        base[r] = write_round(fd, record_len, batch, APPLY_ROUND_SECONDS);
    }
    double hv = median(hcs, APPLY_ROUNDS), bv = median(base, APPLY_ROUNDS);
    printf("%s [changes/s]\t%.0f\t%.0f\t%.2f\n", label, hv, bv, hv / bv);
    printf("# %s: log records of %zu bytes per batch\n", label, record_len);
    close(fd);
    hcs_reg_delta_close(d);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/hcs-bench-registry.XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("bench_registry: mkdtemp");
        return 1;
    }
    int dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        die(tmpdir, NULL);

    char **keys = malloc(N_KEYS * sizeof(*keys));
    if (keys == NULL)
        die("keys", NULL);
    for (size_t i = 0; i < N_KEYS; i++)
        keys[i] = key_name(i);

    bench_lookups(dirfd, keys);
    bench_open(dirfd, keys);
    bench_apply(dirfd, 1, "registry delta apply, 1 change per batch (fsync each)");
    bench_apply(dirfd, 100, "registry delta apply, 100 changes per batch (fsync each)");

    printf("# registry lookups: baseline = open-addressing hash map (FNV-1a of case-folded "
           "key\\name) of the same pairs, same random sequence\n");
    printf("# registry view open: value = 5 hive files of 100k keys in all, baseline = 1k keys; "
           "median of %d opens each (hcs_reg_hive_open x5 + hcs_reg_view_new)\n",
           OPEN_ROUNDS);
    printf("# registry delta apply: baseline = write() + fdatasync() of a record of the same "
           "size per batch, same folder\n");

    for (size_t i = 0; i < N_KEYS; i++)
        free(keys[i]);
    free(keys);
    close(dirfd);
    cleanup();
    return 0;
}
