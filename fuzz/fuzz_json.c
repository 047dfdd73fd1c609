/*
 * fuzz_json.c - libFuzzer target for the JSON layer (lib/common/json.c).
 *
 * The whole input (not NUL-terminated, so reads past its length are caught) goes through
 * hcs_json_parse(). On failure the error must be HCS_E_INVALID_JSON or E_OUTOFMEMORY with a
 * non-empty message. On success every number node is read with hcs_json_u64() and
 * hcs_json_i64(), which must agree with each other, with the node's source text and (for
 * integers cJSON holds exactly) with cJSON's double; a few of them also go through
 * hcs_json_add_u64()/hcs_json_add_i64(), print and parse back to the same value. The tree is
 * described (hcs_json_describe) node by node, printed, and the printed text must parse again.
 *
 *   make fuzz && build/fuzz/fuzz_json -dict=fuzz/dict/json.dict fuzz/corpus/json
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUND_TRIPS 8 /* numbers per input that also go through add/print/parse */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "FUZZ-ASSERT: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_error(hcs_error *err, const char *where)
{
    if (err == NULL)
        fail(where, "failure without an error");
    if (err->message == NULL || err->message[0] == '\0')
        fail(where, "failure with an empty message");
    if (err->hr != HCS_E_INVALID_JSON && err->hr != E_OUTOFMEMORY)
        fail(where, err->message);
    hcs_err_free(err);
}

/* Is text a plain decimal integer ("-"? digits), the only form the exact readers accept? */
static bool integer_text(const char *t)
{
    if (*t == '-')
        t++;
    return *t != '\0' && strspn(t, "0123456789") == strlen(t);
}

/* Add v with the exact writer, print, parse, read back: the same value or out of memory. */
static void round_trip(uint64_t u, int64_t i, bool is_signed)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return;
    cJSON *n = is_signed ? hcs_json_add_i64(obj, "v", i) : hcs_json_add_u64(obj, "v", u);
    char *text = n ? hcs_json_print(obj) : NULL;
    cJSON_Delete(obj);
    if (text == NULL)
        return;
    cJSON *back = NULL;
    hcs_error *err = NULL;
    if (hcs_json_parse(text, strlen(text), "round trip", &back, &err) < 0) {
        if (err != NULL && err->hr == E_OUTOFMEMORY) {
            hcs_err_free(err);
            free(text);
            return;
        }
        fail("printed exact integer does not parse", text);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(back, "v");
    uint64_t u2;
    int64_t i2;
    if (is_signed ? (hcs_json_i64(v, &i2) < 0 || i2 != i) : (hcs_json_u64(v, &u2) < 0 || u2 != u))
        fail("exact integer changed in a round trip", text);
    cJSON_Delete(back);
    free(text);
}

static void check_number(const cJSON *n, int *round_trips)
{
    const char *t = hcs_json_number_text(n);
    if (t == NULL || t[0] == '\0')
        fail("number node without its source text", NULL);
    uint64_t u = 0;
    int64_t i = 0;
    bool u_ok = hcs_json_u64(n, &u) == 0;
    bool i_ok = hcs_json_i64(n, &i) == 0;
    if ((u_ok || i_ok) && !integer_text(t))
        fail("a non-integer read as an integer", t);
    if (i_ok && i >= 0 && (!u_ok || u != (uint64_t)i))
        fail("hcs_json_i64 and hcs_json_u64 disagree", t);
    if (u_ok && u <= INT64_MAX && (!i_ok || (uint64_t)i != u))
        fail("hcs_json_u64 and hcs_json_i64 disagree", t);
    if (u_ok && u > 0 && t[0] == '-')
        fail("a negative number read as a positive unsigned", t);
    /* cJSON's double is exact up to 2^53: it must hold the same value. */
    if (i_ok && i > -(INT64_C(1) << 53) && i < (INT64_C(1) << 53) && n->valuedouble != (double)i)
        fail("cJSON's double differs from the exact integer", t);
    if (u_ok && u < (UINT64_C(1) << 53) && n->valuedouble != (double)u)
        fail("cJSON's double differs from the exact unsigned integer", t);
    if ((u_ok || i_ok) && *round_trips < ROUND_TRIPS) {
        (*round_trips)++;
        round_trip(u, i, !u_ok);
    }
}

static void walk(const cJSON *node, int *round_trips)
{
    for (; node != NULL; node = node->next) {
        char *d = hcs_json_describe(node);
        free(d);
        if (cJSON_IsNumber(node))
            check_number(node, round_trips);
        else if (hcs_json_number_text(node) != NULL)
            fail("number text on a node that is not a number", NULL);
        if (node->child != NULL)
            walk(node->child, round_trips);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *root = NULL;
    hcs_error *err = NULL;
    /* libFuzzer's buffer holds exactly size bytes: any read past it is an ASan report. */
    if (hcs_json_parse((const char *)data, size, "fuzz input", &root, &err) < 0) {
        if (root != NULL)
            fail("failure left a tree in *out", NULL);
        check_error(err, "hcs_json_parse");
        return 0;
    }
    if (err != NULL)
        fail("success with an error set", err->message);
    if (root == NULL)
        fail("success without a tree", NULL);
    int round_trips = 0;
    walk(root, &round_trips);

    /* What cJSON prints must parse again (numbers print from their doubles). */
    char *printed = hcs_json_print(root);
    if (printed != NULL) {
        cJSON *again = NULL;
        if (hcs_json_parse(printed, strlen(printed), "printed input", &again, &err) < 0) {
            if (err == NULL || err->hr != E_OUTOFMEMORY) {
                fprintf(stderr, "printed: %.200s\n", printed);
                fail("printed tree does not parse", err ? err->message : NULL);
            }
            hcs_err_free(err);
        }
        cJSON_Delete(again);
        free(printed);
    }
    cJSON_Delete(root);
    return 0;
}
