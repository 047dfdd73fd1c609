/*
 * fuzz_documents.c - libFuzzer target for the document engine (lib/schema).
 *
 * The first input byte chooses the document type (byte % 12, in the order of the table below;
 * the seed corpus uses '0'..'9', ':' and ';'), and whether the document is required
 * ((byte / 12) odd). The rest is copied into a NUL-terminated buffer and parsed with
 * hcs_schema_parse(). The invariants checked:
 *   - success: no error is set, and a document that is not absent gives a struct, which is freed;
 *   - failure: no struct is returned, and the error has a non-empty message and the HRESULT
 *     HCS_E_INVALID_JSON, E_INVALIDARG or E_OUTOFMEMORY (anything else aborts).
 * AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer check the rest.
 *
 *   make fuzz && build/fuzz/fuzz_documents -dict=fuzz/dict/json.dict fuzz/corpus/documents
 * (that writes new inputs into the corpus folder: copy it first for a throw-away run).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "schema/documents.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const hcs_type *type;
    const char *name;
} docs[] = {
    {&hcs_type_compute_system, "ComputeSystem"},
    {&hcs_type_process_parameters, "ProcessParameters"},
    {&hcs_type_property_query, "PropertyQuery"},
    {&hcs_type_modify_request, "ModifySettingRequest"},
    {&hcs_type_system_query, "SystemQuery"},
    {&hcs_type_layer_data, "LayerData"},
    {&hcs_type_shutdown_options, "ShutdownOptions"},
    {&hcs_type_pause_options, "PauseOptions"},
    {&hcs_type_signal_options, "SignalProcessOptions"},
    {&hcs_type_process_modify, "ProcessModifyRequest"},
    {&hcs_type_service_query, "Service_PropertyQuery"},
    {&hcs_type_service_modify, "ModificationRequest"},
    {&hcs_type_export_options, "ExportLayerOptions"},
    {&hcs_type_writable_layer_options, "WritableLayerOptions"},
};
#define N_DOCS (sizeof(docs) / sizeof(docs[0]))

static void fail(const char *doc, const char *what, const hcs_error *err)
{
    fprintf(stderr, "FUZZ-ASSERT: %s: %s (hr 0x%08x, message \"%s\")\n", doc, what,
            err ? (unsigned)err->hr : 0u, err && err->message ? err->message : "(none)");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t which = data[0] % N_DOCS;
    bool required = (data[0] / N_DOCS) % 2 == 1;
    const hcs_type *t = docs[which].type;
    const char *name = docs[which].name;

    char *text = malloc(size); /* size - 1 bytes of document and the NUL */
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    void *out = (void *)&out; /* must be overwritten either way */
    hcs_error *err = NULL;
    int rc = hcs_schema_parse(t, text, name, required, &out, &err);
    if (rc == 0) {
        if (err != NULL)
            fail(name, "success with an error set", err);
        if (out == NULL && !hcs_doc_absent(text))
            fail(name, "success without a struct for a present document", NULL);
        if (out == NULL && required)
            fail(name, "success without a struct for a required document", NULL);
        hcs_schema_free(t, out);
    } else {
        if (rc != -1)
            fail(name, "return value other than 0 or -1", err);
        if (err == NULL)
            fail(name, "failure without an error", NULL);
        if (out != NULL)
            fail(name, "failure left a struct in *out", err);
        if (err->message == NULL || err->message[0] == '\0')
            fail(name, "failure with an empty message", err);
        if (err->hr != HCS_E_INVALID_JSON && err->hr != E_INVALIDARG && err->hr != E_OUTOFMEMORY)
            fail(name, "failure with an unexpected HRESULT", err);
        hcs_err_free(err);
    }
    free(text);
    return 0;
}
