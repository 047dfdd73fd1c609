/*
 * storage.c - the computestorage functions. They need the layer module (lib/layer), which is
 * not built yet: the calls check their arguments and LayerData, then return E_NOTIMPL saying so.
 * They are synchronous; HcsGetErrorInfo() gives the ResultError of a failure.
 */
#include "api.h"
#include "schema/documents.h"

#define NOT_BUILT "layers need the layer module (lib/layer), which is not built yet"

static int check_path(const char *name, const char *path, hcs_error **err)
{
    if (path == NULL || path[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "%s is required", name);
    if (path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s must be an absolute path, got \"%s\"", name,
                           path);
    return 0;
}

static int check_layer_data(const char *layer_data, hcs_error **err)
{
    hcs_doc_layer_data *ld = NULL;
    if (hcs_schema_parse(&hcs_type_layer_data, layer_data, "LayerData", false, (void **)&ld, err) <
        0)
        return -1;
    hcs_schema_free(&hcs_type_layer_data, ld);
    return 0;
}

static HRESULT not_built(const char *what, hcs_error *err)
{
    if (err != NULL)
        return hcs_api_fail(err);
    return hcs_api_fail_hr(E_NOTIMPL, "%s: %s", what, NOT_BUILT);
}

HCS_API HRESULT HcsImportLayer(const char *layerPath, const char *sourceFolderPath,
                               const char *layerData)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (check_path("layerPath", layerPath, &err) == 0 &&
        check_path("sourceFolderPath", sourceFolderPath, &err) == 0)
        check_layer_data(layerData, &err);
    return not_built("import layer", err);
}

HCS_API HRESULT HcsExportLayer(const char *layerPath, const char *exportFolderPath,
                               const char *layerData, const char *options)
{
    hcs_api_enter();
    (void)options;
    hcs_error *err = NULL;
    if (check_path("layerPath", layerPath, &err) == 0 &&
        check_path("exportFolderPath", exportFolderPath, &err) == 0)
        check_layer_data(layerData, &err);
    return not_built("export layer", err);
}

HCS_API HRESULT HcsDestroyLayer(const char *layerPath)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    check_path("layerPath", layerPath, &err);
    return not_built("destroy layer", err);
}

HCS_API HRESULT HcsInitializeWritableLayer(const char *writableLayerPath, const char *layerData,
                                           const char *options)
{
    hcs_api_enter();
    (void)options;
    hcs_error *err = NULL;
    if (check_path("writableLayerPath", writableLayerPath, &err) == 0)
        check_layer_data(layerData, &err);
    return not_built("initialize writable layer", err);
}

HCS_API HRESULT HcsAttachLayerStorageFilter(const char *layerPath, const char *layerData)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (check_path("layerPath", layerPath, &err) == 0)
        check_layer_data(layerData, &err);
    return not_built("attach layer storage filter", err);
}

HCS_API HRESULT HcsDetachLayerStorageFilter(const char *layerPath)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    check_path("layerPath", layerPath, &err);
    return not_built("detach layer storage filter", err);
}
