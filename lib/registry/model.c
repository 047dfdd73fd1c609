/*
 * model.c - the registry model: hive names, key and value checks, the comparisons every level
 * sorts by.
 *
 * Names compare with ASCII letters folded to upper case (as Windows sorts subkeys) and every
 * other byte as it is. Key paths compare component by component: the separator ranks below
 * every other byte, so a key's descendants sort right after it and before its next sibling.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "hive_internal.h"
#include "registry.h"

static const char *const hive_names[HCS_REG_N_HIVES] = {"System", "Software", "Security", "Sam",
                                                        "DefaultUser"};

const char *hcs_reg_hive_name(enum hcs_reg_hive h)
{
    return (unsigned)h < HCS_REG_N_HIVES ? hive_names[h] : "unknown";
}

int hcs_reg_hive_parse(const char *name, enum hcs_reg_hive *out, hcs_error **err)
{
    for (unsigned i = 0; name != NULL && i < HCS_REG_N_HIVES; i++) {
        if (strcasecmp(name, hive_names[i]) == 0) {
            *out = (enum hcs_reg_hive)i;
            return 0;
        }
    }
    return hcs_err_set(err, E_INVALIDARG,
                       "unknown registry hive \"%.64s\" (expected System, Software, Security, "
                       "Sam or DefaultUser)",
                       name ? name : "(null)");
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Is s[0..n) valid UTF-8 without NUL? */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == 0)
            return false;
        size_t l = utf8_seq(s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

int hcs_reg_key_check(const char *what, const char *key, hcs_error **err)
{
    if (what == NULL)
        what = "key";
    if (key == NULL)
        return hcs_err_set(err, E_INVALIDARG, "%s: no key", what);
    if (key[0] == '\0')
        return 0;
    size_t depth = 0;
    const char *p = key;
    for (;;) {
        size_t n = strcspn(p, "\\");
        depth++;
        if (n == 0)
            return hcs_err_set(err, E_INVALIDARG,
                               "%s: key \"%.300s\" has an empty component (a leading, trailing "
                               "or doubled '\\')",
                               what, key);
        if (n > HCS_REG_MAX_COMPONENT)
            return hcs_err_set(err, E_INVALIDARG,
                               "%s: key \"%.300s\": component %zu is %zu bytes (at most %d)", what,
                               key, depth, n, HCS_REG_MAX_COMPONENT);
        if (depth > HCS_REG_MAX_DEPTH)
            return hcs_err_set(err, E_INVALIDARG, "%s: key \"%.300s...\" is deeper than %d", what,
                               key, HCS_REG_MAX_DEPTH);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x20 || c == 0x7f)
                return hcs_err_set(err, E_INVALIDARG,
                                   "%s: key \"%.300s\" holds a control character (0x%02x)", what,
                                   key, c);
        }
        if (!utf8_valid((const unsigned char *)p, n))
            return hcs_err_set(err, E_INVALIDARG, "%s: key \"%.300s\" is not valid UTF-8", what,
                               key);
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

int hcs_reg_value_check(const char *what, const char *name, uint32_t type, const uint8_t *data,
                        size_t len, hcs_error **err)
{
    if (what == NULL)
        what = "value";
    if (name == NULL)
        return hcs_err_set(err, E_INVALIDARG, "%s: no value name", what);
    size_t nlen = strlen(name);
    if (nlen > HCS_REG_MAX_NAME)
        return hcs_err_set(err, E_INVALIDARG,
                           "%s: value name \"%.64s...\" is %zu bytes (at most %d)", what, name,
                           nlen, HCS_REG_MAX_NAME);
    if (!utf8_valid((const unsigned char *)name, nlen))
        return hcs_err_set(err, E_INVALIDARG, "%s: value name \"%.300s\" is not valid UTF-8", what,
                           name);
    const char *shown = nlen == 0 ? "@" : name;
    if (data == NULL && len > 0)
        return hcs_err_set(err, E_INVALIDARG, "%s: value \"%.300s\" has %zu bytes but no data",
                           what, shown, len);
    if (len > HCS_REG_MAX_DATA)
        return hcs_err_set(err, E_INVALIDARG, "%s: value \"%.300s\" is %zu bytes (at most %u)",
                           what, shown, len, HCS_REG_MAX_DATA);
    switch (type) {
    case HCS_REG_DWORD:
    case HCS_REG_QWORD: {
        size_t want = type == HCS_REG_DWORD ? 4 : 8;
        if (len != want)
            return hcs_err_set(err, E_INVALIDARG, "%s: %s value \"%.300s\" is %zu bytes, not %zu",
                               what, type == HCS_REG_DWORD ? "DWORD" : "QWORD", shown, len, want);
        return 0;
    }
    case HCS_REG_SZ:
    case HCS_REG_EXPAND_SZ:
        if (!utf8_valid(data, len))
            return hcs_err_set(err, E_INVALIDARG,
                               "%s: string value \"%.300s\" is not UTF-8 without NUL", what, shown);
        return 0;
    case HCS_REG_MULTI_SZ:
        if (len == 0)
            return 0;
        if (data[len - 1] != 0)
            return hcs_err_set(err, E_INVALIDARG,
                               "%s: MULTI_SZ value \"%.300s\" does not end with a NUL", what,
                               shown);
        for (size_t i = 0; i < len;) {
            const uint8_t *end = memchr(data + i, 0, len - i);
            size_t n = (size_t)(end - (data + i));
            if (!utf8_valid(data + i, n))
                return hcs_err_set(err, E_INVALIDARG,
                                   "%s: MULTI_SZ value \"%.300s\" holds a string that is not "
                                   "UTF-8",
                                   what, shown);
            i += n + 1;
        }
        return 0;
    default:
        return 0;
    }
}

int hcs_reg_name_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        unsigned cx = hcs_reg_fold(*x), cy = hcs_reg_fold(*y);
        if (cx != cy || cx == 0)
            return (int)cx - (int)cy;
    }
}

int hcs_reg_key_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        int rx = hcs_reg_key_rank(*x), ry = hcs_reg_key_rank(*y);
        if (rx != ry || rx == 0)
            return rx - ry;
    }
}

int hcs_reg_names_add(void *ctx, const char *name)
{
    hcs_reg_names *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **p = cap > SIZE_MAX / sizeof(*p) ? NULL : realloc(l->names, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        l->names = p;
        l->cap = cap;
    }
    if ((l->names[l->n] = strdup(name)) == NULL)
        return -1;
    l->n++;
    return 0;
}

void hcs_reg_names_free(hcs_reg_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = l->cap = 0;
}
