/*
 * test_union_random.c - the union against a flat model, on random histories.
 *
 * A history is a few levels of random changes over a small key space (so that changes collide:
 * deletes of keys with content below, re-creations, value tombstones, mixed case). The lower
 * levels become hive files (hcs_reg_hive_write), the top one a delta. Applying every level's
 * changes in order, bottom first, to a flat model must give what the view shows: for every key
 * of the space, whether it exists, its values and its subkeys. A mismatch prints the seed and
 * the history, so that it can be replayed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "registry/registry.h"

#define SYS HCS_REG_HIVE_SYSTEM
#define N_LEVELS 4   /* 3 hive files and the delta */
#define N_CHANGES 24 /* per level */
#define N_HISTORIES 500
#define MAX_KEYS 64
#define MAX_VALUES 256

static int root_fd = -1;

static void setup(void)
{
    hcs_test_roots_setup();
    root_fd = open(hcs_test_root(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
    close(root_fd);
    root_fd = -1;
    hcs_test_roots_teardown();
}

/* --- the key space: components a, B, c; depth 1 to 3 (39 keys) -------------------------------- */

static const char *const comps[] = {"a", "B", "c"};
static const char *const names[] = {"", "x", "Y"};
static char space[MAX_KEYS][16];
static size_t n_space;

static void build_space(void)
{
    n_space = 0;
    for (size_t i = 0; i < 3; i++) {
        snprintf(space[n_space++], 16, "%s", comps[i]);
        for (size_t j = 0; j < 3; j++) {
            snprintf(space[n_space++], 16, "%s\\%s", comps[i], comps[j]);
            for (size_t k = 0; k < 3; k++)
                snprintf(space[n_space++], 16, "%s\\%s\\%s", comps[i], comps[j], comps[k]);
        }
    }
}

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* A key of the space in a random spelling (case only). */
static void random_key(char *out)
{
    strcpy(out, space[rnd((unsigned)n_space)]);
    for (char *p = out; *p; p++)
        if (rnd(2))
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
}

/* --- the flat model -----------------------------------------------------------------------------
 */

struct mvalue {
    char key[16], name[4], data[16];
};

static struct {
    bool exists[MAX_KEYS];
    struct mvalue values[MAX_VALUES];
    size_t n_values;
} model;

static int space_index(const char *key)
{
    for (size_t i = 0; i < n_space; i++)
        if (strcasecmp(space[i], key) == 0)
            return (int)i;
    return -1;
}

/* Is key at or below (strictly when strict) anc? Case-insensitive. */
static bool under(const char *key, const char *anc, bool strict)
{
    size_t n = strlen(anc);
    if (strncasecmp(key, anc, n) != 0)
        return false;
    return key[n] == '\\' || (!strict && key[n] == '\0');
}

static void model_create(const char *key)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%s", key);
    for (;;) {
        model.exists[space_index(buf)] = true;
        char *sep = strrchr(buf, '\\');
        if (sep == NULL)
            return;
        *sep = '\0';
    }
}

static void model_apply(const hcs_reg_change *c)
{
    switch (c->op) {
    case HCS_REG_CREATE_KEY:
        model_create(c->key);
        break;
    case HCS_REG_SET_VALUE:
        model_create(c->key);
        for (size_t i = 0; i < model.n_values; i++)
            if (strcasecmp(model.values[i].key, c->key) == 0 &&
                strcasecmp(model.values[i].name, c->name) == 0) {
                memcpy(model.values[i].data, c->data, c->len);
                model.values[i].data[c->len] = '\0';
                return;
            }
        ck_assert_uint_lt(model.n_values, MAX_VALUES);
        struct mvalue *v = &model.values[model.n_values++];
        snprintf(v->key, sizeof(v->key), "%s", c->key);
        snprintf(v->name, sizeof(v->name), "%s", c->name);
        memcpy(v->data, c->data, c->len);
        v->data[c->len] = '\0';
        break;
    case HCS_REG_DELETE_VALUE:
        for (size_t i = 0; i < model.n_values; i++)
            if (strcasecmp(model.values[i].key, c->key) == 0 &&
                strcasecmp(model.values[i].name, c->name) == 0)
                model.values[i] = model.values[--model.n_values];
        break;
    case HCS_REG_DELETE_KEY:
        for (size_t i = 0; i < n_space; i++)
            if (under(space[i], c->key, false))
                model.exists[i] = false;
        for (size_t i = model.n_values; i-- > 0;)
            if (under(model.values[i].key, c->key, false))
                model.values[i] = model.values[--model.n_values];
        break;
    }
}

/* --- histories ----------------------------------------------------------------------------------
 */

struct history {
    size_t n[N_LEVELS]; /* changes per level: 2 to N_CHANGES (sparse ones leave keys alone) */
    hcs_reg_change c[N_LEVELS][N_CHANGES];
    char keys[N_LEVELS][N_CHANGES][16];
    char data[N_LEVELS][N_CHANGES][16];
};

static void random_history(struct history *h)
{
    for (size_t l = 0; l < N_LEVELS; l++) {
        h->n[l] = 2 + rnd(N_CHANGES - 1);
        for (size_t i = 0; i < h->n[l]; i++) {
            random_key(h->keys[l][i]);
            unsigned r = rnd(10);
            enum hcs_reg_op op = r < 5   ? HCS_REG_SET_VALUE
                                 : r < 6 ? HCS_REG_CREATE_KEY
                                 : r < 8 ? HCS_REG_DELETE_VALUE
                                         : HCS_REG_DELETE_KEY;
            int len = snprintf(h->data[l][i], 16, "v%zu.%zu", l, i);
            h->c[l][i] = (hcs_reg_change){.op = op,
                                          .hive = SYS,
                                          .key = h->keys[l][i],
                                          .name = names[rnd(3)],
                                          .type = HCS_REG_SZ,
                                          .data = (const uint8_t *)h->data[l][i],
                                          .len = (size_t)len};
            if (op == HCS_REG_CREATE_KEY || op == HCS_REG_DELETE_KEY)
                h->c[l][i].name = NULL;
            if (op != HCS_REG_SET_VALUE) {
                h->c[l][i].data = NULL;
                h->c[l][i].len = 0;
                h->c[l][i].type = 0;
            }
        }
    }
}

static const char *op_text(enum hcs_reg_op op)
{
    return op == HCS_REG_SET_VALUE    ? "set"
           : op == HCS_REG_CREATE_KEY ? "create"
           : op == HCS_REG_DELETE_KEY ? "delete-key"
                                      : "delete-value";
}

static void print_history(uint64_t seed, const struct history *h)
{
    fprintf(stderr, "# history of seed %llu (level 0 lowest; the last is the delta):\n",
            (unsigned long long)seed);
    for (size_t l = 0; l < N_LEVELS; l++)
        for (size_t i = 0; i < h->n[l]; i++) {
            const hcs_reg_change *c = &h->c[l][i];
            fprintf(stderr, "#   %zu: %s %s %s %.*s\n", l, op_text(c->op), c->key,
                    c->name ? c->name : "", (int)c->len, c->data ? (const char *)c->data : "");
        }
}

/* --- what the view shows ------------------------------------------------------------------------
 */

struct listing {
    char text[2048];
    size_t len;
};

static void add_line(struct listing *l, const char *a, const char *b)
{
    int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s=%s\n", a, b);
    ck_assert_int_gt(n, 0);
    l->len += (size_t)n;
    ck_assert_uint_lt(l->len, sizeof(l->text));
}

static int on_subkey(void *ctx, const char *name)
{
    char up[16];
    snprintf(up, sizeof(up), "%s", name);
    for (char *p = up; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    add_line(ctx, up, "");
    return 0;
}

static int on_value(void *ctx, const hcs_reg_value *v)
{
    char up[4], data[16];
    snprintf(up, sizeof(up), "%s", v->name);
    for (char *p = up; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    snprintf(data, sizeof(data), "%.*s", (int)v->len, (const char *)v->data);
    add_line(ctx, up, data);
    return 0;
}

/* The model's listing of key, in the view's order (names folded, compared as the view sorts). */
static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sorted_listing(struct listing *out, char **lines, size_t n)
{
    qsort(lines, n, sizeof(*lines), line_cmp);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(lines[i]);
        memcpy(out->text + out->len, lines[i], len);
        out->len += len;
        free(lines[i]);
    }
    out->text[out->len] = '\0';
}

static void model_subkeys(const char *key, struct listing *out)
{
    char *lines[MAX_KEYS];
    size_t n = 0;
    size_t skip = key[0] == '\0' ? 0 : strlen(key) + 1; /* the root's children: no separator */
    for (size_t i = 0; i < n_space; i++) {
        if (!model.exists[i] || (skip > 0 && !under(space[i], key, true)) ||
            strchr(space[i] + skip, '\\') != NULL)
            continue;
        char up[16];
        snprintf(up, sizeof(up), "%s", space[i] + skip);
        for (char *p = up; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        lines[n] = malloc(32);
        snprintf(lines[n++], 32, "%s=\n", up);
    }
    sorted_listing(out, lines, n);
}

static void model_values(const char *key, struct listing *out)
{
    char *lines[MAX_VALUES];
    size_t n = 0;
    for (size_t i = 0; i < model.n_values; i++) {
        if (strcasecmp(model.values[i].key, key) != 0)
            continue;
        char up[4];
        snprintf(up, sizeof(up), "%s", model.values[i].name);
        for (char *p = up; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        lines[n] = malloc(32);
        snprintf(lines[n++], 32, "%s=%s\n", up, model.values[i].data);
    }
    sorted_listing(out, lines, n);
}

static bool check_history(uint64_t seed)
{
    rng = seed;
    struct history *h = calloc(1, sizeof(*h));
    random_history(h);
    memset(&model, 0, sizeof(model));
    hcs_reg_hive_file *files[N_LEVELS - 1] = {0};
    hcs_reg_delta *delta = NULL;
    hcs_error *err = NULL;
    for (size_t l = 0; l < N_LEVELS - 1; l++) {
        char name[32];
        snprintf(name, sizeof(name), "level%zu", l);
        ck_assert_msg(hcs_reg_hive_write(root_fd, name, SYS, h->c[l], h->n[l], &err) == 0, "%s",
                      err ? err->message : "");
        ck_assert_int_eq(hcs_reg_hive_open(root_fd, name, &files[l], &err), 0);
        ck_assert_int_eq(hcs_reg_hive_verify(files[l], &err), 0);
    }
    ck_assert_int_eq(hcs_reg_delta_new_memory(&delta, &err), 0);
    ck_assert_int_eq(hcs_reg_delta_apply(delta, h->c[N_LEVELS - 1], h->n[N_LEVELS - 1], &err), 0);
    for (size_t l = 0; l < N_LEVELS; l++)
        for (size_t i = 0; i < h->n[l]; i++)
            model_apply(&h->c[l][i]);

    hcs_reg_level levels[N_LEVELS];
    levels[0] = hcs_reg_delta_level(delta);
    for (size_t l = 0; l < N_LEVELS - 1; l++)
        levels[l + 1] = hcs_reg_hive_level(files[N_LEVELS - 2 - l]);
    hcs_reg_view *v = NULL;
    ck_assert_int_eq(hcs_reg_view_new(levels, N_LEVELS, &v, &err), 0);

    bool ok = true;
    for (size_t i = 0; i <= n_space && ok; i++) {
        const char *key = i < n_space ? space[i] : "";
        bool exists = i < n_space ? model.exists[i] : true;
        if (hcs_reg_view_key_exists(v, SYS, key) != exists) {
            fprintf(stderr, "# %s: the view says it %s\n", key, exists ? "is missing" : "exists");
            ok = false;
            break;
        }
        struct listing got = {0}, want = {0};
        ck_assert_int_eq(hcs_reg_view_subkeys(v, SYS, key, on_subkey, &got), 0);
        model_subkeys(key, &want);
        if (strcmp(got.text, want.text) != 0) {
            fprintf(stderr, "# subkeys of \"%s\": view\n%s# model\n%s", key, got.text, want.text);
            ok = false;
        }
        struct listing vgot = {0}, vwant = {0};
        ck_assert_int_eq(hcs_reg_view_values(v, SYS, key, on_value, &vgot), 0);
        model_values(key, &vwant);
        if (strcmp(vgot.text, vwant.text) != 0) {
            fprintf(stderr, "# values of \"%s\": view\n%s# model\n%s", key, vgot.text, vwant.text);
            ok = false;
        }
        /* Each value the model has is found by a direct lookup too, in any spelling. */
        for (size_t j = 0; j < model.n_values && ok; j++) {
            if (strcasecmp(model.values[j].key, key) != 0)
                continue;
            hcs_reg_value val;
            if (hcs_reg_view_get(v, SYS, key, model.values[j].name, &val) != 1 ||
                val.len != strlen(model.values[j].data) ||
                memcmp(val.data, model.values[j].data, val.len) != 0) {
                fprintf(stderr, "# get \"%s\" \"%s\" does not give %s\n", key, model.values[j].name,
                        model.values[j].data);
                ok = false;
            }
        }
    }
    if (!ok)
        print_history(seed, h);
    hcs_reg_view_free(v);
    hcs_reg_delta_close(delta);
    for (size_t l = 0; l < N_LEVELS - 1; l++)
        hcs_reg_hive_close(files[l]);
    free(h);
    hcs_err_free(err);
    return ok;
}

/*
 * Creating a\\b\\c creates a and a\\b (as in Windows); deleting a\\b\\c afterwards, in the same
 * level, leaves them. Checked for a hive file and for a delta, over a lower level.
 */
START_TEST(union__a_deleted_keys_parent_outlives_it_in_the_same_level)
{
    static const uint8_t one[] = "1";
    hcs_reg_change lower[] = {
        {.op = HCS_REG_SET_VALUE,
         .hive = SYS,
         .key = "x\\y\\z",
         .name = "v",
         .type = HCS_REG_SZ,
         .data = one,
         .len = 1},
    };
    hcs_reg_change upper[] = {
        {.op = HCS_REG_SET_VALUE,
         .hive = SYS,
         .key = "a\\b\\c",
         .name = "v",
         .type = HCS_REG_SZ,
         .data = one,
         .len = 1},
        {.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = "A\\B\\C"},
        /* Under a key deleted and re-created in this level, hiding the lower x\\y\\z. */
        {.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = "x"},
        {.op = HCS_REG_CREATE_KEY, .hive = SYS, .key = "x\\y\\q\\r"},
        {.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = "x\\y\\q"},
        /* Deleting what never existed creates nothing. */
        {.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = "n\\o"},
    };
    hcs_error *err = NULL;
    hcs_reg_hive_file *low = NULL, *up = NULL;
    hcs_reg_delta *delta = NULL;
    ck_assert_int_eq(hcs_reg_hive_write(root_fd, "low", SYS, lower, 1, &err), 0);
    ck_assert_int_eq(hcs_reg_hive_write(root_fd, "up", SYS, upper, 6, &err), 0);
    ck_assert_int_eq(hcs_reg_hive_open(root_fd, "low", &low, &err), 0);
    ck_assert_int_eq(hcs_reg_hive_open(root_fd, "up", &up, &err), 0);
    ck_assert_int_eq(hcs_reg_delta_new_memory(&delta, &err), 0);
    ck_assert_int_eq(hcs_reg_delta_apply(delta, upper, 6, &err), 0);
    for (int as_delta = 0; as_delta < 2; as_delta++) {
        hcs_reg_level levels[2] = {as_delta ? hcs_reg_delta_level(delta) : hcs_reg_hive_level(up),
                                   hcs_reg_hive_level(low)};
        hcs_reg_view *v = NULL;
        ck_assert_int_eq(hcs_reg_view_new(levels, 2, &v, &err), 0);
        const char *const present[] = {"a", "a\\b", "x", "x\\y"};
        const char *const absent[] = {"a\\b\\c", "x\\y\\z", "x\\y\\q", "n", "n\\o"};
        for (size_t i = 0; i < 4; i++)
            ck_assert_msg(hcs_reg_view_key_exists(v, SYS, present[i]), "%s: %s is missing",
                          as_delta ? "delta" : "hive file", present[i]);
        for (size_t i = 0; i < 5; i++)
            ck_assert_msg(!hcs_reg_view_key_exists(v, SYS, absent[i]), "%s: %s exists",
                          as_delta ? "delta" : "hive file", absent[i]);
        hcs_reg_view_free(v);
    }
    hcs_reg_delta_close(delta);
    hcs_reg_hive_close(low);
    hcs_reg_hive_close(up);
}
END_TEST

START_TEST(union__random_histories_match_a_flat_model)
{
    build_space();
    /* HCS_TEST_SEED replays one history. */
    const char *env = getenv("HCS_TEST_SEED");
    if (env != NULL) {
        ck_assert_msg(check_history(strtoull(env, NULL, 10)), "seed %s", env);
        return;
    }
    for (uint64_t s = 1; s <= N_HISTORIES; s++)
        ck_assert_msg(check_history(s * 0x9e3779b97f4a7c15ull), "seed %llu (HCS_TEST_SEED=%llu)",
                      (unsigned long long)s, (unsigned long long)(s * 0x9e3779b97f4a7c15ull));
}
END_TEST

HCS_TEST_SUITE(registry_union_random_suite)
{
    Suite *s = suite_create("registry_union_random");
    TCase *tc = tcase_create("union_random");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, union__a_deleted_keys_parent_outlives_it_in_the_same_level);
    tcase_add_test(tc, union__random_histories_match_a_flat_model);
    suite_add_tcase(s, tc);
    return s;
}
