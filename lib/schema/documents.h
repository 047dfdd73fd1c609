/*
 * documents.h - the documents libhcs accepts, as C structs, and their schema tables.
 *
 * Parse with hcs_schema_parse(&hcs_type_<doc>, text, "<DocName>", required, (void **)&out, err)
 * and free with hcs_schema_free(&hcs_type_<doc>, out). Field meanings: hcs-schema(7).
 * Enum fields hold 1 + the index of the value in the field's list (0 when absent); the
 * HCS_<FIELD>_* constants below name them.
 */
#ifndef HCS_SCHEMA_DOCUMENTS_H
#define HCS_SCHEMA_DOCUMENTS_H

#include "schema.h"

/* The schema versions libhcs reads: 2.0 through HCS_SCHEMA_MINOR_MAX. */
#define HCS_SCHEMA_MAJOR 2
#define HCS_SCHEMA_MINOR_MAX 6

typedef struct {
    hcs_opt_u64 major, minor;
} hcs_doc_version;

/* --- ComputeSystem ---------------------------------------------------------------------------- */

enum { HCS_PATH_TYPE_ABSOLUTE = 1, HCS_PATH_TYPE_SMB_SHARE };

typedef struct {
    char *id;
    char *path;
    int path_type;
} hcs_doc_layer;

typedef struct {
    hcs_array layers; /* hcs_doc_layer, nearest parent first */
    char *path;       /* the writable layer */
} hcs_doc_storage;

typedef struct {
    char *host_path;
    int host_path_type;
    char *container_path;
    hcs_opt_bool read_only;
} hcs_doc_mapped_directory;

typedef struct {
    hcs_opt_u64 size_in_mb;
} hcs_doc_container_memory;

typedef struct {
    hcs_opt_u64 count;
    hcs_opt_i64 weight;
    hcs_opt_i64 maximum; /* percent x 100 */
} hcs_doc_container_processor;

typedef struct {
    char *ns; /* a network namespace path to join */
    char *network_shared_container_name;
} hcs_doc_networking;

typedef struct {
    char *host_name;
} hcs_doc_guest_os;

typedef struct {
    hcs_opt_i64 limit;
} hcs_doc_oci_pids;

typedef struct {
    hcs_doc_oci_pids *pids;
} hcs_doc_oci_resources;

/* Container.Linux (libhcs extension): OCI runtime-spec "linux" object, the supported subset. */
typedef struct {
    hcs_doc_oci_resources *resources;
} hcs_doc_linux;

typedef struct {
    hcs_doc_guest_os *guest_os;
    hcs_doc_storage *storage;
    hcs_array mapped_directories; /* hcs_doc_mapped_directory */
    hcs_doc_container_memory *memory;
    hcs_doc_container_processor *processor;
    hcs_doc_networking *networking;
    cJSON *registry_changes; /* validated RegistryChanges */
    hcs_doc_linux *linux_settings;
} hcs_doc_container;

typedef struct {
    char *owner;
    hcs_doc_version *schema_version;
    char *hosting_system_id;
    hcs_doc_container *container;
    cJSON *virtual_machine; /* validated VirtualMachine */
    hcs_opt_bool should_terminate_on_last_handle_closed;
} hcs_doc_compute_system;

extern const hcs_type hcs_type_version;
extern const hcs_type hcs_type_compute_system;
extern const hcs_type hcs_type_container;
extern const hcs_type hcs_type_virtual_machine;
extern const hcs_type hcs_type_mapped_directory;
extern const hcs_type hcs_type_container_processor;
extern const hcs_type hcs_type_layer;
extern const hcs_type hcs_type_registry_changes;

/* --- Processes -------------------------------------------------------------------------------- */

typedef struct {
    char *application_name;
    char *command_line;
    hcs_array command_args; /* char * */
    char *user;
    char *working_directory;
    hcs_map environment; /* char * values */
    hcs_opt_bool emulate_console;
    hcs_opt_bool create_stdin_pipe;
    hcs_opt_bool create_stdout_pipe;
    hcs_opt_bool create_stderr_pipe;
    hcs_array console_size; /* two hcs_opt_u64: height, width */
} hcs_doc_process_parameters;

enum { HCS_PROCESS_MODIFY_CONSOLE_SIZE = 1, HCS_PROCESS_MODIFY_CLOSE_HANDLE };
enum { HCS_STD_HANDLE_IN = 1, HCS_STD_HANDLE_OUT, HCS_STD_HANDLE_ERR, HCS_STD_HANDLE_ALL };

typedef struct {
    hcs_opt_u64 height, width;
} hcs_doc_console_size;

typedef struct {
    int handle;
} hcs_doc_close_handle;

typedef struct {
    int operation;
    hcs_doc_console_size *console_size;
    hcs_doc_close_handle *close_handle;
} hcs_doc_process_modify;

typedef struct {
    hcs_opt_i64 signal;
} hcs_doc_signal_options;

extern const hcs_type hcs_type_process_parameters;
extern const hcs_type hcs_type_process_modify;
extern const hcs_type hcs_type_signal_options;

/* --- Queries and requests --------------------------------------------------------------------- */

enum {
    HCS_PROPERTY_MEMORY = 1,
    HCS_PROPERTY_STATISTICS,
    HCS_PROPERTY_PROCESS_LIST,
    HCS_PROPERTY_TERMINATE_ON_LAST_HANDLE_CLOSED,
    HCS_PROPERTY_REGISTRY, /* libhcs extension, with RegistryQuery */
};

typedef struct {
    hcs_array property_types; /* int */
    cJSON *registry_query;    /* {"Hive", "Name"} (libhcs extension), validated */
} hcs_doc_property_query;

enum { HCS_SYSTEM_TYPE_CONTAINER = 1, HCS_SYSTEM_TYPE_VIRTUAL_MACHINE };

typedef struct {
    hcs_array ids, names, owners; /* char * */
    hcs_array types;              /* int: HCS_SYSTEM_TYPE_* */
} hcs_doc_system_query;

enum { HCS_REQUEST_ADD = 1, HCS_REQUEST_REMOVE, HCS_REQUEST_UPDATE };

typedef struct {
    char *resource_path;
    int request_type;
    cJSON *settings; /* validated against the resource path's type */
} hcs_doc_modify_request;

typedef struct {
    hcs_opt_u64 max_bytes;
    hcs_opt_u64 max_entries;
} hcs_doc_import_limits;

typedef struct {
    hcs_doc_version *schema_version;
    hcs_array layers;                     /* hcs_doc_layer */
    hcs_doc_import_limits *import_limits; /* libhcs extension, HcsImportLayer only */
} hcs_doc_layer_data;

enum { HCS_EXPORT_COMPRESSION_NONE = 1, HCS_EXPORT_COMPRESSION_GZIP, HCS_EXPORT_COMPRESSION_ZSTD };

typedef struct {
    hcs_opt_bool is_writable_layer;
    int compression; /* HCS_EXPORT_COMPRESSION_*; 0 when absent (none) */
    hcs_opt_u64 compression_level;
    hcs_opt_bool deterministic;
    hcs_opt_i64 timestamp;
} hcs_doc_export_options;

typedef struct {
    int type;
    hcs_opt_bool force;
    char *reason;
    hcs_opt_u64 grace_period_seconds; /* libhcs extension */
} hcs_doc_shutdown_options;

typedef struct {
    int suspension_level;
} hcs_doc_pause_options;

/* Options documents that are reserved: only {} (or NULL / "") is accepted. */
typedef struct {
    int unused;
} hcs_doc_empty;

extern const hcs_type hcs_type_property_query;
extern const hcs_type hcs_type_system_query;
extern const hcs_type hcs_type_modify_request;
extern const hcs_type hcs_type_layer_data;
extern const hcs_type hcs_type_export_options;
extern const hcs_type hcs_type_writable_layer_options;
extern const hcs_type hcs_type_shutdown_options;
extern const hcs_type hcs_type_pause_options;
extern const hcs_type hcs_type_start_options;
extern const hcs_type hcs_type_empty_options;

/* --- Service ---------------------------------------------------------------------------------- */

enum { HCS_SERVICE_PROPERTY_BASIC = 1, HCS_SERVICE_PROPERTY_HOST };

typedef struct {
    hcs_array property_types; /* int: HCS_SERVICE_PROPERTY_* */
} hcs_doc_service_query;

enum { HCS_SERVICE_SETTING_LOGGING = 1, HCS_SERVICE_SETTING_ROOTS };

typedef struct {
    int property_type;
    cJSON *settings;
} hcs_doc_service_modify;

typedef struct {
    int level; /* 1 + enum hcs_log_level */
} hcs_doc_logging_settings;

typedef struct {
    char *runtime_root;
    char *data_root;
} hcs_doc_roots_settings;

extern const hcs_type hcs_type_service_query;
extern const hcs_type hcs_type_service_modify;
extern const hcs_type hcs_type_logging_settings;
extern const hcs_type hcs_type_roots_settings;

#endif
