/*
 * delta.c - a compute system's writable registry level: an append-only, checksummed log of
 * change batches on disk, replayed at open into a sorted in-memory level.
 *
 * File: a 16-byte header ("HCSDLOG\0", u32 version, u32 zero), then records, each
 *   u32 payload length, u32 CRC-32C of the payload, payload
 * and a payload is one batch: u32 count, then per change
 *   u8 op, u8 hive, u32 type, u32 key length, key, NUL, u32 name length, name, NUL,
 *   u32 data length, data
 * (all little-endian). A record is written with one write and fsync'd before the batch is
 * applied in memory. At open, the first truncated or corrupt record and everything after it
 * are dropped (a torn write at a crash), with a warning.
 *
 * Memory: per hive, three skip lists ordered by hcs_reg_key_cmp (then hcs_reg_name_cmp for
 * values): key records that exist (PRESENT, maybe OPAQUE), key tombstones (OPAQUE only) and
 * value records (present or tombstones). Invariants kept by apply_one:
 *   - nothing is recorded at or below a tombstone other than the tombstone itself;
 *   - every present value's key has a PRESENT key record, so the existence of a key at this
 *     level ("has_below", implied children) follows from the first list alone; tombstones
 *     never imply that their parents exist;
 *   - a name is spelled the same in every record of a hive (as first created).
 * Lookups, inserts and removals are O(log n); a subtree removal is O(k log n).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "hive_internal.h"
#include "registry.h"

#define LOG_MAGIC "HCSDLOG"
#define LOG_VERSION 1u
#define LOG_HEADER 16
#define REC_HEADER 8
#define REC_MAX (1u << 30) /* largest payload written or read */
#define CHANGE_MIN 20u     /* op, hive, type, three lengths, two NULs */
#define SL_MAX 24          /* levels: enough for 4^24 records */

/* --- skip lists ------------------------------------------------------------------------------ */

struct node {
    char *key;
    char *name; /* value records */
    uint8_t *data;
    size_t len;
    uint32_t type;
    unsigned bits; /* key records */
    bool deleted;  /* value records */
    int height;
    struct node *next[];
};

struct slist {
    struct node *head; /* a sentinel with SL_MAX links */
    int height;        /* levels in use */
};

struct hive_level {
    struct slist live;   /* key records with PRESENT */
    struct slist tomb;   /* key records with OPAQUE only */
    struct slist values; /* value records */
    bool opaque_seen;    /* a key tombstone was ever recorded (lookups check ancestors) */
    /*
     * The hashes (hcs_reg_key_hash, 0 stored as 1) of every key a change ever named: exact
     * lookups of a key whose hash is not here skip the lists. Open addressing, 0 empty, at most
     * half full; never shrinks (a hash left by a removed record only costs a list search).
     */
    uint32_t *seen;
    size_t seen_n, seen_cap;
};

struct hcs_reg_delta {
    struct hive_level hives[HCS_REG_N_HIVES];
    uint64_t rng;
    int fd; /* -1: memory only */
    off_t end;
    char *name;
};

/* A monotone predicate over a list's order: true for the nodes before the target position. */
typedef bool (*sl_before)(const struct node *n, const char *key, const char *name);

static int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether x is key k (klen bytes) or below it, case-insensitively. */
static bool is_under(const char *x, const char *k, size_t klen)
{
    for (size_t i = 0; i < klen; i++)
        if (fold((unsigned char)x[i]) != fold((unsigned char)k[i]))
            return false; /* also stops at x's NUL, since k has none before klen */
    return klen == 0 || x[klen] == '\0' || x[klen] == '\\';
}

static bool is_strictly_under(const char *x, const char *k, size_t klen)
{
    return is_under(x, k, klen) && x[klen] != '\0' && (klen == 0 || x[klen + 1] != '\0');
}

static bool before_key(const struct node *n, const char *key, const char *name)
{
    (void)name;
    return hcs_reg_key_cmp(n->key, key) < 0;
}

static bool before_key_incl(const struct node *n, const char *key, const char *name)
{
    (void)name;
    return hcs_reg_key_cmp(n->key, key) <= 0;
}

/* Before the first node after key's subtree. */
static bool before_subtree_end(const struct node *n, const char *key, const char *name)
{
    (void)name;
    return hcs_reg_key_cmp(n->key, key) < 0 || is_under(n->key, key, strlen(key));
}

static bool before_value(const struct node *n, const char *key, const char *name)
{
    int c = hcs_reg_key_cmp(n->key, key);
    return c < 0 || (c == 0 && hcs_reg_name_cmp(n->name, name) < 0);
}

static int sl_init(struct slist *l)
{
    l->head = calloc(1, sizeof(struct node) + SL_MAX * sizeof(struct node *));
    l->height = 1;
    return l->head != NULL ? 0 : -1;
}

static void sl_free(struct slist *l)
{
    if (l->head == NULL)
        return;
    struct node *n = l->head->next[0];
    while (n != NULL) {
        struct node *next = n->next[0];
        free(n);
        n = next;
    }
    free(l->head);
    l->head = NULL;
}

/* The first node for which before is false; update[] (optional) gets its predecessors. */
static struct node *sl_seek(const struct slist *l, sl_before before, const char *key,
                            const char *name, struct node **update)
{
    struct node *x = l->head;
    for (int i = SL_MAX - 1; i >= 0; i--) {
        if (i < l->height)
            while (x->next[i] != NULL && before(x->next[i], key, name))
                x = x->next[i];
        if (update != NULL)
            update[i] = x;
    }
    return x->next[0];
}

static void sl_link(struct slist *l, struct node *n, struct node **update)
{
    for (int i = 0; i < n->height; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
    }
    if (n->height > l->height)
        l->height = n->height;
}

/* Unlink n, which must be update[0]->next[0]. */
static void sl_unlink(struct node *n, struct node **update)
{
    for (int i = 0; i < n->height; i++)
        update[i]->next[i] = n->next[i];
}

static void sl_insert(struct slist *l, struct node *n, sl_before before)
{
    struct node *update[SL_MAX];
    sl_seek(l, before, n->key, n->name, update);
    sl_link(l, n, update);
}

/* Unlink and free every node at and below key. */
static void sl_remove_under(struct slist *l, const char *key)
{
    struct node *update[SL_MAX];
    size_t klen = strlen(key);
    struct node *n = sl_seek(l, before_key, key, NULL, update);
    while (n != NULL && is_under(n->key, key, klen)) {
        struct node *next = n->next[0];
        sl_unlink(n, update);
        free(n);
        n = next;
    }
}

static int random_height(hcs_reg_delta *d)
{
    /* xorshift64: enough to balance the lists, no global state. */
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    uint64_t r = d->rng;
    int h = 1;
    while (h < SL_MAX && (r & 3) == 0) {
        h++;
        r >>= 2;
    }
    return h;
}

static struct node *node_new(hcs_reg_delta *d, const char *key, const char *name, uint32_t type,
                             const uint8_t *data, size_t len)
{
    int h = random_height(d);
    size_t klen = strlen(key), nlen = name != NULL ? strlen(name) : 0;
    size_t links = (size_t)h * sizeof(struct node *);
    struct node *n = malloc(sizeof(*n) + links + klen + 1 + nlen + 1 + len);
    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof(*n) + links);
    char *p = (char *)n->next + links;
    n->key = memcpy(p, key, klen + 1);
    p += klen + 1;
    n->name = name != NULL ? memcpy(p, name, nlen + 1) : NULL;
    p += nlen + 1;
    n->data = len > 0 ? memcpy(p, data, len) : NULL;
    n->len = len;
    n->type = type;
    n->height = h;
    return n;
}

/* --- applying changes in memory --------------------------------------------------------------- */

/* The length of the longest common component prefix of a and b (case-insensitive). */
static size_t common_prefix(const char *a, const char *b)
{
    size_t i = 0, last = 0;
    while (a[i] != '\0' && fold((unsigned char)a[i]) == fold((unsigned char)b[i])) {
        if (a[i] == '\\')
            last = i;
        i++;
    }
    if ((a[i] == '\0' || a[i] == '\\') && (b[i] == '\0' || b[i] == '\\'))
        return i;
    return last;
}

/* Respell s (in place) as the nodes around its place in a list spell its leading components. */
static void respell_from(const struct slist *l, const struct node *pred, const struct node *next,
                         char *s)
{
    if (pred != NULL && pred != l->head)
        memcpy(s, pred->key, common_prefix(s, pred->key));
    if (next != NULL)
        memcpy(s, next->key, common_prefix(s, next->key));
}

/*
 * Respell key s (in place) as the records of this hive spell its leading components: keys that
 * share a component prefix with s are next to its place in the order, and agree on its
 * spelling. live_update: the predecessors of s in the live list when known, else NULL.
 */
static void respell(const struct hive_level *hl, char *s, struct node *const *live_update)
{
    struct node *update[SL_MAX];
    const struct node *next = sl_seek(&hl->tomb, before_key, s, NULL, update);
    respell_from(&hl->tomb, update[0], next, s);
    if (live_update == NULL) {
        next = sl_seek(&hl->live, before_key, s, NULL, update);
        live_update = update;
    } else {
        next = live_update[0]->next[0];
    }
    respell_from(&hl->live, live_update[0], next, s);
}

/* The tombstone at or above key, if any (there is at most one: nothing lies below one). */
static struct node *tomb_covering(const struct hive_level *hl, const char *key)
{
    struct node *update[SL_MAX];
    sl_seek(&hl->tomb, before_key_incl, key, NULL, update);
    struct node *t = update[0];
    if (t == hl->tomb.head || !is_under(key, t->key, strlen(t->key)))
        return NULL;
    return t;
}

/* A tombstoned key gets content again: it exists and still hides the levels below. */
static void revive(struct hive_level *hl, struct node *t)
{
    struct node *update[SL_MAX];
    sl_seek(&hl->tomb, before_key, t->key, NULL, update);
    sl_unlink(t, update);
    t->bits = HCS_REG_KEY_PRESENT | HCS_REG_KEY_OPAQUE;
    sl_insert(&hl->live, t, before_key);
}

/* The PRESENT record of key (spare: a node for it, used and cleared when it has none). */
static struct node *ensure_key(struct hive_level *hl, struct node **spare)
{
    struct node *update[SL_MAX];
    struct node *n = sl_seek(&hl->live, before_key, (*spare)->key, NULL, update);
    if (n != NULL && hcs_reg_key_cmp(n->key, (*spare)->key) == 0) {
        n->bits |= HCS_REG_KEY_PRESENT;
        return n;
    }
    n = steal_ptr(spare);
    respell(hl, n->key, update);
    n->bits = HCS_REG_KEY_PRESENT;
    sl_link(&hl->live, n, update);
    return n;
}

/* Put value record v (replacing the record of the same name, whose spelling it keeps). */
static void put_value(struct hive_level *hl, const struct node *key, struct node *v)
{
    if (key != NULL)
        memcpy(v->key, key->key, strlen(v->key));
    else
        respell(hl, v->key, NULL);
    struct node *update[SL_MAX];
    struct node *old = sl_seek(&hl->values, before_value, v->key, v->name, update);
    if (old != NULL && hcs_reg_key_cmp(old->key, v->key) == 0 &&
        hcs_reg_name_cmp(old->name, v->name) == 0) {
        memcpy(v->name, old->name, strlen(v->name));
        sl_unlink(old, update);
        free(old);
    }
    sl_link(&hl->values, v, update);
}

/* --- the key filter ------------------------------------------------------------------------- */

static uint32_t seen_hash(const char *key)
{
    uint32_t h = hcs_reg_key_hash(key);
    return h != 0 ? h : 1;
}

static bool seen_has(const struct hive_level *hl, uint32_t hash)
{
    if (hl->seen_cap == 0)
        return false;
    uint32_t h = hash != 0 ? hash : 1;
    size_t mask = hl->seen_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (hl->seen[i] == h)
            return true;
        if (hl->seen[i] == 0)
            return false;
    }
}

/* Add h (room reserved by seen_reserve). */
static void seen_put(uint32_t *set, size_t cap, size_t *n, uint32_t h)
{
    size_t mask = cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (set[i] == h)
            return;
        if (set[i] == 0) {
            set[i] = h;
            (*n)++;
            return;
        }
    }
}

/* Room for more new hashes without passing half full. -1 out of memory (nothing changed). */
static int seen_reserve(struct hive_level *hl, size_t more)
{
    size_t need = (hl->seen_n + more) * 2;
    if (need <= hl->seen_cap)
        return 0;
    size_t cap = hl->seen_cap ? hl->seen_cap : 64;
    while (cap < need)
        cap *= 2;
    uint32_t *set = calloc(cap, sizeof(*set));
    if (set == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < hl->seen_cap; i++)
        if (hl->seen[i] != 0)
            seen_put(set, cap, &n, hl->seen[i]);
    free(hl->seen);
    hl->seen = set;
    hl->seen_cap = cap;
    hl->seen_n = n;
    return 0;
}

/* The nodes a change may need, allocated before anything is written. */
struct prep {
    struct node *key;
    struct node *value;
    struct node *parent; /* DELETE_KEY of a key with a parent: its record, if it needs one */
};

/*
 * Before deleting a key: its parent exists at this level when something live lies at or below
 * it, maybe only the subtree being deleted. As in Windows, where creating a key creates its
 * parents, the parent must outlive the delete: give it a record of its own (spare: a node for
 * the parent's path, used and cleared when needed).
 */
static void keep_parent(struct hive_level *hl, struct node **spare)
{
    const char *parent = (*spare)->key;
    struct node *update[SL_MAX];
    struct node *n = sl_seek(&hl->live, before_key, parent, NULL, update);
    if (n == NULL || !is_under(n->key, parent, strlen(parent)))
        return; /* nothing here makes it exist: the delete must not either */
    if (hcs_reg_key_cmp(n->key, parent) == 0)
        return; /* it has a record */
    n = steal_ptr(spare);
    respell(hl, n->key, update);
    n->bits = HCS_REG_KEY_PRESENT;
    sl_link(&hl->live, n, update);
}

static void apply_one(hcs_reg_delta *d, const hcs_reg_change *c, struct prep *p)
{
    struct hive_level *hl = &d->hives[c->hive];
    seen_put(hl->seen, hl->seen_cap, &hl->seen_n, seen_hash(c->key));
    struct node *tomb = tomb_covering(hl, c->key);
    switch (c->op) {
    case HCS_REG_SET_VALUE:
    case HCS_REG_CREATE_KEY: {
        if (tomb != NULL)
            revive(hl, tomb);
        const struct node *k = ensure_key(hl, &p->key);
        if (c->op == HCS_REG_SET_VALUE)
            put_value(hl, k, steal_ptr(&p->value));
        break;
    }
    case HCS_REG_DELETE_VALUE:
        if (tomb == NULL) /* else already hidden */
            put_value(hl, NULL, steal_ptr(&p->value));
        break;
    case HCS_REG_DELETE_KEY:
        if (tomb != NULL)
            break;
        if (p->parent != NULL)
            keep_parent(hl, &p->parent);
        respell(hl, p->key->key, NULL);
        sl_remove_under(&hl->live, c->key);
        sl_remove_under(&hl->tomb, c->key);
        sl_remove_under(&hl->values, c->key);
        p->key->bits = HCS_REG_KEY_OPAQUE;
        sl_insert(&hl->tomb, steal_ptr(&p->key), before_key);
        hl->opaque_seen = true;
        break;
    }
}

static void prep_free(struct prep *p, size_t n)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].value);
        free(p[i].parent);
    }
    free(p);
}

static int prepare(hcs_reg_delta *d, const hcs_reg_change *changes, size_t n, struct prep **out,
                   hcs_error **err)
{
    size_t per_hive[HCS_REG_N_HIVES] = {0};
    for (size_t i = 0; i < n; i++)
        per_hive[changes[i].hive]++;
    for (size_t h = 0; h < HCS_REG_N_HIVES; h++)
        if (per_hive[h] > 0 && seen_reserve(&d->hives[h], per_hive[h]) < 0) {
            hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            return -1;
        }
    struct prep *p = calloc(n, sizeof(*p));
    if (p == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const hcs_reg_change *c = &changes[i];
        bool value = c->op == HCS_REG_SET_VALUE || c->op == HCS_REG_DELETE_VALUE;
        bool set = c->op == HCS_REG_SET_VALUE;
        if ((c->op != HCS_REG_DELETE_VALUE &&
             (p[i].key = node_new(d, c->key, NULL, 0, NULL, 0)) == NULL) ||
            (value && (p[i].value = node_new(d, c->key, c->name, set ? c->type : 0,
                                             set ? c->data : NULL, set ? c->len : 0)) == NULL)) {
            prep_free(p, n);
            hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            return -1;
        }
        if (p[i].value != NULL)
            p[i].value->deleted = c->op == HCS_REG_DELETE_VALUE;
        const char *sep = c->op == HCS_REG_DELETE_KEY ? strrchr(c->key, '\\') : NULL;
        if (sep != NULL) {
            if ((p[i].parent = node_new(d, c->key, NULL, 0, NULL, 0)) == NULL) {
                prep_free(p, n);
                hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
                return -1;
            }
            p[i].parent->key[sep - c->key] = '\0';
        }
    }
    *out = p;
    return 0;
}

static void apply_all(hcs_reg_delta *d, const hcs_reg_change *changes, size_t n, struct prep *p)
{
    for (size_t i = 0; i < n; i++)
        apply_one(d, &changes[i], &p[i]);
}

/* --- checks ---------------------------------------------------------------------------------- */

static const char *op_name(enum hcs_reg_op op)
{
    switch (op) {
    case HCS_REG_SET_VALUE:
        return "SetValue";
    case HCS_REG_DELETE_VALUE:
        return "DeleteValue";
    case HCS_REG_CREATE_KEY:
        return "CreateKey";
    case HCS_REG_DELETE_KEY:
        return "DeleteKey";
    }
    return "unknown operation";
}

/* Why change c is not acceptable, in *why (NULL when it is fine). */
static int check_change(const hcs_reg_change *c, hcs_error **why)
{
    if (c->op < HCS_REG_SET_VALUE || c->op > HCS_REG_DELETE_KEY)
        return hcs_err_set(why, E_INVALIDARG, "unknown operation %d", (int)c->op);
    if ((unsigned)c->hive >= HCS_REG_N_HIVES)
        return hcs_err_set(why, E_INVALIDARG, "unknown hive %d", (int)c->hive);
    if (c->key == NULL)
        return hcs_err_set(why, E_INVALIDARG, "no key");
    if (hcs_reg_key_check("Key", c->key, why) < 0)
        return -1;
    if (c->op == HCS_REG_DELETE_KEY && c->key[0] == '\0')
        return hcs_err_set(why, E_INVALIDARG, "the root key of a hive cannot be deleted");
    if (c->op == HCS_REG_SET_VALUE || c->op == HCS_REG_DELETE_VALUE) {
        if (c->name == NULL)
            return hcs_err_set(why, E_INVALIDARG, "no value name");
        bool set = c->op == HCS_REG_SET_VALUE;
        if (set && c->data == NULL && c->len > 0)
            return hcs_err_set(why, E_INVALIDARG, "no data for %zu bytes", c->len);
        if (hcs_reg_value_check("Value", c->name, set ? c->type : HCS_REG_NONE,
                                set ? c->data : NULL, set ? c->len : 0, why) < 0)
            return -1;
    }
    return 0;
}

static int check_changes(const hcs_reg_change *changes, size_t n, hcs_error **err)
{
    if (changes == NULL && n > 0)
        return hcs_err_set(err, E_INVALIDARG, "no changes");
    for (size_t i = 0; i < n; i++) {
        AUTOERR hcs_error *why = NULL;
        if (check_change(&changes[i], &why) < 0) {
            const hcs_reg_change *c = &changes[i];
            bool known = (unsigned)c->hive < HCS_REG_N_HIVES;
            return hcs_err_set(err, E_INVALIDARG, "change %zu (%s of %s\\%s): %s", i,
                               op_name(c->op), known ? hcs_reg_hive_name(c->hive) : "?",
                               c->key ? c->key : "(null)", why ? why->message : "invalid");
        }
    }
    return 0;
}

/* --- encoding -------------------------------------------------------------------------------- */

static const uint32_t crc_nibble[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
    0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9, 0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

/* CRC-32C (Castagnoli), four bits at a time from a 16-entry table. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        c = (c >> 4) ^ crc_nibble[c & 15];
        c = (c >> 4) ^ crc_nibble[c & 15];
    }
    return c ^ 0xffffffffu;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t len)
{
    p = put_u32(p, (uint32_t)len);
    memcpy(p, s, len);
    p[len] = '\0';
    return p + len + 1;
}

/* The record (header and payload) for changes, checked already. */
static int encode(const hcs_reg_change *changes, size_t n, uint8_t **out, size_t *out_len,
                  hcs_error **err)
{
    size_t size = 4;
    for (size_t i = 0; i < n; i++) {
        const hcs_reg_change *c = &changes[i];
        bool value = c->op == HCS_REG_SET_VALUE || c->op == HCS_REG_DELETE_VALUE;
        size += CHANGE_MIN + strlen(c->key) + (value ? strlen(c->name) : 0) +
                (c->op == HCS_REG_SET_VALUE ? c->len : 0);
        if (size > REC_MAX)
            return hcs_err_set(err, E_INVALIDARG,
                               "a batch of %zu registry changes is larger than %u bytes", n,
                               REC_MAX);
    }
    uint8_t *buf = malloc(REC_HEADER + size);
    if (buf == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    uint8_t *p = put_u32(buf + REC_HEADER, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const hcs_reg_change *c = &changes[i];
        bool value = c->op == HCS_REG_SET_VALUE || c->op == HCS_REG_DELETE_VALUE;
        bool set = c->op == HCS_REG_SET_VALUE;
        *p++ = (uint8_t)c->op;
        *p++ = (uint8_t)c->hive;
        p = put_u32(p, set ? c->type : 0);
        p = put_str(p, c->key, strlen(c->key));
        p = put_str(p, value ? c->name : "", value ? strlen(c->name) : 0);
        p = put_u32(p, set ? (uint32_t)c->len : 0);
        if (set && c->len > 0)
            memcpy(p, c->data, c->len);
        p += set ? c->len : 0;
    }
    put_u32(buf, (uint32_t)size);
    put_u32(buf + 4, crc32c(buf + REC_HEADER, size));
    *out = buf;
    *out_len = REC_HEADER + size;
    return 0;
}

/* A NUL-terminated string field at *p (advanced); NULL when it does not fit or holds a NUL. */
static const char *get_str(const uint8_t **p, const uint8_t *end)
{
    if (end - *p < 4)
        return NULL;
    uint32_t len = get_u32(*p);
    const uint8_t *s = *p + 4;
    if ((size_t)(end - s) <= len || s[len] != '\0' || memchr(s, '\0', len) != NULL)
        return NULL;
    *p = s + len + 1;
    return (const char *)s;
}

/*
 * Decode a payload into changes pointing into it. 1 when it is not a valid batch (corrupt),
 * -1 when out of memory.
 */
static int decode(const uint8_t *payload, size_t len, hcs_reg_change **out, size_t *n_out)
{
    if (len < 4)
        return 1;
    size_t n = get_u32(payload);
    if (n > (len - 4) / CHANGE_MIN)
        return 1;
    hcs_reg_change *changes = calloc(n ? n : 1, sizeof(*changes));
    if (changes == NULL)
        return -1;
    const uint8_t *p = payload + 4, *end = payload + len;
    for (size_t i = 0; i < n; i++) {
        hcs_reg_change *c = &changes[i];
        if (end - p < 6)
            goto corrupt;
        c->op = (enum hcs_reg_op)p[0];
        c->hive = (enum hcs_reg_hive)p[1];
        c->type = get_u32(p + 2);
        p += 6;
        if ((c->key = get_str(&p, end)) == NULL || (c->name = get_str(&p, end)) == NULL ||
            end - p < 4)
            goto corrupt;
        c->len = get_u32(p);
        p += 4;
        if ((size_t)(end - p) < c->len)
            goto corrupt;
        c->data = p;
        p += c->len;
        AUTOERR hcs_error *why = NULL;
        if (check_change(c, &why) < 0)
            goto corrupt;
    }
    if (p != end)
        goto corrupt;
    *out = changes;
    *n_out = n;
    return 0;
corrupt:
    free(changes);
    return 1;
}

/* --- the file -------------------------------------------------------------------------------- */

static void header_bytes(uint8_t out[LOG_HEADER])
{
    memset(out, 0, LOG_HEADER);
    memcpy(out, LOG_MAGIC, sizeof(LOG_MAGIC));
    put_u32(out + 8, LOG_VERSION);
}

/* Read exactly len bytes at off: 0, 1 at end of file, -1 with errno. */
static int read_at(int fd, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 1;
        done += (size_t)r;
    }
    return 0;
}

static int write_at(int fd, const void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static hcs_reg_delta *delta_alloc(void)
{
    hcs_reg_delta *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->fd = -1;
    d->rng = 0x9e3779b97f4a7c15ull;
    for (size_t h = 0; h < HCS_REG_N_HIVES; h++) {
        struct hive_level *hl = &d->hives[h];
        if (sl_init(&hl->live) < 0 || sl_init(&hl->tomb) < 0 || sl_init(&hl->values) < 0) {
            hcs_reg_delta_close(d);
            return NULL;
        }
    }
    return d;
}

/* Write the file header of an empty (or torn at creation) log. */
static int init_file(hcs_reg_delta *d, int dirfd, hcs_error **err)
{
    uint8_t hdr[LOG_HEADER];
    header_bytes(hdr);
    if (ftruncate(d->fd, 0) < 0 || write_at(d->fd, hdr, sizeof(hdr), 0) < 0 ||
        fdatasync(d->fd) < 0 || (dirfd >= 0 && fsync(dirfd) < 0))
        return hcs_err_errno(err, errno, "registry delta %s", d->name);
    d->end = LOG_HEADER;
    return 0;
}

static int check_header(hcs_reg_delta *d, int dirfd, off_t size, hcs_error **err)
{
    uint8_t want[LOG_HEADER], got[LOG_HEADER];
    header_bytes(want);
    size_t n = size < LOG_HEADER ? (size_t)size : LOG_HEADER;
    int r = read_at(d->fd, got, n, 0);
    if (r != 0)
        return hcs_err_errno(err, r < 0 ? errno : EIO, "registry delta %s", d->name);
    if (n < LOG_HEADER && memcmp(got, want, n) == 0) {
        hcs_log(HCS_LOG_WARNING, "registry delta %s: header cut short at %zu bytes; starting empty",
                d->name, n);
        return init_file(d, dirfd, err);
    }
    if (n < LOG_HEADER || memcmp(got, want, 8) != 0)
        return hcs_err_set(err, HCS_E_INVALID_LAYER, "%s is not a registry delta log", d->name);
    if (get_u32(got + 8) > LOG_VERSION)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "registry delta %s has format version %u; this libhcs reads up to %u",
                           d->name, get_u32(got + 8), LOG_VERSION);
    d->end = LOG_HEADER;
    return 0;
}

/*
 * Replay the record at d->end and advance it: 0 applied, 1 truncated or corrupt (stop), -1
 * with *err.
 */
static int replay_one(hcs_reg_delta *d, off_t size, hcs_error **err)
{
    uint8_t hdr[REC_HEADER];
    if (size - d->end < REC_HEADER)
        return 1;
    int r = read_at(d->fd, hdr, sizeof(hdr), d->end);
    if (r != 0)
        return r > 0 ? 1 : hcs_err_errno(err, errno, "registry delta %s", d->name);
    uint32_t len = get_u32(hdr);
    if (len > REC_MAX || (off_t)len > size - d->end - REC_HEADER)
        return 1;
    AUTOFREE uint8_t *payload = malloc(len ? len : 1);
    if (payload == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if ((r = read_at(d->fd, payload, len, d->end + REC_HEADER)) != 0)
        return r > 0 ? 1 : hcs_err_errno(err, errno, "registry delta %s", d->name);
    if (crc32c(payload, len) != get_u32(hdr + 4))
        return 1;
    AUTOFREE hcs_reg_change *changes = NULL;
    size_t n = 0;
    r = decode(payload, len, &changes, &n);
    if (r != 0)
        return r > 0 ? 1 : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    struct prep *p = NULL;
    if (prepare(d, changes, n, &p, err) < 0)
        return -1;
    apply_all(d, changes, n, p);
    prep_free(p, n);
    d->end += REC_HEADER + (off_t)len;
    return 0;
}

int hcs_reg_delta_open(int dirfd, const char *name, hcs_reg_delta **out, hcs_error **err)
{
    *out = NULL;
    hcs_reg_delta *d = delta_alloc();
    if (d == NULL || (d->name = strdup(name)) == NULL) {
        hcs_reg_delta_close(d);
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    struct stat st;
    d->fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (d->fd < 0 || fstat(d->fd, &st) < 0) {
        hcs_err_errno(err, errno, "registry delta %s", name);
        hcs_reg_delta_close(d);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        hcs_err_set(err, HCS_E_INVALID_LAYER, "%s is not a registry delta log", name);
        hcs_reg_delta_close(d);
        return -1;
    }
    int r = st.st_size == 0 ? init_file(d, dirfd, err) : check_header(d, dirfd, st.st_size, err);
    while (r == 0 && d->end < st.st_size)
        r = replay_one(d, st.st_size, err);
    if (r > 0) {
        hcs_log(HCS_LOG_WARNING,
                "registry delta %s: dropped %lld bytes after offset %lld (a record cut short or "
                "corrupt, e.g. by a crash while it was written)",
                name, (long long)(st.st_size - d->end), (long long)d->end);
        if (ftruncate(d->fd, d->end) < 0 || fsync(d->fd) < 0)
            r = hcs_err_errno(err, errno, "registry delta %s: truncate to %lld bytes", name,
                              (long long)d->end);
        else
            r = 0;
    }
    if (r < 0) {
        hcs_reg_delta_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

int hcs_reg_delta_new_memory(hcs_reg_delta **out, hcs_error **err)
{
    *out = delta_alloc();
    if (*out == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return 0;
}

int hcs_reg_delta_apply(hcs_reg_delta *d, const hcs_reg_change *changes, size_t n, hcs_error **err)
{
    if (check_changes(changes, n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    struct prep *p = NULL;
    if (prepare(d, changes, n, &p, err) < 0)
        return -1;
    if (d->fd >= 0) {
        AUTOFREE uint8_t *rec = NULL;
        size_t len = 0;
        if (encode(changes, n, &rec, &len, err) < 0) {
            prep_free(p, n);
            return -1;
        }
        if (write_at(d->fd, rec, len, d->end) < 0 || fdatasync(d->fd) < 0) {
            int e = errno;
            /* Nothing acknowledged: take back whatever part reached the file. */
            if (ftruncate(d->fd, d->end) < 0)
                hcs_log(HCS_LOG_WARNING, "registry delta %s: cannot take back a failed write",
                        d->name);
            prep_free(p, n);
            return hcs_err_errno(err, e, "registry delta %s: write %zu bytes", d->name, len);
        }
        d->end += (off_t)len;
    }
    apply_all(d, changes, n, p);
    prep_free(p, n);
    return 0;
}

void hcs_reg_delta_close(hcs_reg_delta *d)
{
    if (d == NULL)
        return;
    for (size_t h = 0; h < HCS_REG_N_HIVES; h++) {
        sl_free(&d->hives[h].live);
        sl_free(&d->hives[h].tomb);
        sl_free(&d->hives[h].values);
        free(d->hives[h].seen);
    }
    if (d->fd >= 0)
        close(d->fd);
    free(d->name);
    free(d);
}

/* --- the level ------------------------------------------------------------------------------- */

static const struct hive_level *hive_of(const void *self, enum hcs_reg_hive h)
{
    const hcs_reg_delta *d = self;
    return (unsigned)h < HCS_REG_N_HIVES ? &d->hives[h] : NULL;
}

static unsigned level_key(const void *self, enum hcs_reg_hive h, const char *key, bool *has_below)
{
    const struct hive_level *hl = hive_of(self, h);
    if (has_below != NULL)
        *has_below = false;
    if (hl == NULL || (has_below == NULL && !seen_has(hl, hcs_reg_key_hash(key))))
        return 0;
    unsigned bits = 0;
    const struct node *n = sl_seek(&hl->live, before_key, key, NULL, NULL);
    if (n != NULL && hcs_reg_key_cmp(n->key, key) == 0) {
        bits = n->bits;
        n = n->next[0];
    }
    if (has_below != NULL)
        *has_below = n != NULL && is_strictly_under(n->key, key, strlen(key));
    if (bits == 0) {
        n = sl_seek(&hl->tomb, before_key, key, NULL, NULL);
        if (n != NULL && hcs_reg_key_cmp(n->key, key) == 0)
            bits = n->bits;
    }
    return bits;
}

static int level_value_hashed(const void *self, enum hcs_reg_hive h, const char *key, uint32_t hash,
                              const char *name, hcs_reg_value *out)
{
    const struct hive_level *hl = hive_of(self, h);
    if (hl == NULL || !seen_has(hl, hash))
        return 0;
    const struct node *n = sl_seek(&hl->values, before_value, key, name, NULL);
    if (n == NULL || hcs_reg_key_cmp(n->key, key) != 0 || hcs_reg_name_cmp(n->name, name) != 0)
        return 0;
    out->name = n->name;
    out->type = n->type;
    out->data = n->data;
    out->len = n->len;
    out->deleted = n->deleted;
    return 1;
}

/* A walk over the direct children of a key in one list, one step per child subtree. */
struct child_walk {
    const struct slist *l;
    const char *key;
    size_t klen;
    char *path; /* the current child's path (a buffer of klen + 2 + HCS_REG_MAX_COMPONENT) */
    const struct node *n;
    const char *name; /* in path */
    bool own;         /* n is the child's own record */
};

/* Load the child whose subtree starts at w->n (NULL: done). */
static void walk_load(struct child_walk *w)
{
    if (w->n == NULL || !is_strictly_under(w->n->key, w->key, w->klen)) {
        w->n = NULL;
        return;
    }
    size_t start = w->klen == 0 ? 0 : w->klen + 1, end = start;
    while (w->n->key[end] != '\0' && w->n->key[end] != '\\' && end - start < HCS_REG_MAX_COMPONENT)
        end++;
    memcpy(w->path, w->n->key, end);
    w->path[end] = '\0';
    w->name = w->path + start;
    w->own = w->n->key[end] == '\0';
}

static void walk_next(struct child_walk *w)
{
    w->n = sl_seek(w->l, before_subtree_end, w->path, NULL, NULL);
    walk_load(w);
}

static void walk_start(struct child_walk *w, const struct slist *l, const char *key, char *buf)
{
    w->l = l;
    w->key = key;
    w->klen = strlen(key);
    w->path = buf;
    w->n = sl_seek(l, before_key_incl, key, NULL, NULL);
    walk_load(w);
}

static int level_subkeys(const void *self, enum hcs_reg_hive h, const char *key,
                         int (*fn)(void *ctx, const char *name, unsigned bits), void *ctx)
{
    const struct hive_level *hl = hive_of(self, h);
    if (hl == NULL)
        return 0;
    size_t size = strlen(key) + 2 + HCS_REG_MAX_COMPONENT;
    AUTOFREE char *live_buf = malloc(size);
    AUTOFREE char *tomb_buf = malloc(size);
    if (live_buf == NULL || tomb_buf == NULL)
        return -1;
    struct child_walk live, tomb;
    walk_start(&live, &hl->live, key, live_buf);
    walk_start(&tomb, &hl->tomb, key, tomb_buf);
    for (;;) {
        while (tomb.n != NULL && !tomb.own) /* tombstones further down imply nothing */
            walk_next(&tomb);
        if (live.n == NULL && tomb.n == NULL)
            return 0;
        int c = live.n == NULL ? 1 : tomb.n == NULL ? -1 : hcs_reg_name_cmp(live.name, tomb.name);
        int r = c <= 0 ? fn(ctx, live.name, live.own ? live.n->bits : 0)
                       : fn(ctx, tomb.name, tomb.n->bits);
        if (r != 0)
            return r;
        if (c <= 0)
            walk_next(&live);
        if (c >= 0)
            walk_next(&tomb);
    }
}

static int level_values(const void *self, enum hcs_reg_hive h, const char *key,
                        int (*fn)(void *ctx, const hcs_reg_value *v), void *ctx)
{
    const struct hive_level *hl = hive_of(self, h);
    if (hl == NULL)
        return 0;
    for (const struct node *n = sl_seek(&hl->values, before_key, key, NULL, NULL);
         n != NULL && hcs_reg_key_cmp(n->key, key) == 0; n = n->next[0]) {
        hcs_reg_value v = {.name = n->name,
                           .type = n->type,
                           .data = n->data,
                           .len = n->len,
                           .deleted = n->deleted};
        int r = fn(ctx, &v);
        if (r != 0)
            return r;
    }
    return 0;
}

static int level_value(const void *self, enum hcs_reg_hive h, const char *key, const char *name,
                       hcs_reg_value *out)
{
    return level_value_hashed(self, h, key, hcs_reg_key_hash(key), name, out);
}

static bool level_may_be_opaque(const void *self, enum hcs_reg_hive h)
{
    const struct hive_level *hl = hive_of(self, h);
    return hl != NULL && hl->opaque_seen;
}

static const hcs_reg_level_ops delta_ops = {
    .key = level_key,
    .value = level_value,
    .subkeys = level_subkeys,
    .values = level_values,
    .value_hashed = level_value_hashed,
    .may_be_opaque = level_may_be_opaque,
};

hcs_reg_level hcs_reg_delta_level(const hcs_reg_delta *d)
{
    return (hcs_reg_level){.ops = &delta_ops, .self = d};
}

/* --- the delta as changes (for writing it out as a hive file) ------------------------------- */

static int push_change(hcs_reg_change **v, size_t *n, size_t *cap, hcs_reg_change c)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        hcs_reg_change *nv = realloc(*v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = c;
    return 0;
}

/* The key record of the next key in key order from the live and tombstone lists. */
static const struct node *next_key_record(const struct node **live, const struct node **tomb)
{
    const struct node *l = *live, *t = *tomb;
    if (l == NULL && t == NULL)
        return NULL;
    if (t == NULL || (l != NULL && hcs_reg_key_cmp(l->key, t->key) <= 0)) {
        *live = l->next[0];
        return l;
    }
    *tomb = t->next[0];
    return t;
}

int hcs_reg_delta_changes(const hcs_reg_delta *d, enum hcs_reg_hive h, hcs_reg_change **changes,
                          size_t *n, hcs_error **err)
{
    *changes = NULL;
    *n = 0;
    const struct hive_level *hl = hive_of(d, h);
    if (hl == NULL)
        return hcs_err_set(err, E_INVALIDARG, "registry delta: no hive %d", (int)h);
    size_t cap = 0;
    const struct node *live = hl->live.head->next[0], *tomb = hl->tomb.head->next[0];
    const struct node *val = hl->values.head->next[0];
    const struct node *k = next_key_record(&live, &tomb);
    /* Key order; at one key: its tombstone (OPAQUE) before its creation, then its values. */
    while (k != NULL || val != NULL) {
        bool key_first = val == NULL || (k != NULL && hcs_reg_key_cmp(k->key, val->key) <= 0);
        int rc = 0;
        if (key_first) {
            if (k->bits & HCS_REG_KEY_OPAQUE)
                rc = push_change(
                    changes, n, &cap,
                    (hcs_reg_change){.op = HCS_REG_DELETE_KEY, .hive = h, .key = k->key});
            if (rc == 0 && (k->bits & HCS_REG_KEY_PRESENT))
                rc = push_change(
                    changes, n, &cap,
                    (hcs_reg_change){.op = HCS_REG_CREATE_KEY, .hive = h, .key = k->key});
            k = next_key_record(&live, &tomb);
        } else {
            hcs_reg_change c = {.op = val->deleted ? HCS_REG_DELETE_VALUE : HCS_REG_SET_VALUE,
                                .hive = h,
                                .key = val->key,
                                .name = val->name,
                                .type = val->type,
                                .data = val->data,
                                .len = val->len};
            rc = push_change(changes, n, &cap, c);
            val = val->next[0];
        }
        if (rc < 0) {
            free(*changes);
            *changes = NULL;
            *n = 0;
            return hcs_err_set(err, E_OUTOFMEMORY, "registry delta: out of memory");
        }
    }
    return 0;
}
