/* doc_compute_system.c - ComputeSystem, Container and VirtualMachine (hcs-api.md §5.1-5.3). */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "doc_macros.h"
#include "documents.h"

static const char *const path_types[] = {"AbsolutePath", "VirtualSmbShareName", NULL};
static const char *const smb_only[] = {"VirtualSmbShareName", NULL};

/* --- shared pieces ---------------------------------------------------------------------------- */

static int check_version(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_version *v = obj;
    if (v->major.value != HCS_SCHEMA_MAJOR)
        return hcs_walk_fail(w, "Major", HCS_E_INVALID_JSON,
                             "schema version %llu is not supported (libhcs reads 2.0 to 2.%d)",
                             (unsigned long long)v->major.value, HCS_SCHEMA_MINOR_MAX);
    if (v->minor.value > HCS_SCHEMA_MINOR_MAX)
        return hcs_walk_fail(w, "Minor", HCS_E_INVALID_JSON,
                             "schema version 2.%llu is newer than libhcs reads (2.0 to 2.%d)",
                             (unsigned long long)v->minor.value, HCS_SCHEMA_MINOR_MAX);
    return 0;
}

static const hcs_field version_fields[] = {
    {.name = "Major", .kind = HK_U32, .flags = HF_REQUIRED, .offset = OFF(hcs_doc_version, major)},
    {.name = "Minor", .kind = HK_U32, .offset = OFF(hcs_doc_version, minor)},
    END,
};
const hcs_type hcs_type_version = {"Version", sizeof(hcs_doc_version), version_fields,
                                   check_version};

static bool is_guid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    bool braced = s[0] == '{' && strlen(s) == 38 && s[37] == '}';
    if (braced)
        s++;
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != '-')
            return false;
    return s[sizeof(shape) - 1] == (braced ? '}' : '\0');
}

static int check_layer(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_layer *l = obj;
    if (l->id != NULL && !is_guid(l->id))
        return hcs_walk_fail(w, "Id", HCS_E_INVALID_JSON,
                             "expected a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got \"%s\"",
                             l->id);
    return 0;
}

static const hcs_field layer_fields[] = {
    {.name = "Id", .kind = HK_STRING, .offset = OFF(hcs_doc_layer, id)},
    {.name = "Path",
     .kind = HK_STRING,
     .flags = HF_REQUIRED | HF_ABSOLUTE,
     .offset = OFF(hcs_doc_layer, path)},
    {.name = "PathType",
     .kind = HK_ENUM,
     .offset = OFF(hcs_doc_layer, path_type),
     .values = path_types,
     .unsupported = smb_only,
     .note = "layers are local folders"},
    UNSUPPORTED("Cache", "layer cache modes are a Hyper-V storage feature"),
    END,
};
const hcs_type hcs_type_layer = {"Layer", sizeof(hcs_doc_layer), layer_fields, check_layer};

/* --- registry
 * -------------------------------------------------------------------------------------- */

static const char *const hives[] = {"System", "Software", "Security", "Sam", "DefaultUser", NULL};
static const char *const value_types[] = {"None",        "String",     "ExpandedString",
                                          "MultiString", "Binary",     "DWord",
                                          "QWord",       "CustomType", NULL};

static const hcs_field registry_key_fields[] = {
    {.name = "Hive", .kind = HK_ENUM, .flags = HF_REQUIRED, .offset = NOSTORE, .values = hives},
    {.name = "Name", .kind = HK_STRING, .flags = HF_REQUIRED, .offset = NOSTORE},
    {.name = "Volatile", .kind = HK_BOOL, .offset = NOSTORE},
    END,
};
static const hcs_type registry_key = {"RegistryKey", 0, registry_key_fields, NULL};

/* Which data field each value Type needs (the others must be absent). */
static int check_registry_value(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)obj;
    static const char *const data_fields[] = {"StringValue", "BinaryValue", "DWordValue",
                                              "QWordValue"};
    static const char *const wants[] = {NULL,          "StringValue", "StringValue", "StringValue",
                                        "BinaryValue", "DWordValue",  "QWordValue",  "BinaryValue"};
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "Type");
    int t = 0;
    for (int i = 0; value_types[i] != NULL; i++)
        if (cJSON_IsString(type) && strcmp(type->valuestring, value_types[i]) == 0)
            t = i;
    for (size_t i = 0; i < sizeof(data_fields) / sizeof(data_fields[0]); i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(json, data_fields[i]);
        bool wanted = wants[t] != NULL && strcmp(wants[t], data_fields[i]) == 0;
        if (d != NULL && !cJSON_IsNull(d) && !wanted)
            return hcs_walk_fail(w, data_fields[i], HCS_E_INVALID_JSON,
                                 "does not go with Type \"%s\"%s%s%s", value_types[t],
                                 wants[t] ? " (it takes " : "", wants[t] ? wants[t] : "",
                                 wants[t] ? ")" : "");
    }
    const cJSON *data = wants[t] ? cJSON_GetObjectItemCaseSensitive(json, wants[t]) : NULL;
    if (wants[t] != NULL && (data == NULL || cJSON_IsNull(data)))
        return hcs_walk_fail(w, wants[t], HCS_E_INVALID_JSON, "required when Type is \"%s\"",
                             value_types[t]);
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(json, "CustomType");
    if (t == 7 && (custom == NULL || cJSON_IsNull(custom)))
        return hcs_walk_fail(w, "CustomType", HCS_E_INVALID_JSON,
                             "required when Type is \"CustomType\"");
    return 0;
}

static const hcs_field registry_value_fields[] = {
    {.name = "Key",
     .kind = HK_OBJECT,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .type = &registry_key},
    {.name = "Name", .kind = HK_STRING, .offset = NOSTORE},
    {.name = "Type",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .values = value_types},
    {.name = "StringValue", .kind = HK_STRING, .offset = NOSTORE},
    {.name = "BinaryValue", .kind = HK_STRING, .offset = NOSTORE},
    {.name = "DWordValue", .kind = HK_U32, .offset = NOSTORE},
    {.name = "QWordValue", .kind = HK_U64, .offset = NOSTORE},
    {.name = "CustomType", .kind = HK_U32, .offset = NOSTORE},
    END,
};
static const hcs_type registry_value = {"RegistryValue", 0, registry_value_fields,
                                        check_registry_value};

/* RegistryValueName (libhcs extension): one value to delete. */
static const hcs_field registry_value_name_fields[] = {
    {.name = "Key",
     .kind = HK_OBJECT,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .type = &registry_key},
    {.name = "Name", .kind = HK_STRING, .offset = NOSTORE},
    END,
};
static const hcs_type registry_value_name = {"RegistryValueName", 0, registry_value_name_fields,
                                             NULL};

static const hcs_field registry_changes_fields[] = {
    {.name = "AddValues",
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = NOSTORE,
     .type = &registry_value},
    {.name = "DeleteKeys",
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = NOSTORE,
     .type = &registry_key},
    {.name = "DeleteValues", /* libhcs extension: Windows has no way to delete one value */
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = NOSTORE,
     .type = &registry_value_name},
    END,
};
const hcs_type hcs_type_registry_changes = {"RegistryChanges", 0, registry_changes_fields, NULL};

/* --- Container -------------------------------------------------------------------------------- */

static int check_guest_os(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const char *h = ((const hcs_doc_guest_os *)obj)->host_name;
    if (h == NULL)
        return 0;
    size_t n = strlen(h);
    if (n == 0 || n > 64)
        return hcs_walk_fail(w, "HostName", HCS_E_INVALID_JSON,
                             "expected 1 to 64 characters, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!isalnum(c) && c != '-' && c != '.')
            return hcs_walk_fail(w, "HostName", HCS_E_INVALID_JSON,
                                 "character '%c' at offset %zu is not allowed in a host name "
                                 "(letters, digits, '-' and '.')",
                                 isprint(c) ? c : '?', i);
    }
    if (h[0] == '-' || h[0] == '.')
        return hcs_walk_fail(w, "HostName", HCS_E_INVALID_JSON,
                             "a host name must start with a letter or digit, got \"%s\"", h);
    return 0;
}

static const hcs_field guest_os_fields[] = {
    {.name = "HostName", .kind = HK_STRING, .offset = OFF(hcs_doc_guest_os, host_name)},
    END,
};
static const hcs_type guest_os = {"GuestOs", sizeof(hcs_doc_guest_os), guest_os_fields,
                                  check_guest_os};

static const hcs_field storage_fields[] = {
    {.name = "Layers",
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = OFF(hcs_doc_storage, layers),
     .type = &hcs_type_layer},
    {.name = "Path", .kind = HK_STRING, .flags = HF_ABSOLUTE, .offset = OFF(hcs_doc_storage, path)},
    UNSUPPORTED("QoS", "storage QoS (IOPS and bandwidth limits) is not implemented yet"),
    UNSUPPORTED("PrivilegedContainerRootPath", "host-process containers do not exist on Linux"),
    END,
};
static const hcs_type storage = {"Storage", sizeof(hcs_doc_storage), storage_fields, NULL};

static const hcs_field mapped_directory_fields[] = {
    {.name = "HostPath",
     .kind = HK_STRING,
     .flags = HF_REQUIRED | HF_ABSOLUTE,
     .offset = OFF(hcs_doc_mapped_directory, host_path)},
    {.name = "HostPathType",
     .kind = HK_ENUM,
     .offset = OFF(hcs_doc_mapped_directory, host_path_type),
     .values = path_types,
     .unsupported = smb_only,
     .note = "mapped directories are local folders"},
    {.name = "ContainerPath",
     .kind = HK_STRING,
     .flags = HF_REQUIRED | HF_ABSOLUTE,
     .offset = OFF(hcs_doc_mapped_directory, container_path)},
    {.name = "ReadOnly", .kind = HK_BOOL, .offset = OFF(hcs_doc_mapped_directory, read_only)},
    UNSUPPORTED("SupportCloudFiles", "cloud files are a Windows filesystem feature"),
    END,
};
const hcs_type hcs_type_mapped_directory = {"MappedDirectory", sizeof(hcs_doc_mapped_directory),
                                            mapped_directory_fields, NULL};

static const hcs_field container_memory_fields[] = {
    {.name = "SizeInMB",
     .kind = HK_U64,
     .offset = OFF(hcs_doc_container_memory, size_in_mb),
     .min = 1,
     .max = (int64_t)(UINT64_MAX >> 21)},
    END,
};
static const hcs_type container_memory = {"Container_Memory", sizeof(hcs_doc_container_memory),
                                          container_memory_fields, NULL};

static const hcs_field container_processor_fields[] = {
    {.name = "Count",
     .kind = HK_U32,
     .offset = OFF(hcs_doc_container_processor, count),
     .min = 1,
     .max = 4096},
    {.name = "Weight",
     .kind = HK_I64,
     .offset = OFF(hcs_doc_container_processor, weight),
     .min = 1,
     .max = 10000},
    {.name = "Maximum",
     .kind = HK_I64,
     .offset = OFF(hcs_doc_container_processor, maximum),
     .min = 1,
     .max = 10000},
    END,
};
const hcs_type hcs_type_container_processor = {
    "Container_Processor", sizeof(hcs_doc_container_processor), container_processor_fields, NULL};

static int check_networking(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_networking *n = obj;
    if (n->ns != NULL && n->network_shared_container_name != NULL)
        return hcs_walk_fail(w, "NetworkSharedContainerName", HCS_E_INVALID_JSON,
                             "cannot be combined with Namespace (a system joins one network)");
    if (n->ns != NULL && n->ns[0] != '/') {
        if (is_guid(n->ns))
            return hcs_walk_fail(w, "Namespace", HCS_E_INVALID_JSON,
                                 "expected a network namespace path such as /run/netns/NAME, "
                                 "got the GUID \"%s\" (HCN namespaces do not exist on Linux)",
                                 n->ns);
        return hcs_walk_fail(w, "Namespace", HCS_E_INVALID_JSON,
                             "expected a network namespace path such as /run/netns/NAME, got "
                             "\"%s\"",
                             n->ns);
    }
    return 0;
}

static const hcs_field networking_fields[] = {
    {.name = "Namespace", .kind = HK_STRING, .offset = OFF(hcs_doc_networking, ns)},
    {.name = "NetworkSharedContainerName",
     .kind = HK_STRING,
     .flags = HF_NONEMPTY,
     .offset = OFF(hcs_doc_networking, network_shared_container_name)},
    UNSUPPORTED("AllowUnqualifiedDnsQuery", "DNS settings are not implemented yet"),
    UNSUPPORTED("DnsSearchList", "DNS settings are not implemented yet"),
    UNSUPPORTED("NetworkAdapters", "HCN endpoints do not exist on Linux; use Namespace"),
    END,
};
static const hcs_type networking = {"Networking", sizeof(hcs_doc_networking), networking_fields,
                                    check_networking};

/* Container.Linux: OCI runtime-spec names and shapes (lowerCamelCase, as in config.json). */
static const hcs_field oci_pids_fields[] = {
    {.name = "limit", .kind = HK_I64, .flags = HF_REQUIRED, .offset = OFF(hcs_doc_oci_pids, limit)},
    END,
};
static const hcs_type oci_pids = {"linux.resources.pids", sizeof(hcs_doc_oci_pids), oci_pids_fields,
                                  NULL};

static const hcs_field oci_resources_fields[] = {
    {.name = "pids",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_oci_resources, pids),
     .type = &oci_pids},
    UNSUPPORTED("memory", "use Container.Memory.SizeInMB"),
    UNSUPPORTED("cpu", "use Container.Processor"),
    UNSUPPORTED("devices", "device cgroup rules are not implemented yet"),
    UNSUPPORTED("blockIO", "not implemented yet"),
    UNSUPPORTED("hugepageLimits", "not implemented yet"),
    UNSUPPORTED("network", "not implemented yet"),
    UNSUPPORTED("rdma", "not implemented yet"),
    UNSUPPORTED("unified", "not implemented yet"),
    END,
};
static const hcs_type oci_resources = {"linux.resources", sizeof(hcs_doc_oci_resources),
                                       oci_resources_fields, NULL};

static const hcs_field linux_fields[] = {
    {.name = "resources",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_linux, resources),
     .type = &oci_resources},
    UNSUPPORTED("namespaces", "libhcs chooses the namespaces of a silo; see Networking"),
    UNSUPPORTED("uidMappings", "user namespaces are not implemented yet"),
    UNSUPPORTED("gidMappings", "user namespaces are not implemented yet"),
    UNSUPPORTED("sysctl", "not implemented yet"),
    UNSUPPORTED("seccomp", "custom seccomp profiles are not implemented yet"),
    UNSUPPORTED("devices", "not implemented yet"),
    UNSUPPORTED("maskedPaths", "not implemented yet"),
    UNSUPPORTED("readonlyPaths", "not implemented yet"),
    UNSUPPORTED("cgroupsPath", "libhcs places every system under its own cgroup parent"),
    UNSUPPORTED("rootfsPropagation", "not implemented yet"),
    UNSUPPORTED("mountLabel", "SELinux labels are not implemented"),
    UNSUPPORTED("intelRdt", "not implemented"),
    UNSUPPORTED("personality", "not implemented"),
    END,
};
static const hcs_type linux_settings = {"Linux", sizeof(hcs_doc_linux), linux_fields, NULL};

static const hcs_field container_fields[] = {
    {.name = "GuestOs",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_container, guest_os),
     .type = &guest_os},
    {.name = "Storage",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_container, storage),
     .type = &storage},
    {.name = "MappedDirectories",
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = OFF(hcs_doc_container, mapped_directories),
     .type = &hcs_type_mapped_directory},
    {.name = "Memory",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_container, memory),
     .type = &container_memory},
    {.name = "Processor",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_container, processor),
     .type = &hcs_type_container_processor},
    {.name = "Networking",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_container, networking),
     .type = &networking},
    {.name = "RegistryChanges",
     .kind = HK_OBJECT,
     .flags = HF_KEEP_JSON,
     .offset = OFF(hcs_doc_container, registry_changes),
     .type = &hcs_type_registry_changes},
    {.name = "Linux",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_container, linux_settings),
     .type = &linux_settings},
    UNSUPPORTED("MappedPipes", "Windows named pipes; map a folder holding a socket instead"),
    UNSUPPORTED("HvSocket", "Hyper-V sockets have no Linux host equivalent"),
    UNSUPPORTED("ContainerCredentialGuard", "gMSA credentials are a Windows domain feature"),
    UNSUPPORTED("AssignedDevices", "device assignment is not implemented yet"),
    UNSUPPORTED("AdditionalDeviceNamespace", "Windows device namespaces"),
    UNSUPPORTED("IsolationType", "host-process containers do not exist on Linux"),
    END,
};
const hcs_type hcs_type_container = {"Container", sizeof(hcs_doc_container), container_fields,
                                     NULL};

/* --- VirtualMachine (validated here; run by the partition module) ----------------------------- */

static const hcs_field kernel_direct_fields[] = {
    {.name = "KernelFilePath",
     .kind = HK_STRING,
     .flags = HF_REQUIRED | HF_ABSOLUTE,
     .offset = NOSTORE},
    {.name = "InitRdPath", .kind = HK_STRING, .flags = HF_ABSOLUTE, .offset = NOSTORE},
    {.name = "KernelCmdLine", .kind = HK_STRING, .offset = NOSTORE},
    END,
};
static const hcs_type kernel_direct = {"LinuxKernelDirect", 0, kernel_direct_fields, NULL};

static const hcs_field chipset_fields[] = {
    {.name = "LinuxKernelDirect", .kind = HK_OBJECT, .offset = NOSTORE, .type = &kernel_direct},
    {.name = "UseUtc", .kind = HK_BOOL, .offset = NOSTORE},
    UNSUPPORTED("Uefi", "utility VMs boot a Linux kernel directly (LinuxKernelDirect)"),
    UNSUPPORTED("IsNumLockDisabled", "no firmware settings"),
    UNSUPPORTED("BaseBoardSerialNumber", "no firmware settings"),
    UNSUPPORTED("ChassisSerialNumber", "no firmware settings"),
    UNSUPPORTED("ChassisAssetTag", "no firmware settings"),
    UNSUPPORTED("EnableHibernation", "hibernation is not implemented"),
    UNSUPPORTED("FirmwareFile", "utility VMs boot a Linux kernel directly (LinuxKernelDirect)"),
    END,
};
static const hcs_type chipset = {"Chipset", 0, chipset_fields, NULL};

static const char *const backings[] = {"Physical", "Virtual", "Hybrid", NULL};
static const hcs_field vm_memory_fields[] = {
    {.name = "SizeInMB",
     .kind = HK_U64,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .min = 16,
     .max = 1 << 24},
    {.name = "AllowOvercommit", .kind = HK_BOOL, .offset = NOSTORE},
    {.name = "Backing", .kind = HK_ENUM, .offset = NOSTORE, .values = backings},
    UNSUPPORTED("BackingPageSize", "not implemented"),
    UNSUPPORTED("FaultClusterSizeShift", "Hyper-V memory tuning"),
    UNSUPPORTED("DirectMapFaultClusterSizeShift", "Hyper-V memory tuning"),
    UNSUPPORTED("PinBackingPages", "not implemented"),
    UNSUPPORTED("ForbidSmallBackingPages", "not implemented"),
    UNSUPPORTED("EnableHotHint", "Hyper-V memory tuning"),
    UNSUPPORTED("EnableColdHint", "Hyper-V memory tuning"),
    UNSUPPORTED("EnableColdDiscardHint", "Hyper-V memory tuning"),
    UNSUPPORTED("EnableDeferredCommit", "Hyper-V memory tuning"),
    UNSUPPORTED("LowMmioGapInMB", "Hyper-V memory layout"),
    UNSUPPORTED("HighMmioBaseInMB", "Hyper-V memory layout"),
    UNSUPPORTED("HighMmioGapInMB", "Hyper-V memory layout"),
    UNSUPPORTED("SlitType", "not implemented"),
    END,
};
static const hcs_type vm_memory = {"VirtualMachine_Memory", 0, vm_memory_fields, NULL};

static const hcs_field vm_processor_fields[] = {
    {.name = "Count",
     .kind = HK_U32,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .min = 1,
     .max = 255},
    UNSUPPORTED("Limit", "not implemented yet"),
    UNSUPPORTED("Weight", "not implemented yet"),
    UNSUPPORTED("Reservation", "not implemented yet"),
    UNSUPPORTED("MaximumFrequencyMHz", "not implemented"),
    UNSUPPORTED("ExposeVirtualizationExtensions", "nested virtualization is not implemented"),
    UNSUPPORTED("EnablePerfmonPmu", "not implemented"),
    UNSUPPORTED("EnablePerfmonArchPmu", "not implemented"),
    UNSUPPORTED("EnablePerfmonPebs", "not implemented"),
    UNSUPPORTED("EnablePerfmonLbr", "not implemented"),
    UNSUPPORTED("EnablePerfmonIpt", "not implemented"),
    UNSUPPORTED("EnablePageShattering", "Hyper-V specific"),
    UNSUPPORTED("DisableSpeculationControls", "Hyper-V specific"),
    UNSUPPORTED("ProcessorFeatureSet", "not implemented"),
    UNSUPPORTED("CpuGroup", "Hyper-V CPU groups"),
    END,
};
static const hcs_type vm_processor = {"VirtualMachine_Processor", 0, vm_processor_fields, NULL};

static const hcs_field topology_fields[] = {
    {.name = "Memory",
     .kind = HK_OBJECT,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .type = &vm_memory},
    {.name = "Processor", .kind = HK_OBJECT, .offset = NOSTORE, .type = &vm_processor},
    UNSUPPORTED("Numa", "virtual NUMA is not implemented"),
    END,
};
static const hcs_type topology = {"Topology", 0, topology_fields, NULL};

static const hcs_field com_port_fields[] = {
    {.name = "NamedPipe",
     .kind = HK_STRING,
     .flags = HF_ABSOLUTE,
     .offset = NOSTORE,
     .note = "a unix socket path"},
    {.name = "OptimizeForDebugger", .kind = HK_BOOL, .offset = NOSTORE},
    END,
};
static const hcs_type com_port = {"ComPort", 0, com_port_fields, NULL};

static const hcs_field serial_port_fields[] = {
    {.name = "NamedPipe", .kind = HK_STRING, .flags = HF_ABSOLUTE, .offset = NOSTORE},
    {.name = "Name", .kind = HK_STRING, .offset = NOSTORE},
    END,
};
static const hcs_type serial_port = {"VirtioSerialPort", 0, serial_port_fields, NULL};

static const hcs_field virtio_serial_fields[] = {
    {.name = "Ports",
     .kind = HK_MAP,
     .elem = HK_OBJECT,
     .flags = HF_NUMERIC_KEYS,
     .offset = NOSTORE,
     .type = &serial_port},
    END,
};
static const hcs_type virtio_serial = {"VirtioSerial", 0, virtio_serial_fields, NULL};

static const char *const attachment_types[] = {"VirtualDisk", "Iso", "PassThru", NULL};
static const char *const passthru_only[] = {"PassThru", NULL};
static const hcs_field attachment_fields[] = {
    {.name = "Type",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .values = attachment_types,
     .unsupported = passthru_only,
     .note = "disk pass-through is not implemented"},
    {.name = "Path", .kind = HK_STRING, .flags = HF_REQUIRED | HF_ABSOLUTE, .offset = NOSTORE},
    {.name = "ReadOnly", .kind = HK_BOOL, .offset = NOSTORE},
    UNSUPPORTED("CachingMode", "not implemented"),
    UNSUPPORTED("SupportCompressedVolumes", "NTFS feature"),
    UNSUPPORTED("AlwaysAllowSparseFiles", "NTFS feature"),
    UNSUPPORTED("SupportEncryptedFiles", "NTFS feature"),
    UNSUPPORTED("IgnoreFlushes", "not implemented"),
    UNSUPPORTED("ExtensibleVirtualDiskType", "VHD feature"),
    END,
};
static const hcs_type attachment = {"Attachment", 0, attachment_fields, NULL};

static const hcs_field scsi_fields[] = {
    {.name = "Attachments",
     .kind = HK_MAP,
     .elem = HK_OBJECT,
     .flags = HF_NUMERIC_KEYS,
     .offset = NOSTORE,
     .type = &attachment},
    UNSUPPORTED("DisableInterruptBatching", "Hyper-V specific"),
    END,
};
static const hcs_type scsi = {"Scsi", 0, scsi_fields, NULL};

static const hcs_field plan9_share_fields[] = {
    {.name = "Name", .kind = HK_STRING, .flags = HF_REQUIRED | HF_NONEMPTY, .offset = NOSTORE},
    {.name = "AccessName", .kind = HK_STRING, .offset = NOSTORE},
    {.name = "Path", .kind = HK_STRING, .flags = HF_REQUIRED | HF_ABSOLUTE, .offset = NOSTORE},
    {.name = "Port", .kind = HK_U32, .offset = NOSTORE},
    {.name = "Flags", .kind = HK_U32, .offset = NOSTORE},
    {.name = "AllowedFiles", .kind = HK_ARRAY, .elem = HK_STRING, .offset = NOSTORE},
    END,
};
static const hcs_type plan9_share = {"Plan9Share", 0, plan9_share_fields, NULL};

static const hcs_field plan9_fields[] = {
    {.name = "Shares",
     .kind = HK_ARRAY,
     .elem = HK_OBJECT,
     .offset = NOSTORE,
     .type = &plan9_share},
    END,
};
static const hcs_type plan9 = {"Plan9", 0, plan9_fields, NULL};

static const hcs_field devices_fields[] = {
    {.name = "ComPorts",
     .kind = HK_MAP,
     .elem = HK_OBJECT,
     .flags = HF_NUMERIC_KEYS,
     .offset = NOSTORE,
     .type = &com_port},
    {.name = "VirtioSerial", .kind = HK_OBJECT, .offset = NOSTORE, .type = &virtio_serial},
    {.name = "Scsi", .kind = HK_MAP, .elem = HK_OBJECT, .offset = NOSTORE, .type = &scsi},
    {.name = "Plan9", .kind = HK_OBJECT, .offset = NOSTORE, .type = &plan9},
    UNSUPPORTED("VirtualPMem", "not implemented yet"),
    UNSUPPORTED("NetworkAdapters", "HCN endpoints do not exist on Linux"),
    UNSUPPORTED("VideoMonitor", "utility VMs are headless"),
    UNSUPPORTED("EnhancedModeVideo", "utility VMs are headless"),
    UNSUPPORTED("Keyboard", "utility VMs are headless"),
    UNSUPPORTED("Mouse", "utility VMs are headless"),
    UNSUPPORTED("Battery", "not implemented"),
    UNSUPPORTED("HvSocket", "Hyper-V sockets; libhcs talks to its guest agent over virtio-serial"),
    UNSUPPORTED("GuestCrashReporting", "Windows crash dumps"),
    UNSUPPORTED("VirtualSmb", "SMB shares; use Plan9"),
    UNSUPPORTED("FlexibleIov", "not implemented"),
    UNSUPPORTED("SharedMemory", "not implemented"),
    UNSUPPORTED("VirtualPci", "device assignment is not implemented"),
    END,
};
static const hcs_type devices = {"Devices", 0, devices_fields, NULL};

static const hcs_field guest_connection_fields[] = {
    {.name = "UseVsock", .kind = HK_BOOL, .offset = NOSTORE},
    {.name = "UseConnectedSuspend", .kind = HK_BOOL, .offset = NOSTORE},
    {.name = "UseHostTimeZone", .kind = HK_BOOL, .offset = NOSTORE},
    END,
};
static const hcs_type guest_connection = {"GuestConnection", 0, guest_connection_fields, NULL};

static int check_vm(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)obj;
    const cJSON *chipset_json = cJSON_GetObjectItemCaseSensitive(json, "Chipset");
    const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(chipset_json, "LinuxKernelDirect");
    if (kernel == NULL || cJSON_IsNull(kernel))
        return hcs_walk_fail(
            w, "Chipset.LinuxKernelDirect", HCS_E_INVALID_JSON,
            "required field is missing (utility VMs boot a Linux kernel directly)");
    return 0;
}

static const hcs_field vm_fields[] = {
    {.name = "Version", .kind = HK_OBJECT, .offset = NOSTORE, .type = &hcs_type_version},
    {.name = "StopOnReset", .kind = HK_BOOL, .offset = NOSTORE},
    {.name = "Chipset",
     .kind = HK_OBJECT,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .type = &chipset},
    {.name = "ComputeTopology",
     .kind = HK_OBJECT,
     .flags = HF_REQUIRED,
     .offset = NOSTORE,
     .type = &topology},
    {.name = "Devices", .kind = HK_OBJECT, .offset = NOSTORE, .type = &devices},
    {.name = "GuestConnection", .kind = HK_OBJECT, .offset = NOSTORE, .type = &guest_connection},
    {.name = "RegistryChanges",
     .kind = HK_OBJECT,
     .offset = NOSTORE,
     .type = &hcs_type_registry_changes},
    UNSUPPORTED("Services", "Hyper-V integration services"),
    UNSUPPORTED("GuestState", "persistent guest state files are not implemented"),
    UNSUPPORTED("RestoreState", "saved-state restore is not implemented yet"),
    UNSUPPORTED("StorageQoS", "not implemented yet"),
    UNSUPPORTED("DebugOptions", "Windows crash dumps"),
    UNSUPPORTED("SecuritySettings", "confidential VMs are not implemented"),
    UNSUPPORTED("ResourcePartitionId", "Hyper-V resource partitions"),
    UNSUPPORTED("MigrationOptions", "live migration is not implemented"),
    END,
};
const hcs_type hcs_type_virtual_machine = {"VirtualMachine", 0, vm_fields, check_vm};

/* --- ComputeSystem ---------------------------------------------------------------------------- */

static int check_compute_system(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_compute_system *cs = obj;
    if (cs->container == NULL && cs->virtual_machine == NULL)
        return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                             "one of Container or VirtualMachine is required");
    if (cs->container != NULL && cs->virtual_machine != NULL)
        return hcs_walk_fail(w, "VirtualMachine", HCS_E_INVALID_JSON,
                             "cannot be combined with Container (a system is one or the other)");
    if (cs->hosting_system_id != NULL && cs->virtual_machine != NULL)
        return hcs_walk_fail(w, "HostingSystemId", HCS_E_INVALID_JSON,
                             "only a Container can be hosted in another system");
    return 0;
}

static const hcs_field compute_system_fields[] = {
    {.name = "Owner", .kind = HK_STRING, .offset = OFF(hcs_doc_compute_system, owner)},
    {.name = "SchemaVersion",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_compute_system, schema_version),
     .type = &hcs_type_version},
    {.name = "HostingSystemId",
     .kind = HK_STRING,
     .flags = HF_NONEMPTY,
     .offset = OFF(hcs_doc_compute_system, hosting_system_id)},
    {.name = "Container",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_compute_system, container),
     .type = &hcs_type_container},
    {.name = "VirtualMachine",
     .kind = HK_OBJECT,
     .flags = HF_KEEP_JSON,
     .offset = OFF(hcs_doc_compute_system, virtual_machine),
     .type = &hcs_type_virtual_machine},
    {.name = "ShouldTerminateOnLastHandleClosed",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_compute_system, should_terminate_on_last_handle_closed)},
    UNSUPPORTED("HostedSystem", "describe the hosted system as a Container with HostingSystemId"),
    END,
};
const hcs_type hcs_type_compute_system = {"ComputeSystem", sizeof(hcs_doc_compute_system),
                                          compute_system_fields, check_compute_system};
