/*
 * json.h - cJSON with exact integers, and small document helpers.
 *
 * cJSON keeps numbers as doubles, which loses integers above 2^53. hcs_json_parse() also keeps
 * each number's source text (in the node's valuestring, which cJSON frees with the node) so
 * hcs_json_u64()/hcs_json_i64() read 64-bit integers exactly.
 */
#ifndef HCS_COMMON_JSON_H
#define HCS_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

/*
 * Parse a JSON document. Syntax errors give HCS_E_INVALID_JSON with the line, column and the
 * text near the error. `what` names the document in messages ("ComputeSystem document").
 */
int hcs_json_parse(const char *text, size_t len, const char *what, cJSON **out, hcs_error **err);

/* The source text of a number node (parsed by hcs_json_parse), or NULL. */
const char *hcs_json_number_text(const cJSON *n);

/* Exact integer reads: 0 on success, -1 if the number is not an integer in range. */
int hcs_json_u64(const cJSON *n, uint64_t *out);
int hcs_json_i64(const cJSON *n, int64_t *out);

/* Describe a node for messages: `"lots"`, `12.5`, `true`, `an object`, `an array`, `null`. */
char *hcs_json_describe(const cJSON *n);

/*
 * A deep copy of n in which every integer read by hcs_json_parse (whose source text still agrees
 * with its value) becomes a raw node holding that text, so printing keeps all its digits: cJSON
 * prints numbers through a double. NULL when out of memory.
 */
cJSON *hcs_json_dup_exact(const cJSON *n);

/* Print compactly, integers exactly (see hcs_json_dup_exact); NULL when out of memory. */
char *hcs_json_print(const cJSON *n);

/* Add an exact 64-bit integer to an object (cJSON would round it through a double). */
cJSON *hcs_json_add_u64(cJSON *obj, const char *name, uint64_t v);
cJSON *hcs_json_add_i64(cJSON *obj, const char *name, int64_t v);

#endif
