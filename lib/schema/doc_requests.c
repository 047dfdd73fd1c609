/* doc_requests.c - queries, modify requests, option and service documents (§5.5-5.10). */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "doc_macros.h"
#include "documents.h"

/* --- PropertyQuery ---------------------------------------------------------------------------- */

static const char *const property_types[] = {"Memory",
                                             "Statistics",
                                             "ProcessList",
                                             "TerminateOnLastHandleClosed",
                                             "Registry",
                                             "SharedMemoryRegion",
                                             "GuestConnection",
                                             "GuestMemory",
                                             "ContainerCredentialGuard",
                                             "ICHeartbeatStatus",
                                             "ProcessorTopology",
                                             "CpuGroup",
                                             "SystemGUID",
                                             NULL};
static const char *const property_types_unsupported[] = {"SharedMemoryRegion",
                                                         "GuestConnection",
                                                         "GuestMemory",
                                                         "ContainerCredentialGuard",
                                                         "ICHeartbeatStatus",
                                                         "ProcessorTopology",
                                                         "CpuGroup",
                                                         "SystemGUID",
                                                         NULL};

/* libhcs extension: the key a "Registry" property query reads. */
static const char *const registry_hives[] = {"System", "Software",    "Security",
                                             "Sam",    "DefaultUser", NULL};
static const hcs_field registry_query_fields[] = {
    {.name = "Hive",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .values = registry_hives},
    {.name = "Name",
     .kind = HK_STRING,
     .offset = NOSTORE,
     .note = "the key path; \"\" is the root"},
    END,
};
static const hcs_type registry_query = {"RegistryQuery", 0, registry_query_fields, NULL};

/* "Registry" and RegistryQuery go together. */
static int check_property_query(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_property_query *q = obj;
    bool registry = false;
    for (size_t i = 0; i < q->property_types.n; i++)
        registry |= ((const int *)q->property_types.items)[i] == HCS_PROPERTY_REGISTRY;
    if (registry && q->registry_query == NULL)
        return hcs_walk_fail(w, "RegistryQuery", HCS_E_INVALID_JSON,
                             "required with the \"Registry\" property type (the key to read: "
                             "{\"Hive\": \"Software\", \"Name\": \"Key\\\\Path\"})");
    if (!registry && q->registry_query != NULL)
        return hcs_walk_fail(w, "RegistryQuery", HCS_E_INVALID_JSON,
                             "only goes with the \"Registry\" property type in PropertyTypes");
    return 0;
}

static const hcs_field property_query_fields[] = {
    {.name = "PropertyTypes",
     .kind = HK_ARRAY,
     .elem = HK_ENUM,
     .offset = OFF(hcs_doc_property_query, property_types),
     .values = property_types,
     .unsupported = property_types_unsupported,
     .note = "not implemented for compute systems"},
    {.name = "RegistryQuery",
     .kind = HK_OBJECT,
     .flags = HF_KEEP_JSON,
     .offset = OFF(hcs_doc_property_query, registry_query),
     .type = &registry_query},
    UNSUPPORTED("Queries", "per-property queries (schema 2.5) are not implemented yet"),
    END,
};
const hcs_type hcs_type_property_query = {"PropertyQuery", sizeof(hcs_doc_property_query),
                                          property_query_fields, check_property_query};

/* --- SystemQuery ------------------------------------------------------------------------------ */

static const char *const system_types[] = {"Container", "VirtualMachine", NULL};
static const hcs_field system_query_fields[] = {
    {.name = "Ids", .kind = HK_ARRAY, .elem = HK_STRING, .offset = OFF(hcs_doc_system_query, ids)},
    {.name = "Names",
     .kind = HK_ARRAY,
     .elem = HK_STRING,
     .offset = OFF(hcs_doc_system_query, names)},
    {.name = "Types",
     .kind = HK_ARRAY,
     .elem = HK_ENUM,
     .offset = OFF(hcs_doc_system_query, types),
     .values = system_types},
    {.name = "Owners",
     .kind = HK_ARRAY,
     .elem = HK_STRING,
     .offset = OFF(hcs_doc_system_query, owners)},
    END,
};
const hcs_type hcs_type_system_query = {"SystemQuery", sizeof(hcs_doc_system_query),
                                        system_query_fields, NULL};

/* --- ModifySettingRequest --------------------------------------------------------------------- */

enum settings_kind { SETTINGS_U64, SETTINGS_OBJECT };

static const struct resource {
    const char *path;
    const hcs_type *type;
    enum settings_kind kind;
    unsigned requests; /* bit (1 << HCS_REQUEST_*) for each RequestType accepted */
} resources[] = {
    {"Container/Memory/SizeInMB", NULL, SETTINGS_U64, 1u << HCS_REQUEST_UPDATE},
    {"Container/Processor", &hcs_type_container_processor, SETTINGS_OBJECT,
     1u << HCS_REQUEST_UPDATE},
    {"Container/MappedDirectories", &hcs_type_mapped_directory, SETTINGS_OBJECT,
     (1u << HCS_REQUEST_ADD) | (1u << HCS_REQUEST_REMOVE)},
    {"Container/RegistryChanges", &hcs_type_registry_changes, SETTINGS_OBJECT,
     1u << HCS_REQUEST_UPDATE},
};

static const char *const request_types[] = {"Add", "Remove", "Update", NULL};

static int check_modify_request(const void *obj, const cJSON *json, hcs_walk *w)
{
    const hcs_doc_modify_request *m = obj;
    const struct resource *r = NULL;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(resources); i++)
        if (strcmp(resources[i].path, m->resource_path) == 0)
            r = &resources[i];
    if (r == NULL) {
        if (strncmp(m->resource_path, "VirtualMachine/", 15) == 0)
            return hcs_walk_fail(w, "ResourcePath", HCS_E_INVALID_JSON,
                                 "\"%s\": utility VM resources cannot be modified yet",
                                 m->resource_path);
        const char *best = NULL;
        size_t best_d = (size_t)-1;
        for (size_t i = 0; i < HCS_ARRAY_SIZE(resources); i++) {
            size_t d = hcs_edit_distance(m->resource_path, resources[i].path);
            if (d < best_d) {
                best_d = d;
                best = resources[i].path;
            }
        }
        if (best_d <= 4)
            return hcs_walk_fail(w, "ResourcePath", HCS_E_INVALID_JSON,
                                 "unknown resource path \"%s\"; did you mean \"%s\"?",
                                 m->resource_path, best);
        return hcs_walk_fail(w, "ResourcePath", HCS_E_INVALID_JSON,
                             "unknown resource path \"%s\"; expected one of: "
                             "\"Container/Memory/SizeInMB\", \"Container/Processor\", "
                             "\"Container/MappedDirectories\", \"Container/RegistryChanges\"",
                             m->resource_path);
    }
    if (!(r->requests & (1u << m->request_type))) {
        const char *rt = hcs_enum_name(request_types, m->request_type);
        char valid[64] = "";
        for (int t = HCS_REQUEST_ADD; t <= HCS_REQUEST_UPDATE; t++)
            if (r->requests & (1u << t))
                snprintf(valid + strlen(valid), sizeof(valid) - strlen(valid), "%s\"%s\"",
                         valid[0] ? " or " : "", hcs_enum_name(request_types, t));
        return hcs_walk_fail(w, "RequestType", HCS_E_INVALID_JSON,
                             "\"%s\" is not valid for %s (use %s)", rt ? rt : "?", r->path, valid);
    }
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(json, "Settings");
    if (settings == NULL || cJSON_IsNull(settings))
        return hcs_walk_fail(w, "Settings", HCS_E_INVALID_JSON, "required for %s", r->path);
    if (r->kind == SETTINGS_U64) {
        uint64_t v;
        if (!cJSON_IsNumber(settings) || hcs_json_u64(settings, &v) < 0 || v == 0) {
            AUTOFREE char *got = hcs_json_describe(settings);
            return hcs_walk_fail(w, "Settings", HCS_E_INVALID_JSON,
                                 "expected a positive integer (megabytes), got %s",
                                 got ? got : "?");
        }
        return 0;
    }
    char path[sizeof(w->path) + 16];
    snprintf(path, sizeof(path), "%s%sSettings", w->path, w->len ? "." : "");
    return hcs_schema_parse_json(r->type, settings, w->doc, path, NULL, w->err);
}

static const hcs_field modify_request_fields[] = {
    {.name = "ResourcePath",
     .kind = HK_STRING,
     .flags = HF_REQUIRED | HF_NONEMPTY,
     .offset = OFF(hcs_doc_modify_request, resource_path)},
    {.name = "RequestType",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_modify_request, request_type),
     .values = request_types},
    {.name = "Settings", .kind = HK_ANY, .offset = OFF(hcs_doc_modify_request, settings)},
    UNSUPPORTED("GuestRequest", "guest requests need a utility VM (not implemented yet)"),
    END,
};
const hcs_type hcs_type_modify_request = {"ModifySettingRequest", sizeof(hcs_doc_modify_request),
                                          modify_request_fields, check_modify_request};

/* --- LayerData -------------------------------------------------------------------------------- */

/* A limit of 0 would refuse every archive: say so rather than read it as "no limit". */
static int check_import_limits(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_import_limits *l = obj;
    if (l->max_bytes.set && l->max_bytes.value == 0)
        return hcs_walk_fail(w, "MaxBytes", HCS_E_INVALID_JSON, "must be at least 1, got 0");
    if (l->max_entries.set && l->max_entries.value == 0)
        return hcs_walk_fail(w, "MaxEntries", HCS_E_INVALID_JSON, "must be at least 1, got 0");
    return 0;
}

static const hcs_field import_limits_fields[] = {
    {.name = "MaxBytes", .kind = HK_U64, .offset = OFF(hcs_doc_import_limits, max_bytes)},
    {.name = "MaxEntries", .kind = HK_U64, .offset = OFF(hcs_doc_import_limits, max_entries)},
    END,
};
static const hcs_type import_limits = {"ImportLimits", sizeof(hcs_doc_import_limits),
                                       import_limits_fields, check_import_limits};

static const hcs_field layer_data_fields[] = {
    {.name = "SchemaVersion",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_layer_data, schema_version),
     .type = &hcs_type_version},
    {.name = "Layers",
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = OFF(hcs_doc_layer_data, layers),
     .type = &hcs_type_layer},
    {.name = "ImportLimits",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_layer_data, import_limits),
     .type = &import_limits},
    END,
};
const hcs_type hcs_type_layer_data = {"LayerData", sizeof(hcs_doc_layer_data), layer_data_fields,
                                      NULL};

static const char *const compressions[] = {"None", "Gzip", "Zstd", NULL};
static const hcs_field export_fields[] = {
    {.name = "IsWritableLayer",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_export_options, is_writable_layer)},
    {.name = "Compression",
     .kind = HK_ENUM,
     .offset = OFF(hcs_doc_export_options, compression),
     .values = compressions},
    {.name = "CompressionLevel",
     .kind = HK_U32,
     .offset = OFF(hcs_doc_export_options, compression_level),
     .min = 1,
     .max = 22},
    {.name = "Deterministic",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_export_options, deterministic)},
    {.name = "Timestamp", .kind = HK_I64, .offset = OFF(hcs_doc_export_options, timestamp)},
    END,
};
const hcs_type hcs_type_export_options = {"ExportLayerOptions", sizeof(hcs_doc_export_options),
                                          export_fields, NULL};

static const hcs_field writable_layer_fields[] = {
    UNSUPPORTED("SizeInGB",
                "a writable layer is a folder on the host's filesystem: it has no size"),
    END,
};
const hcs_type hcs_type_writable_layer_options = {"WritableLayerOptions", sizeof(hcs_doc_empty),
                                                  writable_layer_fields, NULL};

/* --- option documents ------------------------------------------------------------------------- */

static const char *const shutdown_types[] = {"Shutdown", "Hibernate", "Reboot", NULL};
static const char *const shutdown_types_unsupported[] = {"Hibernate", "Reboot", NULL};
static const hcs_field shutdown_fields[] = {
    {.name = "Type",
     .kind = HK_ENUM,
     .offset = OFF(hcs_doc_shutdown_options, type),
     .values = shutdown_types,
     .unsupported = shutdown_types_unsupported,
     .note = "a compute system can only be shut down"},
    {.name = "Force", .kind = HK_BOOL, .offset = OFF(hcs_doc_shutdown_options, force)},
    {.name = "Reason", .kind = HK_STRING, .offset = OFF(hcs_doc_shutdown_options, reason)},
    {.name = "GracePeriodSeconds",
     .kind = HK_U32,
     .offset = OFF(hcs_doc_shutdown_options, grace_period_seconds),
     .min = 0,
     .max = 86400},
    UNSUPPORTED("Mechanism", "libhcs always shuts down through its own monitor"),
    END,
};
const hcs_type hcs_type_shutdown_options = {"ShutdownOptions", sizeof(hcs_doc_shutdown_options),
                                            shutdown_fields, NULL};

static const char *const suspension_levels[] = {"Suspend", "MemoryLow", "MemoryMedium",
                                                "MemoryHigh", NULL};
static const char *const suspension_unsupported[] = {"MemoryLow", "MemoryMedium", "MemoryHigh",
                                                     NULL};
static const hcs_field pause_fields[] = {
    {.name = "SuspensionLevel",
     .kind = HK_ENUM,
     .offset = OFF(hcs_doc_pause_options, suspension_level),
     .values = suspension_levels,
     .unsupported = suspension_unsupported,
     .note = "pausing freezes processes; memory trimming levels are Hyper-V specific"},
    UNSUPPORTED("HostedNotification", "hosted-system notifications need a utility VM"),
    END,
};
const hcs_type hcs_type_pause_options = {"PauseOptions", sizeof(hcs_doc_pause_options),
                                         pause_fields, NULL};

static const hcs_field start_fields[] = {
    UNSUPPORTED("DestinationMigrationOptions", "live migration is not implemented"),
    END,
};
const hcs_type hcs_type_start_options = {"StartOptions", sizeof(hcs_doc_empty), start_fields, NULL};

static const hcs_field empty_fields[] = {END};
const hcs_type hcs_type_empty_options = {"options", sizeof(hcs_doc_empty), empty_fields, NULL};

/* --- service documents ------------------------------------------------------------------------ */

static const char *const service_property_types[] = {
    "Basic",           "Host", "CpuGroup", "ProcessorTopology", "ContainerCredentialGuard",
    "QoSCapabilities", NULL};
static const char *const service_property_unsupported[] = {
    "CpuGroup", "ProcessorTopology", "ContainerCredentialGuard", "QoSCapabilities", NULL};
static const hcs_field service_query_fields[] = {
    {.name = "PropertyTypes",
     .kind = HK_ARRAY,
     .elem = HK_ENUM,
     .offset = OFF(hcs_doc_service_query, property_types),
     .values = service_property_types,
     .unsupported = service_property_unsupported,
     .note = "libhcs reports \"Basic\" and \"Host\""},
    UNSUPPORTED("PropertyQueries", "per-property queries (schema 2.5) are not implemented"),
    END,
};
const hcs_type hcs_type_service_query = {"Service_PropertyQuery", sizeof(hcs_doc_service_query),
                                         service_query_fields, NULL};

static const char *const log_levels[] = {"Error", "Warning", "Info", "Debug", NULL};
static const hcs_field logging_fields[] = {
    {.name = "Level",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_logging_settings, level),
     .values = log_levels},
    END,
};
const hcs_type hcs_type_logging_settings = {"LoggingSettings", sizeof(hcs_doc_logging_settings),
                                            logging_fields, NULL};

static int check_roots(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_roots_settings *r = obj;
    if (r->runtime_root == NULL && r->data_root == NULL)
        return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                             "one of RuntimeRoot or DataRoot is required");
    return 0;
}

static const hcs_field roots_fields[] = {
    {.name = "RuntimeRoot",
     .kind = HK_STRING,
     .flags = HF_ABSOLUTE,
     .offset = OFF(hcs_doc_roots_settings, runtime_root)},
    {.name = "DataRoot",
     .kind = HK_STRING,
     .flags = HF_ABSOLUTE,
     .offset = OFF(hcs_doc_roots_settings, data_root)},
    END,
};
const hcs_type hcs_type_roots_settings = {"RootsSettings", sizeof(hcs_doc_roots_settings),
                                          roots_fields, check_roots};

static const char *const service_settings[] = {"Logging", "Roots", "CpuGroup",
                                               "ContainerCredentialGuard", NULL};
static const char *const service_settings_unsupported[] = {"CpuGroup", "ContainerCredentialGuard",
                                                           NULL};

static int check_service_modify(const void *obj, const cJSON *json, hcs_walk *w)
{
    const hcs_doc_service_modify *m = obj;
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(json, "Settings");
    if (settings == NULL || cJSON_IsNull(settings))
        return hcs_walk_fail(w, "Settings", HCS_E_INVALID_JSON, "required field is missing");
    const hcs_type *t = m->property_type == HCS_SERVICE_SETTING_LOGGING ? &hcs_type_logging_settings
                                                                        : &hcs_type_roots_settings;
    char path[sizeof(w->path) + 16];
    snprintf(path, sizeof(path), "%s%sSettings", w->path, w->len ? "." : "");
    return hcs_schema_parse_json(t, settings, w->doc, path, NULL, w->err);
}

static const hcs_field service_modify_fields[] = {
    {.name = "PropertyType",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_service_modify, property_type),
     .values = service_settings,
     .unsupported = service_settings_unsupported,
     .note = "libhcs has the \"Logging\" and \"Roots\" settings"},
    {.name = "Settings", .kind = HK_ANY, .offset = OFF(hcs_doc_service_modify, settings)},
    END,
};
const hcs_type hcs_type_service_modify = {"ModificationRequest", sizeof(hcs_doc_service_modify),
                                          service_modify_fields, check_service_modify};
