/*
 * fuzz_hive.c - libFuzzer target for hive files (lib/registry/hive.c).
 *
 * The input is opened as a hive file in place (hcs_reg_hive_open_mem: every read past its end
 * is an ASan report). A refusal must be HCS_E_INVALID_LAYER naming the file. When it opens,
 * verify runs, and every key and value is walked through the level operations from the root
 * (keys, values, subkeys, lookups of each name found) whatever verify said: a corrupt body must
 * read as missing records, never crash. A file that verifies must also be consistent: every
 * value enumerated is found again by lookup, and each subkey's bits are its key record's.
 *
 * Random bytes almost never carry valid checksums, which would keep the fuzzer at the header
 * check: each input also runs a second time with both CRC-32C fields recomputed, so that the
 * section bounds, record offsets and orderings behind them are explored too.
 *
 *   make fuzz && build/fuzz/fuzz_hive fuzz/corpus/hive
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VISITS 4096 /* keys per input: a corrupt file may name the same key many times */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "FUZZ-ASSERT: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

struct walk {
    hcs_reg_level level;
    enum hcs_reg_hive hive;
    bool verified;
    const char *key;
    size_t visits;
};

static int on_value(void *ctx, const hcs_reg_value *v)
{
    struct walk *w = ctx;
    /* Touch every byte: a pointer past the buffer is an ASan report. */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < v->len; i++)
        sum ^= v->data[i];
    (void)sum;
    hcs_reg_value again;
    int found = w->level.ops->value(w->level.self, w->hive, w->key, v->name, &again);
    if (w->verified && (found != 1 || again.len != v->len || again.deleted != v->deleted))
        fail("an enumerated value is not found again", v->name);
    return 0;
}

static void walk_key(struct walk *w, const char *key, unsigned depth);

struct child_ctx {
    struct walk *w;
    const char *parent;
    unsigned depth;
};

static int on_subkey(void *ctx, const char *name, unsigned bits)
{
    struct child_ctx *c = ctx;
    if (c->w->visits >= MAX_VISITS || c->depth >= HCS_REG_MAX_DEPTH)
        return 1;
    size_t plen = strlen(c->parent), nlen = strlen(name);
    char *child = malloc(plen + nlen + 2);
    if (child == NULL)
        return 1;
    if (plen > 0) {
        memcpy(child, c->parent, plen);
        child[plen] = '\\';
        memcpy(child + plen + 1, name, nlen + 1);
    } else {
        memcpy(child, name, nlen + 1);
    }
    bool below = false;
    unsigned got = c->w->level.ops->key(c->w->level.self, c->w->hive, child, &below);
    if (c->w->verified && got != bits)
        fail("a subkey's bits differ from its key record", child);
    walk_key(c->w, child, c->depth + 1);
    free(child);
    return 0;
}

static void walk_key(struct walk *w, const char *key, unsigned depth)
{
    w->visits++;
    const char *saved = w->key;
    w->key = key;
    w->level.ops->values(w->level.self, w->hive, key, on_value, w);
    w->key = saved;
    struct child_ctx c = {.w = w, .parent = key, .depth = depth};
    w->level.ops->subkeys(w->level.self, w->hive, key, on_subkey, &c);
}

/* CRC-32C, bit by bit (the library's is table-driven: two implementations check each other). */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void run(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    if (size >= 88) {
        uint8_t *copy = malloc(size);
        if (copy == NULL)
            return 0;
        memcpy(copy, data, size);
        put32(copy + 72, crc32c(copy + 88, size - 88));
        put32(copy + 80, crc32c(copy, 80));
        run(copy, size);
        free(copy);
    }
    return 0;
}

static void run(const uint8_t *data, size_t size)
{
    hcs_reg_hive_file *f = NULL;
    hcs_error *err = NULL;
    if (hcs_reg_hive_open_mem(data, size, "fuzz.hive", &f, &err) < 0) {
        if (f != NULL)
            fail("failure left a file in *out", NULL);
        if (err == NULL || err->message == NULL || strstr(err->message, "fuzz.hive") == NULL)
            fail("refusal without a message naming the file", err ? err->message : NULL);
        if (err->hr != HCS_E_INVALID_LAYER && err->hr != E_OUTOFMEMORY)
            fail("refusal with an unexpected HRESULT", err->message);
        hcs_err_free(err);
        return;
    }
    struct walk w = {.level = hcs_reg_hive_level(f), .hive = hcs_reg_hive_of(f)};
    w.verified = hcs_reg_hive_verify(f, &err) == 0;
    if (!w.verified) {
        if (err == NULL || err->hr != HCS_E_INVALID_LAYER ||
            strstr(err->message, "fuzz.hive") == NULL)
            fail("verify refused without an HCS_E_INVALID_LAYER naming the file",
                 err ? err->message : NULL);
        hcs_err_free(err);
    }
    (void)hcs_reg_hive_records(f);
    bool below;
    w.level.ops->key(w.level.self, w.hive, "", &below);
    walk_key(&w, "", 0);
    hcs_reg_hive_close(f);
}
