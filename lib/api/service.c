/* service.c - HcsGetServiceProperties and HcsModifyServiceSettings (synchronous). */
#include <stdlib.h>

#include "api.h"
#include "common/cleanup.h"
#include "common/context.h"
#include "common/host.h"
#include "schema/documents.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBRARY_VERSION STR(HCS_VERSION_MAJOR) "." STR(HCS_VERSION_MINOR) "." STR(HCS_VERSION_PATCH)

static cJSON *basic_properties(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *versions = cJSON_AddArrayToObject(o, "SupportedSchemaVersions");
    for (int minor = 0; versions != NULL && minor <= HCS_SCHEMA_MINOR_MAX; minor++) {
        cJSON *v = cJSON_CreateObject();
        if (v == NULL || !cJSON_AddItemToArray(versions, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddNumberToObject(v, "Major", HCS_SCHEMA_MAJOR);
        cJSON_AddNumberToObject(v, "Minor", minor);
    }
    if (cJSON_AddStringToObject(o, "LibraryVersion", LIBRARY_VERSION) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *host_properties(void)
{
    hcs_host_info h;
    hcs_host_probe("/", &h);
    AUTOFREE char *run = hcs_ctx_runtime_root();
    AUTOFREE char *data = hcs_ctx_data_root();
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || run == NULL || data == NULL ||
        !cJSON_AddStringToObject(o, "CgroupMode", hcs_cgroup_mode_name(h.cgroup_mode)) ||
        !cJSON_AddBoolToObject(o, "Overlayfs", h.overlayfs) ||
        !cJSON_AddBoolToObject(o, "Kvm", h.kvm) ||
        !cJSON_AddBoolToObject(o, "UserNamespaces", h.user_namespaces) ||
        !cJSON_AddStringToObject(o, "KernelRelease", h.kernel_release) ||
        !cJSON_AddStringToObject(o, "RuntimeRoot", run) ||
        !cJSON_AddStringToObject(o, "DataRoot", data)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

HCS_API HRESULT HcsGetServiceProperties(const char *propertyQuery, char **result)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (result == NULL)
        return hcs_api_fail_hr(E_POINTER, "result (the document out-parameter) is NULL");
    *result = NULL;
    hcs_doc_service_query *q = NULL;
    if (hcs_schema_parse(&hcs_type_service_query, propertyQuery, "Service_PropertyQuery", false,
                         (void **)&q, &err) < 0)
        return hcs_api_out(hcs_api_fail(err), result);
    static const int all[] = {HCS_SERVICE_PROPERTY_BASIC, HCS_SERVICE_PROPERTY_HOST};
    const int *types = all;
    size_t n = 2;
    if (q != NULL && q->property_types.n > 0) {
        types = q->property_types.items;
        n = q->property_types.n;
    }
    AUTOJSON cJSON *doc = cJSON_CreateObject();
    cJSON *props = doc ? cJSON_AddArrayToObject(doc, "Properties") : NULL;
    bool ok = props != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *p = types[i] == HCS_SERVICE_PROPERTY_BASIC ? basic_properties() : host_properties();
        ok = p != NULL && cJSON_AddItemToArray(props, p);
        if (!ok)
            cJSON_Delete(p);
    }
    hcs_schema_free(&hcs_type_service_query, q);
    char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
    if (text == NULL)
        return hcs_api_fail_hr(HCS_E_OPERATION_RESULT_ALLOCATION_FAILED, "out of memory");
    *result = text;
    return S_OK;
}

static int apply_settings(const hcs_doc_service_modify *m, hcs_error **err)
{
    if (m->property_type == HCS_SERVICE_SETTING_LOGGING) {
        hcs_doc_logging_settings *l = NULL;
        if (hcs_schema_parse_json(&hcs_type_logging_settings, m->settings, "ModificationRequest",
                                  "Settings", (void **)&l, err) < 0)
            return -1;
        hcs_ctx_set_log_level((enum hcs_log_level)(l->level - 1));
        hcs_schema_free(&hcs_type_logging_settings, l);
        return 0;
    }
    hcs_doc_roots_settings *r = NULL;
    if (hcs_schema_parse_json(&hcs_type_roots_settings, m->settings, "ModificationRequest",
                              "Settings", (void **)&r, err) < 0)
        return -1;
    int rc = hcs_ctx_set_roots(r->runtime_root, r->data_root, err);
    hcs_schema_free(&hcs_type_roots_settings, r);
    return rc;
}

HCS_API HRESULT HcsModifyServiceSettings(const char *settings, char **result)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (result != NULL)
        *result = NULL;
    hcs_doc_service_modify *m = NULL;
    if (hcs_schema_parse(&hcs_type_service_modify, settings, "ModificationRequest", true,
                         (void **)&m, &err) < 0)
        return hcs_api_out(hcs_api_fail(err), result);
    int rc = apply_settings(m, &err);
    hcs_schema_free(&hcs_type_service_modify, m);
    if (rc < 0)
        return hcs_api_out(hcs_api_fail(err), result);
    return S_OK;
}
