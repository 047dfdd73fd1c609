/*
 * view.c - the union of a stack of registry levels (nearest first), by the rules of
 * registry.h: the nearest record decides, an OPAQUE key (or ancestor) at a level hides every
 * level below it, tombstones drop what they cover.
 *
 * Nothing is cached: each lookup asks the levels (O(levels x depth x log records)). An
 * enumeration collects the key's children or values from each level it merges, sorts them by
 * name then level, and keeps the nearest record of each name.
 */
#include <stdlib.h>
#include <string.h>

#include "hive_internal.h"
#include "registry.h"

struct hcs_reg_view {
    size_t n;
    hcs_reg_level levels[];
};

int hcs_reg_view_new(const hcs_reg_level *levels, size_t n, hcs_reg_view **out, hcs_error **err)
{
    *out = NULL;
    if (n > 0 && levels == NULL)
        return hcs_err_set(err, E_INVALIDARG, "a registry view of %zu levels without levels", n);
    for (size_t i = 0; i < n; i++)
        if (levels[i].ops == NULL)
            return hcs_err_set(err, E_INVALIDARG, "registry view level %zu has no operations", i);
    hcs_reg_view *v = malloc(sizeof(*v) + n * sizeof(v->levels[0]));
    if (v == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    v->n = n;
    if (n > 0)
        memcpy(v->levels, levels, n * sizeof(levels[0]));
    *out = v;
    return 0;
}

void hcs_reg_view_free(hcs_reg_view *v)
{
    free(v);
}

/* A writable copy of a key, on the stack when short. */
struct key_buf {
    char small[512];
    char *s;
};

static bool key_buf_init(struct key_buf *b, const char *key)
{
    size_t len = strlen(key);
    b->s = len < sizeof(b->small) ? b->small : malloc(len + 1);
    if (b->s != NULL)
        memcpy(b->s, key, len + 1);
    return b->s != NULL;
}

static void key_buf_free(struct key_buf *b)
{
    if (b->s != b->small)
        free(b->s);
}

/* Whether key (b, restored on return) or one of its ancestors is OPAQUE at level l. */
static bool opaque_at(const hcs_reg_level *l, enum hcs_reg_hive h, struct key_buf *b)
{
    if (l->ops->may_be_opaque != NULL && !l->ops->may_be_opaque(l->self, h))
        return false;
    if (l->ops->key(l->self, h, "", NULL) & HCS_REG_KEY_OPAQUE)
        return true;
    if (b->s[0] == '\0')
        return false;
    for (char *p = b->s;; p++) {
        if (*p != '\\' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        bool opaque = (l->ops->key(l->self, h, b->s, NULL) & HCS_REG_KEY_OPAQUE) != 0;
        *p = c;
        if (opaque)
            return true;
        if (c == '\0')
            break;
    }
    return false;
}

bool hcs_reg_view_key_exists(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key)
{
    if (key == NULL || (unsigned)h >= HCS_REG_N_HIVES)
        return false;
    if (key[0] == '\0')
        return true; /* a hive's root always exists */
    struct key_buf b;
    if (!key_buf_init(&b, key))
        return false;
    bool found = false;
    for (size_t i = 0; i < v->n; i++) {
        const hcs_reg_level *l = &v->levels[i];
        bool below = false;
        unsigned bits = l->ops->key(l->self, h, key, &below);
        if ((bits & HCS_REG_KEY_PRESENT) || below) {
            found = true;
            break;
        }
        if ((bits & HCS_REG_KEY_OPAQUE) || opaque_at(l, h, &b))
            break;
    }
    key_buf_free(&b);
    return found;
}

int hcs_reg_view_get(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key, const char *name,
                     hcs_reg_value *out)
{
    memset(out, 0, sizeof(*out));
    if (key == NULL || name == NULL || (unsigned)h >= HCS_REG_N_HIVES)
        return 0;
    struct key_buf b;
    if (!key_buf_init(&b, key))
        return -1;
    int found = 0;
    uint32_t hash = hcs_reg_key_hash(key);
    for (size_t i = 0; i < v->n; i++) {
        const hcs_reg_level *l = &v->levels[i];
        hcs_reg_value rec;
        int r = l->ops->value_hashed != NULL
                    ? l->ops->value_hashed(l->self, h, key, hash, name, &rec)
                    : l->ops->value(l->self, h, key, name, &rec);
        if (r == 1) {
            if (!rec.deleted) {
                *out = rec;
                found = 1;
            }
            break;
        }
        if (opaque_at(l, h, &b))
            break;
    }
    key_buf_free(&b);
    return found;
}

/* --- enumeration ----------------------------------------------------------------------------- */

/* One level's record of a name: a child key (bits) or a value (copied). */
struct item {
    char *name;
    size_t level;
    unsigned bits;
    uint32_t type;
    uint8_t *data;
    size_t len;
    bool deleted;
};

struct items {
    struct item *v;
    size_t n, cap;
    size_t level; /* the level being collected */
    bool oom;
};

static void items_free(struct items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].name);
        free(it->v[i].data);
    }
    free(it->v);
}

static struct item *items_add(struct items *it, const char *name)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 16;
        struct item *v = realloc(it->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        it->v = v;
        it->cap = cap;
    }
    struct item *x = &it->v[it->n];
    memset(x, 0, sizeof(*x));
    if ((x->name = strdup(name)) == NULL)
        return NULL;
    x->level = it->level;
    it->n++;
    return x;
}

static int collect_key(void *ctx, const char *name, unsigned bits)
{
    struct items *it = ctx;
    struct item *x = items_add(it, name);
    if (x == NULL) {
        it->oom = true;
        return -1;
    }
    x->bits = bits;
    return 0;
}

static int collect_value(void *ctx, const hcs_reg_value *val)
{
    struct items *it = ctx;
    struct item *x = items_add(it, val->name);
    if (x == NULL || (val->len > 0 && (x->data = malloc(val->len)) == NULL)) {
        it->oom = true;
        return -1;
    }
    if (val->len > 0)
        memcpy(x->data, val->data, val->len);
    x->type = val->type;
    x->len = val->len;
    x->deleted = val->deleted;
    return 0;
}

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = hcs_reg_name_cmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->level < y->level ? -1 : x->level > y->level;
}

/*
 * Collect the records of key's children (values when values is true) from each level down to
 * the first where key or an ancestor is OPAQUE, sorted by name then level. -1 when out of memory.
 */
static int collect(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key, bool values,
                   struct items *it)
{
    memset(it, 0, sizeof(*it));
    if (key == NULL || (unsigned)h >= HCS_REG_N_HIVES)
        return 0;
    struct key_buf b;
    if (!key_buf_init(&b, key))
        return -1;
    for (size_t i = 0; i < v->n; i++) {
        const hcs_reg_level *l = &v->levels[i];
        it->level = i;
        int r = values ? l->ops->values(l->self, h, key, collect_value, it)
                       : l->ops->subkeys(l->self, h, key, collect_key, it);
        if (r != 0) /* only our callbacks stop a walk: out of memory */
            it->oom = true;
        if (it->oom || opaque_at(l, h, &b))
            break;
    }
    key_buf_free(&b);
    if (it->oom)
        return -1;
    if (it->n > 1)
        qsort(it->v, it->n, sizeof(it->v[0]), item_cmp);
    return 0;
}

int hcs_reg_view_subkeys(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key,
                         int (*fn)(void *ctx, const char *name), void *ctx)
{
    struct items it;
    int r = collect(v, h, key, false, &it);
    for (size_t i = 0; r == 0 && i < it.n; i++) {
        const struct item *x = &it.v[i];
        if (i > 0 && hcs_reg_name_cmp(x->name, it.v[i - 1].name) == 0)
            continue; /* a farther level's record of the same name */
        bool tombstone = (x->bits & HCS_REG_KEY_OPAQUE) && !(x->bits & HCS_REG_KEY_PRESENT);
        if (!tombstone)
            r = fn(ctx, x->name);
    }
    items_free(&it);
    return r;
}

int hcs_reg_view_values(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key,
                        int (*fn)(void *ctx, const hcs_reg_value *val), void *ctx)
{
    struct items it;
    int r = collect(v, h, key, true, &it);
    for (size_t i = 0; r == 0 && i < it.n; i++) {
        const struct item *x = &it.v[i];
        if ((i > 0 && hcs_reg_name_cmp(x->name, it.v[i - 1].name) == 0) || x->deleted)
            continue;
        hcs_reg_value val = {.name = x->name, .type = x->type, .data = x->data, .len = x->len};
        r = fn(ctx, &val);
    }
    items_free(&it);
    return r;
}
