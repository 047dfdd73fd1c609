/*
 * fuzz_reg.c - libFuzzer target for the .reg parser (lib/registry/reg.c).
 *
 * The whole input (not NUL-terminated, so reads past its length are caught) goes through
 * hcs_reg_parse(). On failure the error must be E_INVALIDARG (naming "fuzz.reg:<line>:") or
 * E_OUTOFMEMORY, and no changes are returned. On success every change must be what the parser
 * promises: a known op and hive, a key that passes hcs_reg_key_check, and for SET_VALUE a value
 * that passes hcs_reg_value_check. Small inputs also round-trip: the changes applied to a memory
 * delta, each hive exported, the text parsed and applied to a fresh delta must export the same
 * text. Then everything is freed (a leak is a failure).
 *
 *   make fuzz && build/fuzz/fuzz_reg fuzz/corpus/reg
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "FUZZ-ASSERT: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_change(const hcs_reg_change *c)
{
    hcs_error *err = NULL;
    if (c->op < HCS_REG_SET_VALUE || c->op > HCS_REG_DELETE_KEY)
        fail("a change with an unknown op", NULL);
    if ((unsigned)c->hive >= HCS_REG_N_HIVES)
        fail("a change with an unknown hive", NULL);
    if (c->key == NULL || hcs_reg_key_check("key", c->key, &err) < 0)
        fail("a change with a bad key", err ? err->message : NULL);
    if (c->op == HCS_REG_DELETE_KEY && c->key[0] == '\0')
        fail("a change deleting a hive's root", NULL);
    switch (c->op) {
    case HCS_REG_SET_VALUE:
        if (c->name == NULL || c->data == NULL)
            fail("SET_VALUE without a name or data", NULL);
        if (hcs_reg_value_check("value", c->name, c->type, c->data, c->len, &err) < 0)
            fail("SET_VALUE with a bad value", err->message);
        break;
    case HCS_REG_DELETE_VALUE:
        if (c->name == NULL)
            fail("DELETE_VALUE without a name", NULL);
        break;
    default:
        if (c->name != NULL || c->data != NULL)
            fail("a key change with a name or data", NULL);
        break;
    }
}

#define ROUND_TRIP_MAX 256 /* changes; larger inputs are only parsed */

/* A view of one memory delta holding changes. */
static int view_of(const hcs_reg_change *c, size_t n, hcs_reg_delta **d, hcs_reg_view **v)
{
    hcs_error *err = NULL;
    *d = NULL;
    *v = NULL;
    if (hcs_reg_delta_new_memory(d, &err) < 0 || hcs_reg_delta_apply(*d, c, n, &err) < 0) {
        if (err == NULL || err->hr != E_OUTOFMEMORY)
            fail("parsed changes do not apply", err ? err->message : NULL);
        hcs_err_free(err);
        return -1;
    }
    hcs_reg_level l = hcs_reg_delta_level(*d);
    if (hcs_reg_view_new(&l, 1, v, &err) < 0) {
        hcs_err_free(err);
        return -1;
    }
    return 0;
}

/* Export hive h of v1, parse it, apply it to a fresh delta, export again: the same text. */
static void round_trip_hive(const hcs_reg_view *v1, enum hcs_reg_hive h)
{
    char *t1 = NULL, *t2 = NULL;
    size_t l1 = 0, l2 = 0, n2 = 0;
    hcs_reg_change *c2 = NULL;
    hcs_reg_delta *d2 = NULL;
    hcs_reg_view *v2 = NULL;
    hcs_error *err = NULL;
    if (hcs_reg_export(v1, h, "", &t1, &l1, &err) == 0) {
        if (hcs_reg_parse(t1, l1, "exported", &c2, &n2, &err) < 0) {
            fprintf(stderr, "exported:\n%.2000s\n", t1);
            fail("an export does not parse", err->message);
        }
        if (view_of(c2, n2, &d2, &v2) == 0 && hcs_reg_export(v2, h, "", &t2, &l2, &err) == 0 &&
            (l1 != l2 || memcmp(t1, t2, l1) != 0)) {
            fprintf(stderr, "first:\n%.2000s\nsecond:\n%.2000s\n", t1, t2);
            fail("export -> parse -> export changed the text", NULL);
        }
    }
    if (err != NULL && err->hr != E_OUTOFMEMORY)
        fail("export failed", err->message);
    hcs_err_free(err);
    hcs_reg_changes_free(c2, n2);
    free(t1);
    free(t2);
    hcs_reg_view_free(v2);
    hcs_reg_delta_close(d2);
}

static void round_trip(const hcs_reg_change *c, size_t n)
{
    hcs_reg_delta *d;
    hcs_reg_view *v;
    if (view_of(c, n, &d, &v) == 0)
        for (int h = 0; h < HCS_REG_N_HIVES; h++)
            round_trip_hive(v, (enum hcs_reg_hive)h);
    hcs_reg_view_free(v);
    hcs_reg_delta_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hcs_reg_change *changes = NULL;
    size_t n = 0;
    hcs_error *err = NULL;
    if (hcs_reg_parse((const char *)data, size, "fuzz.reg", &changes, &n, &err) < 0) {
        if (changes != NULL || n != 0)
            fail("failure left changes in *changes", NULL);
        if (err == NULL || err->message == NULL)
            fail("failure without an error", NULL);
        if (err->hr == E_INVALIDARG && strncmp(err->message, "fuzz.reg:", 9) != 0)
            fail("a parse error that does not name the file and line", err->message);
        if (err->hr != E_INVALIDARG && err->hr != E_OUTOFMEMORY)
            fail("an unexpected HRESULT", err->message);
        hcs_err_free(err);
        return 0;
    }
    if (err != NULL)
        fail("success with an error set", err->message);
    if (n > 0 && changes == NULL)
        fail("success with changes but no array", NULL);
    for (size_t i = 0; i < n; i++)
        check_change(&changes[i]);
    if (n <= ROUND_TRIP_MAX)
        round_trip(changes, n);
    hcs_reg_changes_free(changes, n);
    return 0;
}
