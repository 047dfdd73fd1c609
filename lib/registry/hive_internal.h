/*
 * hive_internal.h - internal to lib/registry: the byte orders that model.c's comparisons
 * define, shared with hive.c's searches (which compare from an offset for speed and must agree
 * with them exactly), and a list of names collected from a walk.
 */
#ifndef HCS_REGISTRY_HIVE_INTERNAL_H
#define HCS_REGISTRY_HIVE_INTERNAL_H

/* ASCII letters folded to upper case (as Windows sorts), every other byte as it is. */
static inline unsigned hcs_reg_fold(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned)c - 32u : c;
}

/* A byte's rank in key paths: the end 0, the separator 1, every other byte above both. */
static inline int hcs_reg_key_rank(unsigned char c)
{
    return c == 0 ? 0 : c == '\\' ? 1 : (int)hcs_reg_fold(c) + 2;
}

#include <stddef.h>
#include <stdint.h>

/* The value of a hexadecimal digit, or -1 (.reg hex lists, reg.exe REG_BINARY data). */
static inline int hcs_reg_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The hash of a key path for exact lookups: FNV-1a over its bytes with ASCII letters folded
 * (so equal under hcs_reg_key_cmp means equal hash), then mixed. Hive files store it in their
 * index: changing it changes the file format.
 */
static inline uint32_t hcs_reg_key_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)key; *p != 0; p++)
        h = (h ^ hcs_reg_fold(*p)) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Names collected by a walk (copies), e.g. subkeys before recursing into them. */
typedef struct hcs_reg_names {
    char **names;
    size_t n, cap;
} hcs_reg_names;

/* Append a copy of name to the hcs_reg_names ctx: a subkeys callback. 0, or -1 out of memory. */
int hcs_reg_names_add(void *ctx, const char *name);
void hcs_reg_names_free(hcs_reg_names *l);

#endif
