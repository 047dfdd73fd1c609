/*
 * hive.c - hive files: one level of one hive, sorted, memory-mapped and binary-searched.
 *
 * Layout (little-endian; section offsets from the file start, 8-byte aligned):
 *   header (104 bytes)
 *      0 magic "HCSHIVE\0"      8 u32 version (2)      12 u32 hive
 *     16 u32 n_keys            20 u32 n_values
 *     24 u64 keys offset, 32 u64 keys size, 40 u64 values offset, 48 u64 values size,
 *     56 u64 heap offset, 64 u64 heap size, 72 u64 index offset, 80 u64 index size
 *     88 u32 CRC-32C of the body (every byte after the header)
 *     92 u32 flags (1: some key record is OPAQUE)
 *     96 u32 CRC-32C of bytes 0..96                               100 u32 0
 *   key table: n_keys entries of 24 bytes, sorted by hcs_reg_key_cmp, no two equal:
 *     u32 path_off, u32 path_len, u32 bits (HCS_REG_KEY_*), u32 first_value, u32 n_values, u32 0
 *   value table: n_values entries of 24 bytes, each key's values contiguous, in key order, each
 *     key's sorted by hcs_reg_name_cmp:
 *     u32 name_off, u32 name_len, u32 type, u32 flags (1: deleted), u32 data_off, u32 data_len
 *   index: a power-of-two number of 8-byte slots (none when there are no keys, else at least
 *     twice n_keys), an open-addressing hash table of the key table: u32 key index + 1 (0:
 *     empty), u32 hcs_reg_key_hash(path). A key starts probing at its hash & (slots - 1) and goes
 *     on linearly; the stored hash spares reading the paths of other keys.
 *   heap: key paths and value names (each followed by a NUL), value data.
 * Record offsets (path_off, name_off, data_off) are relative to the heap.
 *
 * Exact lookups (a value, a key's record) go through the index: one hash of the path and about
 * one probe, whatever the size of the file. Ordered walks (subkeys, what lies below a key) use
 * the sorted table.
 *
 * A key's ancestors have no entry unless something was recorded on them: they exist at this
 * level because something lies below them, which the descendant right after their position in
 * the sorted table shows. A key entry with bits 0 only holds value tombstones.
 *
 * CRC-32C (Castagnoli) catches the torn and flipped bytes a checksum is for; it is not a
 * defence against a forged file (layers are verified by their digest elsewhere).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hive_internal.h"
#include "registry.h"

#define HIVE_MAGIC "HCSHIVE"
#define HIVE_VERSION 2u
#define HDR_SIZE 104u
#define HIVE_HAS_OPAQUE 1u
#define HIVE_MAX_KEYS (1u << 30) /* keeps the index's slot numbers in 32 bits */
#define SLOT_SIZE 8u
#define ENTRY_SIZE 24u
#define VALUE_DELETED 1u
#define KEY_BITS (HCS_REG_KEY_PRESENT | HCS_REG_KEY_OPAQUE)

struct hcs_reg_hive_file {
    const uint8_t *base;
    size_t len;
    void *map; /* base when hcs_reg_hive_open mapped it, else NULL */
    char *name;
    enum hcs_reg_hive hive;
    uint32_t n_keys, n_values;
    const uint8_t *keys, *values, *heap, *index;
    uint64_t heap_size;
    uint32_t index_mask; /* slots - 1; unused when index is NULL */
    uint32_t flags;      /* HIVE_HAS_OPAQUE */
};

/* --- CRC-32C ---------------------------------------------------------------------------- */

static const uint32_t crc_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
    0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
    0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
    0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
    0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
    0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
    0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
    0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
    0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
    0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
    0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
    0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
    0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
    0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
    0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
    0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
    0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
    0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
    0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
    0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
    0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
    0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e, 0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* --- little-endian access --------------------------------------------------------------- */

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static inline void wr64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

/* --- names and paths -------------------------------------------------------------------- */

/* Do the first n bytes of s equal those of prefix, ASCII letters folded? (prefix has no NUL) */
static bool prefix_eq(const char *s, const char *prefix, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hcs_reg_fold((unsigned char)s[i]) != hcs_reg_fold((unsigned char)prefix[i]))
            return false; /* also stops at the end of s */
    return true;
}

/* Is path strictly below the key key[0..klen)? */
static bool is_below(const char *key, size_t klen, const char *path)
{
    if (klen == 0)
        return path[0] != '\0';
    return prefix_eq(path, key, klen) && path[klen] == '\\';
}

/* Is path the key prefix[0..plen) or below it? */
static bool at_or_below(const char *prefix, size_t plen, const char *path)
{
    return prefix_eq(path, prefix, plen) && (path[plen] == '\0' || path[plen] == '\\');
}

/* --- reading records (every offset checked: a corrupt body reads as missing records) ------- */

/* The NUL-terminated string heap[off..off+len], or NULL when it does not fit. */
static inline const char *heap_str(const hcs_reg_hive_file *f, uint32_t off, uint32_t len)
{
    if ((uint64_t)off + len >= f->heap_size || f->heap[(uint64_t)off + len] != 0)
        return NULL;
    return (const char *)f->heap + off;
}

static inline const uint8_t *key_entry(const hcs_reg_hive_file *f, uint32_t i)
{
    return f->keys + (size_t)i * ENTRY_SIZE;
}

static inline const uint8_t *value_entry(const hcs_reg_hive_file *f, uint32_t i)
{
    return f->values + (size_t)i * ENTRY_SIZE;
}

/* Key i's path and its length; "" when corrupt (any answer keeps the searches bounded). */
static inline const char *key_path_len(const hcs_reg_hive_file *f, uint32_t i, size_t *len)
{
    const uint8_t *e = key_entry(f, i);
    uint32_t l = rd32(e + 4);
    const char *p = heap_str(f, rd32(e), l);
    *len = p ? l : 0;
    return p ? p : "";
}

static const char *key_path(const hcs_reg_hive_file *f, uint32_t i)
{
    size_t len;
    return key_path_len(f, i, &len);
}

/* hcs_reg_key_cmp(p, k) knowing that their first *pos bytes are equal; *pos: the bytes equal. */
static inline int key_cmp_from(const char *p, const char *k, size_t *pos)
{
    for (size_t i = *pos;; i++) {
        int a = hcs_reg_key_rank((unsigned char)p[i]), b = hcs_reg_key_rank((unsigned char)k[i]);
        if (a != b || a == 0) {
            *pos = i;
            return a - b;
        }
    }
}

/*
 * First key index whose path is >= key; *eq: that entry equals key. Every entry between two
 * bounds shares with key at least the shorter of the bounds' common prefixes with it, so each
 * comparison starts there: a lookup reads each byte of key about once.
 */
static uint32_t lower_bound(const hcs_reg_hive_file *f, const char *key, bool *eq)
{
    uint32_t lo = 0, hi = f->n_keys;
    size_t lcp_lo = 0, lcp_hi = 0;
    *eq = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        size_t len;
        const char *p = key_path_len(f, mid, &len);
        size_t pos = lcp_lo < lcp_hi ? lcp_lo : lcp_hi;
        if (pos > len)
            pos = len; /* only in a corrupt (unsorted) file: never read past p's NUL */
        int c = key_cmp_from(p, key, &pos);
        if (c < 0) {
            lo = mid + 1;
            lcp_lo = pos;
        } else {
            hi = mid;
            lcp_hi = pos;
            *eq = c == 0;
        }
    }
    return lo;
}

/* Slots for n keys: 0 for none, else a power of two at least 2n (at least 8). */
static uint64_t index_slots(uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t s = 8;
    while (s < 2 * n)
        s *= 2;
    return s;
}

/* Index of key's entry through the hash index (hash: hcs_reg_key_hash(key)), or UINT32_MAX.
 * Bounded on a corrupt file. */
static uint32_t index_find(const hcs_reg_hive_file *f, const char *key, uint32_t hash)
{
    if (f->index == NULL)
        return UINT32_MAX;
    uint32_t mask = f->index_mask;
    uint32_t s = hash & mask;
    for (uint32_t probes = 0; probes <= mask; probes++, s = (s + 1) & mask) {
        const uint8_t *e = f->index + (size_t)s * SLOT_SIZE;
        uint32_t slot = rd32(e);
        if (slot == 0)
            return UINT32_MAX;
        if (rd32(e + 4) != hash || slot > f->n_keys)
            continue; /* another key; or corrupt: never read past the table */
        size_t len;
        const char *p = key_path_len(f, slot - 1, &len);
        if (prefix_eq(p, key, len) && key[len] == '\0')
            return slot - 1;
    }
    return UINT32_MAX;
}

/* Index of key's entry, or UINT32_MAX; *next: the index after key's position. */
static uint32_t find_key(const hcs_reg_hive_file *f, const char *key, uint32_t *next)
{
    bool eq;
    uint32_t i = lower_bound(f, key, &eq);
    *next = eq ? i + 1 : i;
    return eq ? i : UINT32_MAX;
}

/* First index >= lo whose path is not at or below prefix[0..plen) (galloping, then binary). */
static uint32_t skip_subtree(const hcs_reg_hive_file *f, uint32_t lo, const char *prefix,
                             size_t plen)
{
    uint32_t n = f->n_keys, step = 1;
    uint32_t hi = lo;
    while (hi < n && at_or_below(prefix, plen, key_path(f, hi))) {
        lo = hi + 1;
        hi = step >= n - hi ? n : hi + step;
        step *= 2;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (at_or_below(prefix, plen, key_path(f, mid)))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The value range [*first, *first + *n) of key entry i, clamped to the table. */
static void value_range(const hcs_reg_hive_file *f, uint32_t i, uint32_t *first, uint32_t *n)
{
    const uint8_t *e = key_entry(f, i);
    *first = rd32(e + 12);
    *n = rd32(e + 16);
    if (*first > f->n_values || *n > f->n_values - *first)
        *n = 0;
}

/* Decode value j; false when its name or data do not fit. */
static bool read_value(const hcs_reg_hive_file *f, uint32_t j, hcs_reg_value *out)
{
    const uint8_t *e = value_entry(f, j);
    const char *name = heap_str(f, rd32(e), rd32(e + 4));
    uint32_t off = rd32(e + 16), len = rd32(e + 20);
    if (name == NULL || (uint64_t)off + len > f->heap_size)
        return false;
    out->name = name;
    out->type = rd32(e + 8);
    out->deleted = (rd32(e + 12) & VALUE_DELETED) != 0;
    out->data = f->heap + off;
    out->len = len;
    return true;
}

static const char *value_name(const hcs_reg_hive_file *f, uint32_t j)
{
    const uint8_t *e = value_entry(f, j);
    const char *p = heap_str(f, rd32(e), rd32(e + 4));
    return p ? p : "";
}

/*
 * Whether key entry i is live: the key is PRESENT or holds a value that is not a tombstone.
 * Tombstones alone never make a key exist (the delta's rule too): deleting X\\Y, where it never
 * existed, must not create X.
 */
static bool entry_live(const hcs_reg_hive_file *f, uint32_t i)
{
    if (rd32(key_entry(f, i) + 8) & HCS_REG_KEY_PRESENT)
        return true;
    uint32_t first, n;
    value_range(f, i, &first, &n);
    for (uint32_t j = first; j < first + n; j++)
        if ((rd32(value_entry(f, j) + 12) & VALUE_DELETED) == 0)
            return true;
    return false;
}

/* Whether any key entry in [lo, hi) is live (usually the first one is). */
static bool range_live(const hcs_reg_hive_file *f, uint32_t lo, uint32_t hi)
{
    for (uint32_t i = lo; i < hi; i++)
        if (entry_live(f, i))
            return true;
    return false;
}

/* --- level operations ------------------------------------------------------------------- */

static unsigned op_key(const void *self, enum hcs_reg_hive h, const char *key, bool *has_below)
{
    const hcs_reg_hive_file *f = self;
    if (has_below != NULL)
        *has_below = false;
    if (h != f->hive || key == NULL)
        return 0;
    if (has_below == NULL) {
        uint32_t i = index_find(f, key, hcs_reg_key_hash(key));
        return i == UINT32_MAX ? 0 : rd32(key_entry(f, i) + 8) & KEY_BITS;
    }
    uint32_t next;
    uint32_t i = find_key(f, key, &next);
    if (next < f->n_keys) {
        size_t klen = strlen(key);
        if (is_below(key, klen, key_path(f, next)))
            *has_below =
                range_live(f, next, klen == 0 ? f->n_keys : skip_subtree(f, next, key, klen));
    }
    return i == UINT32_MAX ? 0 : rd32(key_entry(f, i) + 8) & KEY_BITS;
}

static int op_value_hashed(const void *self, enum hcs_reg_hive h, const char *key, uint32_t hash,
                           const char *name, hcs_reg_value *out)
{
    const hcs_reg_hive_file *f = self;
    if (h != f->hive || key == NULL || name == NULL)
        return 0;
    uint32_t first, n;
    uint32_t i = index_find(f, key, hash);
    if (i == UINT32_MAX)
        return 0;
    value_range(f, i, &first, &n);
    uint32_t lo = first, hi = first + n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = hcs_reg_name_cmp(value_name(f, mid), name);
        if (c == 0)
            return read_value(f, mid, out) ? 1 : 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int op_subkeys(const void *self, enum hcs_reg_hive h, const char *key,
                      int (*fn)(void *ctx, const char *name, unsigned bits), void *ctx)
{
    const hcs_reg_hive_file *f = self;
    if (h != f->hive || key == NULL)
        return 0;
    size_t klen = strlen(key);
    uint32_t i;
    find_key(f, key, &i);
    while (i < f->n_keys) {
        const char *path = key_path(f, i);
        if (!is_below(key, klen, path))
            break;
        const char *child = klen == 0 ? path : path + klen + 1;
        size_t clen = strcspn(child, "\\");
        char name[HCS_REG_MAX_COMPONENT + 1];
        size_t copy = clen < sizeof(name) - 1 ? clen : sizeof(name) - 1;
        memcpy(name, child, copy);
        name[copy] = '\0';
        unsigned bits = child[clen] == '\0' ? rd32(key_entry(f, i) + 8) & KEY_BITS : 0;
        uint32_t end = skip_subtree(f, i + 1, path, (size_t)(child - path) + clen);
        /* A child with no key bits exists only through live content below it. */
        if (bits != 0 || range_live(f, i, end)) {
            int rc = fn(ctx, name, bits);
            if (rc != 0)
                return rc;
        }
        i = end;
    }
    return 0;
}

static int op_values(const void *self, enum hcs_reg_hive h, const char *key,
                     int (*fn)(void *ctx, const hcs_reg_value *v), void *ctx)
{
    const hcs_reg_hive_file *f = self;
    if (h != f->hive || key == NULL)
        return 0;
    uint32_t next, first, n;
    uint32_t i = find_key(f, key, &next);
    if (i == UINT32_MAX)
        return 0;
    value_range(f, i, &first, &n);
    for (uint32_t j = first; j < first + n; j++) {
        hcs_reg_value v;
        if (!read_value(f, j, &v))
            continue;
        int rc = fn(ctx, &v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int op_value(const void *self, enum hcs_reg_hive h, const char *key, const char *name,
                    hcs_reg_value *out)
{
    return key == NULL ? 0 : op_value_hashed(self, h, key, hcs_reg_key_hash(key), name, out);
}

static bool op_may_be_opaque(const void *self, enum hcs_reg_hive h)
{
    const hcs_reg_hive_file *f = self;
    return h == f->hive && (f->flags & HIVE_HAS_OPAQUE) != 0;
}

static const hcs_reg_level_ops hive_ops = {
    .key = op_key,
    .value = op_value,
    .subkeys = op_subkeys,
    .values = op_values,
    .value_hashed = op_value_hashed,
    .may_be_opaque = op_may_be_opaque,
};

hcs_reg_level hcs_reg_hive_level(const hcs_reg_hive_file *f)
{
    return (hcs_reg_level){.ops = &hive_ops, .self = f};
}

enum hcs_reg_hive hcs_reg_hive_of(const hcs_reg_hive_file *f)
{
    return f->hive;
}

size_t hcs_reg_hive_records(const hcs_reg_hive_file *f)
{
    return (size_t)f->n_keys + f->n_values;
}

/* --- open, verify, close ---------------------------------------------------------------- */

static int bad(hcs_error **err, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(hcs_error **err, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    AUTOFREE char *msg = hcs_vasprintf(fmt, ap);
    va_end(ap);
    return hcs_err_set(err, HCS_E_INVALID_LAYER, "registry hive %s: %s", file,
                       msg ? msg : "corrupt");
}

/* Is [off, off+size) inside the file and after the header? */
static bool section_ok(uint64_t off, uint64_t size, size_t len)
{
    return off >= HDR_SIZE && off <= len && size <= len - off;
}

/* Check the header hdr (HDR_SIZE bytes) of a file of len bytes and fill f's counts and flags. */
static int check_header(hcs_reg_hive_file *f, const uint8_t *b, size_t len, hcs_error **err)
{
    if (len < HDR_SIZE)
        return bad(err, f->name, "truncated (%zu bytes, the header alone is %u)", len, HDR_SIZE);
    if (memcmp(b, HIVE_MAGIC, 8) != 0)
        return bad(err, f->name, "not a hive file (wrong magic)");
    uint32_t version = rd32(b + 8);
    if (version > HIVE_VERSION)
        return bad(err, f->name, "written by a newer libhcs (format version %u, this reads %u)",
                   version, HIVE_VERSION);
    if (version < HIVE_VERSION)
        return bad(err, f->name,
                   "format version %u (a libhcs development build) is no longer read; import "
                   "the layer again",
                   version);
    if (crc32c(0, b, 96) != rd32(b + 96) || rd32(b + 100) != 0)
        return bad(err, f->name, "corrupt header (checksum mismatch)");
    uint32_t hive = rd32(b + 12);
    if (hive >= HCS_REG_N_HIVES)
        return bad(err, f->name, "unknown hive number %u", hive);
    f->hive = (enum hcs_reg_hive)hive;
    f->n_keys = rd32(b + 16);
    f->n_values = rd32(b + 20);
    f->flags = rd32(b + 92);
    if (f->n_keys > HIVE_MAX_KEYS)
        return bad(err, f->name, "corrupt header (%u keys; at most %u)", f->n_keys, HIVE_MAX_KEYS);
    uint64_t ksize = rd64(b + 32), vsize = rd64(b + 48), isize = rd64(b + 80);
    if (ksize != (uint64_t)f->n_keys * ENTRY_SIZE || vsize != (uint64_t)f->n_values * ENTRY_SIZE ||
        isize != index_slots(f->n_keys) * SLOT_SIZE)
        return bad(err, f->name, "corrupt header (section sizes do not match the counts)");
    if ((f->flags & ~HIVE_HAS_OPAQUE) != 0)
        return bad(err, f->name, "corrupt header (unknown flags 0x%x)", f->flags);
    if (!section_ok(rd64(b + 24), ksize, len) || !section_ok(rd64(b + 40), vsize, len) ||
        !section_ok(rd64(b + 56), rd64(b + 64), len) || !section_ok(rd64(b + 72), isize, len))
        return bad(err, f->name, "truncated (%zu bytes; the sections need more)", len);
    return 0;
}

/* Point f's sections into f->base, at the offsets of the checked header hdr. */
static void map_sections(hcs_reg_hive_file *f, const uint8_t *hdr)
{
    f->keys = f->base + rd64(hdr + 24);
    f->values = f->base + rd64(hdr + 40);
    f->heap = f->base + rd64(hdr + 56);
    f->heap_size = rd64(hdr + 64);
    uint64_t isize = rd64(hdr + 80);
    f->index = isize > 0 ? f->base + rd64(hdr + 72) : NULL;
    f->index_mask = isize > 0 ? (uint32_t)(isize / SLOT_SIZE - 1) : 0;
}

static hcs_reg_hive_file *file_new(const char *name, hcs_error **err)
{
    hcs_reg_hive_file *f = calloc(1, sizeof(*f));
    if (f == NULL || (f->name = strdup(name ? name : "(memory)")) == NULL) {
        free(f);
        hcs_err_set(err, E_OUTOFMEMORY, "registry hive: out of memory");
        return NULL;
    }
    return f;
}

int hcs_reg_hive_open_mem(const void *data, size_t len, const char *name, hcs_reg_hive_file **out,
                          hcs_error **err)
{
    *out = NULL;
    if (data == NULL && len > 0)
        return hcs_err_set(err, E_INVALIDARG, "registry hive %s: no data", name);
    if (data == NULL || len < HDR_SIZE)
        return bad(err, name ? name : "(memory)", "truncated (%zu bytes, the header alone is %u)",
                   len, HDR_SIZE);
    hcs_reg_hive_file *f = file_new(name, err);
    if (f == NULL)
        return -1;
    f->base = data;
    f->len = len;
    if (check_header(f, data, len, err) < 0) {
        hcs_reg_hive_close(f);
        return -1;
    }
    map_sections(f, data);
    *out = f;
    return 0;
}

/*
 * The header is read with pread, not through the mapping: opening touches no page of the map,
 * so its cost does not depend on the file's size (a first fault maps a whole fault-around
 * window, more pages for a bigger file).
 */
int hcs_reg_hive_open(int dirfd, const char *name, hcs_reg_hive_file **out, hcs_error **err)
{
    *out = NULL;
    AUTOCLOSE int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return hcs_err_errno(err, errno, "registry hive %s", name);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return hcs_err_errno(err, errno, "registry hive %s", name);
    if (!S_ISREG(st.st_mode))
        return bad(err, name, "not a regular file");
    size_t len = (size_t)st.st_size;
    if (len < HDR_SIZE)
        return bad(err, name, "truncated (%zu bytes, the header alone is %u)", len, HDR_SIZE);
    uint8_t hdr[HDR_SIZE];
    ssize_t got = pread(fd, hdr, HDR_SIZE, 0);
    if (got < 0)
        return hcs_err_errno(err, errno, "registry hive %s: read", name);
    if (got != HDR_SIZE)
        return bad(err, name, "truncated while being read");
    hcs_reg_hive_file *f = file_new(name, err);
    if (f == NULL)
        return -1;
    if (check_header(f, hdr, len, err) < 0) {
        hcs_reg_hive_close(f);
        return -1;
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        hcs_reg_hive_close(f);
        return hcs_err_errno(err, errno, "registry hive %s: mmap", name);
    }
    f->base = map;
    f->map = map;
    f->len = len;
    map_sections(f, hdr);
    *out = f;
    return 0;
}

void hcs_reg_hive_close(hcs_reg_hive_file *f)
{
    if (f == NULL)
        return;
    if (f->map != NULL)
        munmap(f->map, f->len);
    free(f->name);
    free(f);
}

static uint64_t align8(uint64_t v)
{
    return (v + 7) & ~(uint64_t)7;
}

/* A string record of the heap: NUL-terminated, no NUL inside. */
static const char *verify_str(const hcs_reg_hive_file *f, uint32_t off, uint32_t len)
{
    const char *s = heap_str(f, off, len);
    return s != NULL && strlen(s) == len ? s : NULL;
}

int hcs_reg_hive_verify(const hcs_reg_hive_file *f, hcs_error **err)
{
    const uint8_t *b = f->base;
    uint64_t koff = rd64(b + 24), voff = rd64(b + 40), ioff = rd64(b + 72), hoff = rd64(b + 56);
    uint64_t slots = index_slots(f->n_keys);
    if (koff != HDR_SIZE || voff != align8(koff + (uint64_t)f->n_keys * ENTRY_SIZE) ||
        ioff != align8(voff + (uint64_t)f->n_values * ENTRY_SIZE) ||
        hoff != align8(ioff + slots * SLOT_SIZE) || hoff + f->heap_size != f->len)
        return bad(err, f->name, "sections are not laid out as version %u writes them",
                   HIVE_VERSION);
    if (crc32c(0, b + HDR_SIZE, f->len - HDR_SIZE) != rd32(b + 88))
        return bad(err, f->name, "corrupt (body checksum mismatch)");
    bool opaque = false;
    uint32_t next_value = 0;
    const char *prev = NULL;
    for (uint32_t i = 0; i < f->n_keys; i++) {
        const uint8_t *e = key_entry(f, i);
        const char *path = verify_str(f, rd32(e), rd32(e + 4));
        if (path == NULL)
            return bad(err, f->name, "key record %u: path out of bounds", i);
        AUTOERR hcs_error *kerr = NULL;
        if (hcs_reg_key_check("key", path, &kerr) < 0)
            return bad(err, f->name, "key record %u: %s", i, kerr->message);
        if (prev != NULL && hcs_reg_key_cmp(prev, path) >= 0)
            return bad(err, f->name, "key \"%.300s\" out of order", path);
        prev = path;
        if ((rd32(e + 8) & ~KEY_BITS) != 0 || rd32(e + 20) != 0)
            return bad(err, f->name, "key \"%.300s\": unknown bits", path);
        opaque = opaque || (rd32(e + 8) & HCS_REG_KEY_OPAQUE) != 0;
        if (index_find(f, path, hcs_reg_key_hash(path)) != i)
            return bad(err, f->name, "key \"%.300s\": not found through the index", path);
        uint32_t first = rd32(e + 12), n = rd32(e + 16);
        if (first != next_value || n > f->n_values - first)
            return bad(err, f->name, "key \"%.300s\": value records out of place", path);
        next_value += n;
        const char *prev_name = NULL;
        for (uint32_t j = first; j < first + n; j++) {
            const uint8_t *v = value_entry(f, j);
            const char *name = verify_str(f, rd32(v), rd32(v + 4));
            uint32_t type = rd32(v + 8), flags = rd32(v + 12), off = rd32(v + 16),
                     len = rd32(v + 20);
            if (name == NULL || (uint64_t)off + len > f->heap_size)
                return bad(err, f->name, "key \"%.300s\": value record %u out of bounds", path, j);
            if (prev_name != NULL && hcs_reg_name_cmp(prev_name, name) >= 0)
                return bad(err, f->name, "key \"%.300s\": value \"%.300s\" out of order", path,
                           name);
            prev_name = name;
            if ((flags & ~VALUE_DELETED) != 0 ||
                ((flags & VALUE_DELETED) != 0 && (type != 0 || len != 0)))
                return bad(err, f->name, "key \"%.300s\": value \"%.300s\": unknown flags", path,
                           name);
            AUTOERR hcs_error *verr = NULL;
            if ((flags & VALUE_DELETED) == 0 &&
                hcs_reg_value_check("value", name, type, f->heap + off, len, &verr) < 0)
                return bad(err, f->name, "key \"%.300s\": %s", path, verr->message);
        }
    }
    if (next_value != f->n_values)
        return bad(err, f->name, "%u value records belong to no key", f->n_values - next_value);
    uint64_t used = 0;
    for (uint64_t s = 0; s < slots; s++)
        used += rd32(f->index + s * SLOT_SIZE) != 0;
    if (used != f->n_keys)
        return bad(err, f->name, "the index has %llu entries for %u keys", (unsigned long long)used,
                   f->n_keys);
    if (opaque != ((f->flags & HIVE_HAS_OPAQUE) != 0))
        return bad(err, f->name, "corrupt header (the opaque flag does not match the keys)");
    return 0;
}

/* --- writing ------------------------------------------------------------------------------ */

struct wkey {
    uint32_t path_off, path_len, bits, first, n;
};

struct wval {
    uint32_t name_off, name_len, type, flags, data_off, data_len;
};

struct builder {
    uint8_t *heap;
    size_t heap_len, heap_cap;
    struct wkey *keys;
    size_t n_keys, keys_cap;
    struct wval *vals;
    size_t n_vals, vals_cap;
};

static void builder_free(struct builder *b)
{
    free(b->heap);
    free(b->keys);
    free(b->vals);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = reallocarray(*p, c, size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Append data (and a NUL when nul) to the heap; *off: where it starts. */
static int heap_add(struct builder *b, const void *data, size_t len, bool nul, uint32_t *off,
                    hcs_error **err)
{
    size_t need = b->heap_len + len + (nul ? 1 : 0);
    if (need > UINT32_MAX)
        return hcs_err_set(err, E_INVALIDARG, "registry hive: more than 4 GiB of names and data");
    if (grow((void **)&b->heap, &b->heap_cap, need, 1) < 0)
        return hcs_err_set(err, E_OUTOFMEMORY, "registry hive: out of memory");
    *off = (uint32_t)b->heap_len;
    if (len > 0)
        memcpy(b->heap + b->heap_len, data, len);
    if (nul)
        b->heap[b->heap_len + len] = 0;
    b->heap_len = need;
    return 0;
}

static int add_value(struct builder *b, const char *name, uint32_t type, const uint8_t *data,
                     size_t len, bool deleted, hcs_error **err)
{
    if (grow((void **)&b->vals, &b->vals_cap, b->n_vals + 1, sizeof(*b->vals)) < 0)
        return hcs_err_set(err, E_OUTOFMEMORY, "registry hive: out of memory");
    struct wval *v = &b->vals[b->n_vals];
    size_t nlen = strlen(name);
    if (heap_add(b, name, nlen, true, &v->name_off, err) < 0 ||
        heap_add(b, data, deleted ? 0 : len, false, &v->data_off, err) < 0)
        return -1;
    v->name_len = (uint32_t)nlen;
    v->type = deleted ? 0 : type;
    v->flags = deleted ? VALUE_DELETED : 0;
    v->data_len = deleted ? 0 : (uint32_t)len;
    b->n_vals++;
    return 0;
}

static int add_key(struct builder *b, const char *path, unsigned bits, size_t first, size_t n,
                   hcs_error **err)
{
    if (grow((void **)&b->keys, &b->keys_cap, b->n_keys + 1, sizeof(*b->keys)) < 0)
        return hcs_err_set(err, E_OUTOFMEMORY, "registry hive: out of memory");
    if (b->n_keys >= UINT32_MAX || first + n > UINT32_MAX)
        return hcs_err_set(err, E_INVALIDARG, "registry hive: too many records");
    struct wkey *k = &b->keys[b->n_keys];
    size_t len = strlen(path);
    if (heap_add(b, path, len, true, &k->path_off, err) < 0)
        return -1;
    k->path_len = (uint32_t)len;
    k->bits = bits;
    k->first = (uint32_t)first;
    k->n = (uint32_t)n;
    b->n_keys++;
    return 0;
}

static int builder_write(const struct builder *b, int dirfd, const char *name, enum hcs_reg_hive h,
                         hcs_error **err)
{
    if (b->n_keys > HIVE_MAX_KEYS)
        return hcs_err_set(err, E_INVALIDARG, "registry hive %s: more than %u keys", name,
                           HIVE_MAX_KEYS);
    uint64_t slots = index_slots(b->n_keys);
    uint64_t koff = HDR_SIZE, voff = align8(koff + (uint64_t)b->n_keys * ENTRY_SIZE),
             ioff = align8(voff + (uint64_t)b->n_vals * ENTRY_SIZE),
             hoff = align8(ioff + slots * SLOT_SIZE), total = hoff + b->heap_len;
    AUTOFREE uint8_t *out = calloc(1, total);
    if (out == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "registry hive %s: out of memory", name);
    uint32_t flags = 0;
    for (size_t i = 0; i < b->n_keys; i++)
        if (b->keys[i].bits & HCS_REG_KEY_OPAQUE)
            flags |= HIVE_HAS_OPAQUE;
    memcpy(out, HIVE_MAGIC, 8);
    wr32(out + 8, HIVE_VERSION);
    wr32(out + 12, (uint32_t)h);
    wr32(out + 16, (uint32_t)b->n_keys);
    wr32(out + 20, (uint32_t)b->n_vals);
    wr64(out + 24, koff);
    wr64(out + 32, (uint64_t)b->n_keys * ENTRY_SIZE);
    wr64(out + 40, voff);
    wr64(out + 48, (uint64_t)b->n_vals * ENTRY_SIZE);
    wr64(out + 56, hoff);
    wr64(out + 64, b->heap_len);
    wr64(out + 72, ioff);
    wr64(out + 80, slots * SLOT_SIZE);
    wr32(out + 92, flags);
    for (size_t i = 0; i < b->n_keys; i++) {
        const char *path = (const char *)b->heap + b->keys[i].path_off;
        uint32_t hash = hcs_reg_key_hash(path), mask = (uint32_t)(slots - 1), s = hash & mask;
        while (rd32(out + ioff + (uint64_t)s * SLOT_SIZE) != 0)
            s = (s + 1) & mask;
        wr32(out + ioff + (uint64_t)s * SLOT_SIZE, (uint32_t)i + 1);
        wr32(out + ioff + (uint64_t)s * SLOT_SIZE + 4, hash);
    }
    for (size_t i = 0; i < b->n_keys; i++) {
        uint8_t *e = out + koff + i * ENTRY_SIZE;
        const struct wkey *k = &b->keys[i];
        wr32(e, k->path_off);
        wr32(e + 4, k->path_len);
        wr32(e + 8, k->bits);
        wr32(e + 12, k->first);
        wr32(e + 16, k->n);
    }
    for (size_t i = 0; i < b->n_vals; i++) {
        uint8_t *e = out + voff + i * ENTRY_SIZE;
        const struct wval *v = &b->vals[i];
        wr32(e, v->name_off);
        wr32(e + 4, v->name_len);
        wr32(e + 8, v->type);
        wr32(e + 12, v->flags);
        wr32(e + 16, v->data_off);
        wr32(e + 20, v->data_len);
    }
    if (b->heap_len > 0)
        memcpy(out + hoff, b->heap, b->heap_len);
    wr32(out + 88, crc32c(0, out + HDR_SIZE, total - HDR_SIZE));
    wr32(out + 96, crc32c(0, out, 96));
    if (hcs_write_file_atomic(dirfd, name, (const char *)out, total, 0644, true, err) < 0)
        return hcs_err_wrap(err, "registry hive %s", name);
    return 0;
}

static int check_change(const hcs_reg_change *c, size_t i, hcs_error **err)
{
    char what[48];
    snprintf(what, sizeof(what), "change %zu", i + 1);
    switch (c->op) {
    case HCS_REG_SET_VALUE:
        return hcs_reg_key_check(what, c->key, err) < 0 ||
                       hcs_reg_value_check(what, c->name, c->type, c->data, c->len, err) < 0
                   ? -1
                   : 0;
    case HCS_REG_DELETE_VALUE:
        return hcs_reg_key_check(what, c->key, err) < 0 ||
                       hcs_reg_value_check(what, c->name, HCS_REG_NONE, NULL, 0, err) < 0
                   ? -1
                   : 0;
    case HCS_REG_CREATE_KEY:
    case HCS_REG_DELETE_KEY:
        return hcs_reg_key_check(what, c->key, err);
    default:
        return hcs_err_set(err, E_INVALIDARG, "%s: unknown operation %d", what, (int)c->op);
    }
}

/* Is path strictly below anc (both C strings)? */
/*
 * The records of a level given as changes in key order, each key's DELETE_KEY (its tombstone)
 * before its CREATE_KEY, then its values in name order (what hcs_reg_delta_changes gives).
 */
static int build_records(struct builder *b, const hcs_reg_change *c, size_t n, hcs_error **err)
{
    for (size_t i = 0; i < n;) {
        const char *key = c[i].key;
        unsigned bits = 0;
        size_t first = b->n_vals;
        for (; i < n && hcs_reg_key_cmp(c[i].key, key) == 0; i++) {
            switch (c[i].op) {
            case HCS_REG_DELETE_KEY:
                bits |= HCS_REG_KEY_OPAQUE;
                break;
            case HCS_REG_CREATE_KEY:
                bits |= HCS_REG_KEY_PRESENT;
                break;
            default:
                if (add_value(b, c[i].name, c[i].type, c[i].data, c[i].len,
                              c[i].op == HCS_REG_DELETE_VALUE, err) < 0)
                    return -1;
            }
        }
        if (add_key(b, key, bits, first, b->n_vals - first, err) < 0)
            return -1;
    }
    return 0;
}

/*
 * The level that changes make is what a delta holds after applying them: one set of rules for
 * both (a key's parents outlive its delete, tombstones, re-creation), so a delta exported as a
 * hive file and a hive file written from the same changes are the same level.
 */
int hcs_reg_hive_write(int dirfd, const char *name, enum hcs_reg_hive h,
                       const hcs_reg_change *changes, size_t n, hcs_error **err)
{
    if ((unsigned)h >= HCS_REG_N_HIVES || (changes == NULL && n > 0))
        return hcs_err_set(err, E_INVALIDARG, "registry hive %s: invalid arguments", name);
    AUTOFREE hcs_reg_change *mine = calloc(n ? n : 1, sizeof(*mine));
    if (mine == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "registry hive %s: out of memory", name);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (changes[i].hive != h)
            continue; /* another hive's file holds those */
        if (check_change(&changes[i], i, err) < 0)
            return hcs_err_wrap(err, "registry hive %s", name);
        mine[m++] = changes[i];
    }
    hcs_reg_delta *d = NULL;
    AUTOFREE hcs_reg_change *records = NULL;
    size_t n_records = 0;
    struct builder b = {0};
    int rc = -1;
    if (hcs_reg_delta_new_memory(&d, err) == 0 && hcs_reg_delta_apply(d, mine, m, err) == 0 &&
        hcs_reg_delta_changes(d, h, &records, &n_records, err) == 0 &&
        build_records(&b, records, n_records, err) == 0)
        rc = builder_write(&b, dirfd, name, h, err);
    else
        hcs_err_wrap(err, "registry hive %s", name);
    builder_free(&b);
    hcs_reg_delta_close(d);
    return rc;
}
