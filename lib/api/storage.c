/*
 * storage.c - the computestorage functions, over the layer module (lib/layer).
 *
 * They are synchronous, like HCS': each returns S_OK or the HRESULT of the failure, and
 * HcsGetErrorInfo() gives its ResultError (the message names the path, the archive entry or the
 * LayerData field at fault). layerData is a LayerData document: its Layers are the parent chain,
 * nearest parent first, as in Container.Storage.Layers.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "common/cleanup.h"
#include "layer/layer.h"
#include "schema/documents.h"

/* The parsed arguments of a storage call. */
typedef struct storage_args {
    hcs_doc_layer_data *ld;
    const char **parents; /* the Layers' paths */
    size_t n_parents;
} storage_args;

static void args_free(storage_args *a)
{
    hcs_schema_free(&hcs_type_layer_data, a->ld);
    free(a->parents);
}

static int check_path(const char *name, const char *path, hcs_error **err)
{
    if (path == NULL || path[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "%s is required", name);
    if (path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s must be an absolute path, got \"%s\"", name,
                           path);
    return 0;
}

/* Parse layerData (NULL or "" means no parents). */
static int parse_layer_data(const char *layer_data, storage_args *a, hcs_error **err)
{
    memset(a, 0, sizeof(*a));
    if (hcs_schema_parse(&hcs_type_layer_data, layer_data, "LayerData", false, (void **)&a->ld,
                         err) < 0)
        return -1;
    if (a->ld == NULL || a->ld->layers.n == 0)
        return 0;
    const hcs_doc_layer *l = a->ld->layers.items;
    a->n_parents = a->ld->layers.n;
    a->parents = calloc(a->n_parents, sizeof(*a->parents));
    if (a->parents == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    for (size_t i = 0; i < a->n_parents; i++)
        a->parents[i] = l[i].path;
    return 0;
}

static HRESULT done(int rc, hcs_error *err)
{
    if (rc == 0)
        return S_OK;
    return hcs_api_fail(err);
}

HCS_API HRESULT HcsImportLayer(const char *layerPath, const char *sourceFolderPath,
                               const char *layerData)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    storage_args a = {0};
    int rc = -1;
    if (check_path("layerPath", layerPath, &err) == 0 &&
        check_path("sourceFolderPath", sourceFolderPath, &err) == 0 &&
        parse_layer_data(layerData, &a, &err) == 0) {
        hcs_layer_import_opts o = {.parents = a.parents, .n_parents = a.n_parents};
        if (a.ld != NULL && a.ld->import_limits != NULL) {
            o.max_bytes = a.ld->import_limits->max_bytes.value;
            o.max_entries = a.ld->import_limits->max_entries.value;
        }
        rc = hcs_layer_import(layerPath, sourceFolderPath, &o, NULL, &err);
    }
    args_free(&a);
    return done(rc, err);
}

HCS_API HRESULT HcsExportLayer(const char *layerPath, const char *exportFolderPath,
                               const char *layerData, const char *options)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    storage_args a = {0};
    hcs_doc_export_options *eo = NULL;
    int rc = -1;
    if (check_path("layerPath", layerPath, &err) == 0 &&
        check_path("exportFolderPath", exportFolderPath, &err) == 0 &&
        parse_layer_data(layerData, &a, &err) == 0 &&
        hcs_schema_parse(&hcs_type_export_options, options, "ExportLayerOptions", false,
                         (void **)&eo, &err) == 0) {
        hcs_layer_export_opts o = {0};
        if (eo != NULL && eo->compression == HCS_EXPORT_COMPRESSION_GZIP &&
            eo->compression_level.value > 9) {
            hcs_err_set(&err, HCS_E_INVALID_JSON,
                        "ExportLayerOptions.CompressionLevel: gzip takes a level from 1 to 9, "
                        "got %llu",
                        (unsigned long long)eo->compression_level.value);
            goto out;
        }
        if (eo != NULL) {
            static const enum hcs_layer_compression map[] = {
                [HCS_EXPORT_COMPRESSION_NONE] = HCS_LAYER_COMPRESS_NONE,
                [HCS_EXPORT_COMPRESSION_GZIP] = HCS_LAYER_COMPRESS_GZIP,
                [HCS_EXPORT_COMPRESSION_ZSTD] = HCS_LAYER_COMPRESS_ZSTD,
            };
            o.compression = map[eo->compression];
            o.level = (int)eo->compression_level.value;
            o.deterministic = eo->deterministic.value;
            o.timestamp = eo->timestamp.value;
        }
        rc = hcs_layer_export(layerPath, exportFolderPath, &o, NULL, &err);
    }
out:
    hcs_schema_free(&hcs_type_export_options, eo);
    args_free(&a);
    return done(rc, err);
}

HCS_API HRESULT HcsDestroyLayer(const char *layerPath)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    int rc = -1;
    if (check_path("layerPath", layerPath, &err) == 0)
        rc = hcs_layer_destroy(layerPath, &err);
    return done(rc, err);
}

HCS_API HRESULT HcsInitializeWritableLayer(const char *writableLayerPath, const char *layerData,
                                           const char *options)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    storage_args a = {0};
    void *wo = NULL;
    int rc = -1;
    if (check_path("writableLayerPath", writableLayerPath, &err) == 0 &&
        parse_layer_data(layerData, &a, &err) == 0 &&
        hcs_schema_parse(&hcs_type_writable_layer_options, options, "WritableLayerOptions", false,
                         &wo, &err) == 0)
        rc = hcs_layer_init_writable(writableLayerPath, a.parents, a.n_parents, &err);
    hcs_schema_free(&hcs_type_writable_layer_options, wo);
    args_free(&a);
    return done(rc, err);
}

HCS_API HRESULT HcsAttachLayerStorageFilter(const char *layerPath, const char *layerData)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    storage_args a = {0};
    int rc = -1;
    if (check_path("layerPath", layerPath, &err) == 0 && parse_layer_data(layerData, &a, &err) == 0)
        rc = hcs_layer_attach(layerPath, a.parents, a.n_parents, &err);
    args_free(&a);
    return done(rc, err);
}

HCS_API HRESULT HcsDetachLayerStorageFilter(const char *layerPath)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    int rc = -1;
    if (check_path("layerPath", layerPath, &err) == 0)
        rc = hcs_layer_detach(layerPath, &err);
    return done(rc, err);
}
