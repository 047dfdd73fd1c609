/*
 * schema_valid_test.c - valid documents parse into the right C values; absent documents; null
 * as absent; exact 64-bit integers kept through the stored JSON copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "hcs_test.h"
#include "schema/documents.h"

#define SENTINEL ((void *)(uintptr_t)0x1)

/* Parse text as a document of type t, which must succeed with a non-NULL result. */
static void *parse_ok(const hcs_type *t, const char *name, const char *text)
{
    void *out = SENTINEL;
    hcs_error *err = NULL;
    int rc = hcs_schema_parse(t, text, name, true, &out, &err);
    ck_assert_msg(rc == 0, "%s refused: %s\n  %s", name, err ? err->message : "(no error)", text);
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_ne(out, SENTINEL);
    return out;
}

/* A JSON value inside a stored cJSON copy, by a path of object keys and array indexes. */
static const cJSON *at(const cJSON *j, const char *const *path, size_t n)
{
    for (size_t i = 0; i < n && j != NULL; i++) {
        if (cJSON_IsArray(j))
            j = cJSON_GetArrayItem(j, atoi(path[i]));
        else
            j = cJSON_GetObjectItemCaseSensitive(j, path[i]);
    }
    return j;
}
#define AT(j, ...)                                                                                 \
    at((j), (const char *const[]){__VA_ARGS__},                                                    \
       sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *))

/* --- ComputeSystem: Container --------------------------------------------------------------- */

static const char full_container[] =
    "{\n"
    "  \"Owner\": \"tester\",\n"
    "  \"SchemaVersion\": {\"Major\": 2, \"Minor\": 1},\n"
    "  \"HostingSystemId\": \"uvm-1\",\n"
    "  \"ShouldTerminateOnLastHandleClosed\": false,\n"
    "  \"Container\": {\n"
    "    \"GuestOs\": {\"HostName\": \"web-01.example\"},\n"
    "    \"Storage\": {\n"
    "      \"Layers\": [\n"
    "        {\"Id\": \"9f1c2d3e-0000-4a4a-8b8b-123456789abc\", \"Path\": \"/layers/top\",\n"
    "         \"PathType\": \"AbsolutePath\"},\n"
    "        {\"Id\": \"{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}\", \"Path\": \"/layers/middle\"},\n"
    "        {\"Path\": \"/layers/base\"}\n"
    "      ],\n"
    "      \"Path\": \"/scratch/c1\"\n"
    "    },\n"
    "    \"MappedDirectories\": [\n"
    "      {\"HostPath\": \"/srv/data\", \"ContainerPath\": \"/data\", \"ReadOnly\": true,\n"
    "       \"HostPathType\": \"AbsolutePath\"},\n"
    "      {\"HostPath\": \"/srv/logs\", \"ContainerPath\": \"/logs\", \"ReadOnly\": false}\n"
    "    ],\n"
    "    \"Memory\": {\"SizeInMB\": 8796093022207},\n"
    "    \"Processor\": {\"Count\": 4, \"Weight\": 200, \"Maximum\": 10000},\n"
    "    \"Networking\": {\"Namespace\": \"/run/netns/c1\"},\n"
    "    \"RegistryChanges\": {\n"
    "      \"AddValues\": [\n"
    "        {\"Key\": {\"Hive\": \"System\", \"Name\": \"Software\\\\X\"}, \"Name\": \"Q\",\n"
    "         \"Type\": \"QWord\", \"QWordValue\": 18446744073709551615},\n"
    "        {\"Key\": {\"Hive\": \"Software\", \"Name\": \"Y\", \"Volatile\": true},\n"
    "         \"Type\": \"CustomType\", \"BinaryValue\": \"AAE=\", \"CustomType\": 4294967295}\n"
    "      ],\n"
    "      \"DeleteKeys\": [{\"Hive\": \"DefaultUser\", \"Name\": \"Old\"}]\n"
    "    },\n"
    "    \"Linux\": {\"resources\": {\"pids\": {\"limit\": -1}}}\n"
    "  }\n"
    "}\n";

START_TEST(container__every_field_is_stored)
{
    hcs_doc_compute_system *cs =
        parse_ok(&hcs_type_compute_system, "ComputeSystem", full_container);
    ck_assert_str_eq(cs->owner, "tester");
    ck_assert_ptr_nonnull(cs->schema_version);
    ck_assert(cs->schema_version->major.set);
    ck_assert_uint_eq(cs->schema_version->major.value, 2);
    ck_assert(cs->schema_version->minor.set);
    ck_assert_uint_eq(cs->schema_version->minor.value, 1);
    ck_assert_str_eq(cs->hosting_system_id, "uvm-1");
    ck_assert(cs->should_terminate_on_last_handle_closed.set);
    ck_assert(!cs->should_terminate_on_last_handle_closed.value);
    ck_assert_ptr_null(cs->virtual_machine);

    const hcs_doc_container *c = cs->container;
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(c->guest_os);
    ck_assert_str_eq(c->guest_os->host_name, "web-01.example");

    /* Layers in document order (nearest parent first). */
    ck_assert_ptr_nonnull(c->storage);
    ck_assert_uint_eq(c->storage->layers.n, 3);
    const hcs_doc_layer *l = c->storage->layers.items;
    ck_assert_str_eq(l[0].id, "9f1c2d3e-0000-4a4a-8b8b-123456789abc");
    ck_assert_str_eq(l[0].path, "/layers/top");
    ck_assert_int_eq(l[0].path_type, HCS_PATH_TYPE_ABSOLUTE);
    ck_assert_str_eq(l[1].id, "{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}");
    ck_assert_str_eq(l[1].path, "/layers/middle");
    ck_assert_int_eq(l[1].path_type, 0);
    ck_assert_ptr_null(l[2].id);
    ck_assert_str_eq(l[2].path, "/layers/base");
    ck_assert_str_eq(c->storage->path, "/scratch/c1");

    ck_assert_uint_eq(c->mapped_directories.n, 2);
    const hcs_doc_mapped_directory *md = c->mapped_directories.items;
    ck_assert_str_eq(md[0].host_path, "/srv/data");
    ck_assert_str_eq(md[0].container_path, "/data");
    ck_assert(md[0].read_only.set && md[0].read_only.value);
    ck_assert_int_eq(md[0].host_path_type, HCS_PATH_TYPE_ABSOLUTE);
    ck_assert_str_eq(md[1].host_path, "/srv/logs");
    ck_assert_str_eq(md[1].container_path, "/logs");
    ck_assert(md[1].read_only.set && !md[1].read_only.value);
    ck_assert_int_eq(md[1].host_path_type, 0);

    ck_assert_ptr_nonnull(c->memory);
    ck_assert(c->memory->size_in_mb.set);
    ck_assert_uint_eq(c->memory->size_in_mb.value, 8796093022207ull); /* the maximum */

    ck_assert_ptr_nonnull(c->processor);
    ck_assert(c->processor->count.set && c->processor->weight.set && c->processor->maximum.set);
    ck_assert_uint_eq(c->processor->count.value, 4);
    ck_assert_int_eq(c->processor->weight.value, 200);
    ck_assert_int_eq(c->processor->maximum.value, 10000);

    ck_assert_ptr_nonnull(c->networking);
    ck_assert_str_eq(c->networking->ns, "/run/netns/c1");
    ck_assert_ptr_null(c->networking->network_shared_container_name);

    /* RegistryChanges is kept as validated JSON; the copy keeps the exact 64-bit value. */
    ck_assert_ptr_nonnull(c->registry_changes);
    const cJSON *q = AT(c->registry_changes, "AddValues", "0", "QWordValue");
    uint64_t v = 0;
    ck_assert_int_eq(hcs_json_u64(q, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_str_eq(AT(c->registry_changes, "AddValues", "0", "Key", "Name")->valuestring,
                     "Software\\X");
    ck_assert_str_eq(AT(c->registry_changes, "DeleteKeys", "0", "Hive")->valuestring,
                     "DefaultUser");

    ck_assert_ptr_nonnull(c->linux_settings);
    ck_assert_ptr_nonnull(c->linux_settings->resources);
    ck_assert_ptr_nonnull(c->linux_settings->resources->pids);
    ck_assert(c->linux_settings->resources->pids->limit.set);
    ck_assert_int_eq(c->linux_settings->resources->pids->limit.value, -1);
    hcs_schema_free(&hcs_type_compute_system, cs);
}
END_TEST

START_TEST(container__minimal_document_leaves_everything_absent)
{
    hcs_doc_compute_system *cs =
        parse_ok(&hcs_type_compute_system, "ComputeSystem", "{\"Container\": {}}");
    ck_assert_ptr_null(cs->owner);
    ck_assert_ptr_null(cs->schema_version);
    ck_assert_ptr_null(cs->hosting_system_id);
    ck_assert(!cs->should_terminate_on_last_handle_closed.set);
    ck_assert_ptr_nonnull(cs->container);
    ck_assert_ptr_null(cs->container->guest_os);
    ck_assert_ptr_null(cs->container->storage);
    ck_assert_uint_eq(cs->container->mapped_directories.n, 0);
    ck_assert_ptr_null(cs->container->mapped_directories.items);
    ck_assert_ptr_null(cs->container->memory);
    ck_assert_ptr_null(cs->container->registry_changes);
    hcs_schema_free(&hcs_type_compute_system, cs);
}
END_TEST

START_TEST(container__null_is_absent_for_optional_fields)
{
    static const char doc[] =
        "{\"Owner\": null, \"SchemaVersion\": null, \"HostingSystemId\": null,"
        " \"VirtualMachine\": null, \"ShouldTerminateOnLastHandleClosed\": null, \"HostedSystem\": "
        "null,"
        " \"Container\": {\"GuestOs\": {\"HostName\": null}, \"Storage\": {\"Layers\": null, "
        "\"Path\": null},"
        "   \"Memory\": {\"SizeInMB\": null}, \"Processor\": null, \"MappedPipes\": null,"
        "   \"Networking\": {\"Namespace\": null, \"NetworkSharedContainerName\": \"other\"},"
        "   \"Linux\": {\"resources\": null}, \"RegistryChanges\": null}}";
    hcs_doc_compute_system *cs = parse_ok(&hcs_type_compute_system, "ComputeSystem", doc);
    ck_assert_ptr_null(cs->owner);
    ck_assert_ptr_null(cs->schema_version);
    ck_assert_ptr_null(cs->hosting_system_id);
    ck_assert_ptr_null(cs->virtual_machine);
    ck_assert(!cs->should_terminate_on_last_handle_closed.set);
    const hcs_doc_container *c = cs->container;
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(c->guest_os);
    ck_assert_ptr_null(c->guest_os->host_name);
    ck_assert_ptr_nonnull(c->storage);
    ck_assert_uint_eq(c->storage->layers.n, 0);
    ck_assert_ptr_null(c->storage->path);
    ck_assert_ptr_nonnull(c->memory);
    ck_assert(!c->memory->size_in_mb.set);
    ck_assert_ptr_null(c->processor);
    /* Namespace null: no conflict with NetworkSharedContainerName. */
    ck_assert_ptr_null(c->networking->ns);
    ck_assert_str_eq(c->networking->network_shared_container_name, "other");
    ck_assert_ptr_nonnull(c->linux_settings);
    ck_assert_ptr_null(c->linux_settings->resources);
    ck_assert_ptr_null(c->registry_changes);
    hcs_schema_free(&hcs_type_compute_system, cs);

    hcs_doc_process_parameters *p =
        parse_ok(&hcs_type_process_parameters, "ProcessParameters",
                 "{\"CommandLine\": \"sh\", \"CommandArgs\": null, \"User\": null,"
                 " \"Environment\": null, \"ConsoleSize\": null, \"EmulateConsole\": null,"
                 " \"CreateStdErrPipe\": true}");
    ck_assert_str_eq(p->command_line, "sh");
    ck_assert_uint_eq(p->command_args.n, 0);
    ck_assert_ptr_null(p->user);
    ck_assert_uint_eq(p->environment.n, 0);
    ck_assert(!p->emulate_console.set);
    ck_assert(p->create_stderr_pipe.set && p->create_stderr_pipe.value);
    hcs_schema_free(&hcs_type_process_parameters, p);
}
END_TEST

START_TEST(container__registry_qword_max_is_accepted_exactly)
{
    static const char doc[] =
        "{\"Container\": {\"RegistryChanges\": {\"AddValues\": [{\"Key\": {\"Hive\": \"System\","
        " \"Name\": \"K\"}, \"Type\": \"QWord\", \"QWordValue\": 18446744073709551615},"
        " {\"Key\": {\"Hive\": \"System\", \"Name\": \"K\"}, \"Type\": \"DWord\","
        " \"DWordValue\": 4294967295}]}}}";
    hcs_doc_compute_system *cs = parse_ok(&hcs_type_compute_system, "ComputeSystem", doc);
    const cJSON *r = cs->container->registry_changes;
    uint64_t q = 0, d = 0;
    ck_assert_int_eq(hcs_json_u64(AT(r, "AddValues", "0", "QWordValue"), &q), 0);
    ck_assert_uint_eq(q, 18446744073709551615ull);
    ck_assert_int_eq(hcs_json_u64(AT(r, "AddValues", "1", "DWordValue"), &d), 0);
    ck_assert_uint_eq(d, 4294967295ull);
    hcs_schema_free(&hcs_type_compute_system, cs);
}
END_TEST

/* --- ComputeSystem: VirtualMachine ------------------------------------------------------------ */

static const char vm_doc[] =
    "{\"Owner\": \"vmtest\", \"SchemaVersion\": {\"Major\": 2, \"Minor\": 6},\n"
    " \"ShouldTerminateOnLastHandleClosed\": true,\n"
    " \"VirtualMachine\": {\n"
    "  \"Version\": {\"Major\": 2, \"Minor\": 1},\n"
    "  \"StopOnReset\": true,\n"
    "  \"Chipset\": {\"LinuxKernelDirect\": {\"KernelFilePath\": \"/boot/vmlinuz\",\n"
    "     \"InitRdPath\": \"/boot/initrd.img\", \"KernelCmdLine\": \"console=ttyS0 quiet\"},\n"
    "     \"UseUtc\": true},\n"
    "  \"ComputeTopology\": {\"Memory\": {\"SizeInMB\": 1024, \"AllowOvercommit\": true,\n"
    "     \"Backing\": \"Virtual\"}, \"Processor\": {\"Count\": 2}},\n"
    "  \"Devices\": {\n"
    "   \"ComPorts\": {\"0\": {\"NamedPipe\": \"/run/vm/com1.sock\"}, \"1\": {}},\n"
    "   \"VirtioSerial\": {\"Ports\": {\"0\": {\"NamedPipe\": \"/run/vm/agent.sock\",\n"
    "     \"Name\": \"agent\"}}},\n"
    "   \"Scsi\": {\"primary\": {\"Attachments\": {\n"
    "     \"0\": {\"Type\": \"VirtualDisk\", \"Path\": \"/vm/root.img\"},\n"
    "     \"1\": {\"Type\": \"Iso\", \"Path\": \"/vm/cidata.iso\", \"ReadOnly\": true}}}},\n"
    "   \"Plan9\": {\"Shares\": [{\"Name\": \"share\", \"AccessName\": \"share\",\n"
    "     \"Path\": \"/srv/share\", \"Port\": 564, \"Flags\": 0, \"AllowedFiles\": [\"a\", "
    "\"b\"]}]}},\n"
    "  \"GuestConnection\": {\"UseVsock\": true, \"UseHostTimeZone\": false},\n"
    "  \"RegistryChanges\": {\"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"K\"},\n"
    "     \"Type\": \"QWord\", \"QWordValue\": 18446744073709551615}]}\n"
    " }\n"
    "}";

START_TEST(vm__utility_vm_document_is_accepted_and_kept)
{
    hcs_doc_compute_system *cs = parse_ok(&hcs_type_compute_system, "ComputeSystem", vm_doc);
    ck_assert_ptr_null(cs->container);
    ck_assert_str_eq(cs->owner, "vmtest");
    ck_assert_uint_eq(cs->schema_version->minor.value, HCS_SCHEMA_MINOR_MAX);
    ck_assert(cs->should_terminate_on_last_handle_closed.set);
    ck_assert(cs->should_terminate_on_last_handle_closed.value);
    ck_assert_ptr_nonnull(cs->virtual_machine);

    /* The kept copy is the document's VirtualMachine object, unchanged. */
    cJSON *whole = NULL;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_json_parse(vm_doc, strlen(vm_doc), "vm", &whole, &err), 0);
    ck_assert(cJSON_Compare(cs->virtual_machine,
                            cJSON_GetObjectItemCaseSensitive(whole, "VirtualMachine"), 1));
    cJSON_Delete(whole);

    const cJSON *vm = cs->virtual_machine;
    ck_assert_str_eq(AT(vm, "Devices", "ComPorts", "0", "NamedPipe")->valuestring,
                     "/run/vm/com1.sock");
    ck_assert_str_eq(AT(vm, "Devices", "Scsi", "primary", "Attachments", "1", "Path")->valuestring,
                     "/vm/cidata.iso");
    ck_assert_str_eq(AT(vm, "Devices", "Plan9", "Shares", "0", "AllowedFiles", "1")->valuestring,
                     "b");
    uint64_t q = 0;
    ck_assert_int_eq(hcs_json_u64(AT(vm, "RegistryChanges", "AddValues", "0", "QWordValue"), &q),
                     0);
    ck_assert_uint_eq(q, UINT64_MAX);
    hcs_schema_free(&hcs_type_compute_system, cs);
}
END_TEST

START_TEST(vm__version_is_checked_inside_the_vm)
{
    /* VirtualMachine.Version is validated but not stored: its version check must still run. */
    static const char *const good[] = {
        "{\"VirtualMachine\": {\"Version\": {\"Major\": 2},"
        " \"Chipset\": {\"LinuxKernelDirect\": {\"KernelFilePath\": \"/k\"}},"
        " \"ComputeTopology\": {\"Memory\": {\"SizeInMB\": 16}}}}",
        "{\"VirtualMachine\": {\"Version\": {\"Major\": 2, \"Minor\": 6},"
        " \"Chipset\": {\"LinuxKernelDirect\": {\"KernelFilePath\": \"/k\"}},"
        " \"ComputeTopology\": {\"Memory\": {\"SizeInMB\": 16777216}}}}",
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(good); i++)
        hcs_schema_free(&hcs_type_compute_system,
                        parse_ok(&hcs_type_compute_system, "ComputeSystem", good[i]));
    void *out = SENTINEL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(
        hcs_schema_parse(&hcs_type_compute_system,
                         "{\"VirtualMachine\": {\"Version\": {\"Major\": 2, \"Minor\": 7},"
                         " \"Chipset\": {\"LinuxKernelDirect\": {\"KernelFilePath\": \"/k\"}},"
                         " \"ComputeTopology\": {\"Memory\": {\"SizeInMB\": 16}}}}",
                         "ComputeSystem", true, &out, &err),
        -1);
    ck_assert_ptr_null(out);
    ck_assert_hr(err->hr, HCS_E_INVALID_JSON);
    ck_assert_str_eq(err->message, "VirtualMachine.Version.Minor: schema version 2.7 is newer than "
                                   "libhcs reads (2.0 to 2.6)");
}
END_TEST

/* --- ProcessParameters ------------------------------------------------------------------------ */

START_TEST(process__empty_arguments_are_kept)
{
    /* CommandArgs must not be empty, but an argument may be: sh -c "" is a real command. */
    hcs_doc_process_parameters *p = parse_ok(&hcs_type_process_parameters, "ProcessParameters",
                                             "{\"CommandArgs\": [\"/bin/sh\", \"-c\", \"\"]}");
    ck_assert_uint_eq(p->command_args.n, 3);
    ck_assert_str_eq(((char **)p->command_args.items)[2], "");
    hcs_schema_free(&hcs_type_process_parameters, p);
}
END_TEST

START_TEST(process__every_field_is_stored)
{
    static const char doc[] =
        "{\"ApplicationName\": \"/bin/sh\", \"CommandArgs\": [\"/bin/sh\", \"-c\", \"echo $A\"],"
        " \"User\": \"1000:1000\", \"WorkingDirectory\": \"/tmp\","
        " \"Environment\": {\"A\": \"1\", \"PATH\": \"/usr/bin:/bin\", \"EMPTY\": \"\"},"
        " \"EmulateConsole\": true, \"CreateStdInPipe\": true, \"CreateStdOutPipe\": false,"
        " \"ConsoleSize\": [24, 65535]}";
    hcs_doc_process_parameters *p =
        parse_ok(&hcs_type_process_parameters, "ProcessParameters", doc);
    ck_assert_str_eq(p->application_name, "/bin/sh");
    ck_assert_ptr_null(p->command_line);
    ck_assert_uint_eq(p->command_args.n, 3);
    char **args = p->command_args.items;
    ck_assert_str_eq(args[0], "/bin/sh");
    ck_assert_str_eq(args[1], "-c");
    ck_assert_str_eq(args[2], "echo $A");
    ck_assert_str_eq(p->user, "1000:1000");
    ck_assert_str_eq(p->working_directory, "/tmp");

    ck_assert_uint_eq(p->environment.n, 3);
    char **values = p->environment.values;
    ck_assert_str_eq(p->environment.keys[0], "A");
    ck_assert_str_eq(values[0], "1");
    ck_assert_str_eq(p->environment.keys[1], "PATH");
    ck_assert_str_eq(values[1], "/usr/bin:/bin");
    ck_assert_str_eq(p->environment.keys[2], "EMPTY");
    ck_assert_str_eq(values[2], "");

    ck_assert(p->emulate_console.set && p->emulate_console.value);
    ck_assert(p->create_stdin_pipe.set && p->create_stdin_pipe.value);
    ck_assert(p->create_stdout_pipe.set && !p->create_stdout_pipe.value);
    ck_assert(!p->create_stderr_pipe.set);

    ck_assert_uint_eq(p->console_size.n, 2);
    const hcs_opt_u64 *size = p->console_size.items;
    ck_assert(size[0].set && size[1].set);
    ck_assert_uint_eq(size[0].value, 24);
    ck_assert_uint_eq(size[1].value, 65535);
    hcs_schema_free(&hcs_type_process_parameters, p);
}
END_TEST

START_TEST(process__modify_and_signal_documents)
{
    hcs_doc_process_modify *m = parse_ok(
        &hcs_type_process_modify, "ProcessModifyRequest",
        "{\"Operation\": \"ConsoleSize\", \"ConsoleSize\": {\"Height\": 65535, \"Width\": 0}}");
    ck_assert_int_eq(m->operation, HCS_PROCESS_MODIFY_CONSOLE_SIZE);
    ck_assert_ptr_nonnull(m->console_size);
    ck_assert(m->console_size->height.set && m->console_size->width.set);
    ck_assert_uint_eq(m->console_size->height.value, 65535);
    ck_assert_uint_eq(m->console_size->width.value, 0);
    ck_assert_ptr_null(m->close_handle);
    hcs_schema_free(&hcs_type_process_modify, m);

    static const struct {
        const char *name;
        int want;
    } handles[] = {{"StdIn", HCS_STD_HANDLE_IN},
                   {"StdOut", HCS_STD_HANDLE_OUT},
                   {"StdErr", HCS_STD_HANDLE_ERR},
                   {"All", HCS_STD_HANDLE_ALL}};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(handles); i++) {
        char doc[128];
        snprintf(doc, sizeof(doc),
                 "{\"Operation\": \"CloseHandle\", \"CloseHandle\": {\"Handle\": \"%s\"}}",
                 handles[i].name);
        m = parse_ok(&hcs_type_process_modify, "ProcessModifyRequest", doc);
        ck_assert_int_eq(m->operation, HCS_PROCESS_MODIFY_CLOSE_HANDLE);
        ck_assert_ptr_nonnull(m->close_handle);
        ck_assert_int_eq(m->close_handle->handle, handles[i].want);
        ck_assert_ptr_null(m->console_size);
        hcs_schema_free(&hcs_type_process_modify, m);
    }

    const char *signals[] = {"{\"Signal\": 1}", "{\"Signal\": 64}", "{\"Signal\": 15}"};
    const int64_t want[] = {1, 64, 15};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(signals); i++) {
        hcs_doc_signal_options *s =
            parse_ok(&hcs_type_signal_options, "SignalProcessOptions", signals[i]);
        ck_assert(s->signal.set);
        ck_assert_int_eq(s->signal.value, want[i]);
        hcs_schema_free(&hcs_type_signal_options, s);
    }
}
END_TEST

/* --- queries, requests, options --------------------------------------------------------------- */

START_TEST(requests__queries_store_enum_indexes_in_order)
{
    hcs_doc_property_query *pq = parse_ok(
        &hcs_type_property_query, "PropertyQuery",
        "{\"PropertyTypes\": [\"ProcessList\", \"Memory\", \"TerminateOnLastHandleClosed\","
        " \"Statistics\"]}");
    ck_assert_uint_eq(pq->property_types.n, 4);
    const int *pt = pq->property_types.items;
    ck_assert_int_eq(pt[0], HCS_PROPERTY_PROCESS_LIST);
    ck_assert_int_eq(pt[1], HCS_PROPERTY_MEMORY);
    ck_assert_int_eq(pt[2], HCS_PROPERTY_TERMINATE_ON_LAST_HANDLE_CLOSED);
    ck_assert_int_eq(pt[3], HCS_PROPERTY_STATISTICS);
    hcs_schema_free(&hcs_type_property_query, pq);

    hcs_doc_system_query *sq =
        parse_ok(&hcs_type_system_query, "SystemQuery",
                 "{\"Ids\": [\"a\", \"b\"], \"Names\": [], \"Types\": [\"VirtualMachine\","
                 " \"Container\"], \"Owners\": [\"me\"]}");
    ck_assert_uint_eq(sq->ids.n, 2);
    ck_assert_str_eq(((char **)sq->ids.items)[1], "b");
    ck_assert_uint_eq(sq->names.n, 0);
    ck_assert_uint_eq(sq->types.n, 2);
    ck_assert_int_eq(((int *)sq->types.items)[0], HCS_SYSTEM_TYPE_VIRTUAL_MACHINE);
    ck_assert_int_eq(((int *)sq->types.items)[1], HCS_SYSTEM_TYPE_CONTAINER);
    ck_assert_uint_eq(sq->owners.n, 1);
    ck_assert_str_eq(((char **)sq->owners.items)[0], "me");
    hcs_schema_free(&hcs_type_system_query, sq);

    hcs_doc_service_query *svq = parse_ok(&hcs_type_service_query, "Service_PropertyQuery",
                                          "{\"PropertyTypes\": [\"Host\", \"Basic\"]}");
    ck_assert_uint_eq(svq->property_types.n, 2);
    ck_assert_int_eq(((int *)svq->property_types.items)[0], HCS_SERVICE_PROPERTY_HOST);
    ck_assert_int_eq(((int *)svq->property_types.items)[1], HCS_SERVICE_PROPERTY_BASIC);
    hcs_schema_free(&hcs_type_service_query, svq);
}
END_TEST

START_TEST(requests__modify_setting_requests)
{
    hcs_doc_modify_request *m =
        parse_ok(&hcs_type_modify_request, "ModifySettingRequest",
                 "{\"ResourcePath\": \"Container/Memory/SizeInMB\", \"RequestType\": \"Update\","
                 " \"Settings\": 18446744073709551615}");
    ck_assert_str_eq(m->resource_path, "Container/Memory/SizeInMB");
    ck_assert_int_eq(m->request_type, HCS_REQUEST_UPDATE);
    uint64_t v = 0;
    ck_assert_int_eq(hcs_json_u64(m->settings, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    hcs_schema_free(&hcs_type_modify_request, m);

    m = parse_ok(&hcs_type_modify_request, "ModifySettingRequest",
                 "{\"ResourcePath\": \"Container/Processor\", \"RequestType\": \"Update\","
                 " \"Settings\": {\"Count\": 2, \"Maximum\": 5000}}");
    ck_assert_int_eq(m->request_type, HCS_REQUEST_UPDATE);
    ck_assert(cJSON_IsObject(m->settings));
    ck_assert_str_eq(hcs_json_number_text(AT(m->settings, "Maximum")), "5000");
    hcs_schema_free(&hcs_type_modify_request, m);

    const char *kinds[] = {"Add", "Remove"};
    const int want[] = {HCS_REQUEST_ADD, HCS_REQUEST_REMOVE};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(kinds); i++) {
        char doc[256];
        snprintf(doc, sizeof(doc),
                 "{\"ResourcePath\": \"Container/MappedDirectories\", \"RequestType\": \"%s\","
                 " \"Settings\": {\"HostPath\": \"/a\", \"ContainerPath\": \"/b\"}}",
                 kinds[i]);
        m = parse_ok(&hcs_type_modify_request, "ModifySettingRequest", doc);
        ck_assert_int_eq(m->request_type, want[i]);
        ck_assert_str_eq(AT(m->settings, "ContainerPath")->valuestring, "/b");
        hcs_schema_free(&hcs_type_modify_request, m);
    }
}
END_TEST

START_TEST(requests__layer_data_and_options)
{
    hcs_doc_layer_data *ld =
        parse_ok(&hcs_type_layer_data, "LayerData",
                 "{\"SchemaVersion\": {\"Major\": 2, \"Minor\": 0}, \"Layers\": ["
                 "{\"Id\": \"{9F1C2D3E-0000-4A4A-8B8B-123456789ABC}\", \"Path\": \"/l/1\"},"
                 "{\"Id\": \"00000000-0000-0000-0000-000000000000\", \"Path\": \"/l/0\","
                 " \"PathType\": \"AbsolutePath\"}]}");
    ck_assert_uint_eq(ld->schema_version->major.value, 2);
    ck_assert(ld->schema_version->minor.set);
    ck_assert_uint_eq(ld->schema_version->minor.value, 0);
    ck_assert_uint_eq(ld->layers.n, 2);
    const hcs_doc_layer *l = ld->layers.items;
    ck_assert_str_eq(l[0].path, "/l/1");
    ck_assert_str_eq(l[1].id, "00000000-0000-0000-0000-000000000000");
    ck_assert_int_eq(l[1].path_type, HCS_PATH_TYPE_ABSOLUTE);
    hcs_schema_free(&hcs_type_layer_data, ld);

    ld = parse_ok(&hcs_type_layer_data, "LayerData",
                  "{\"ImportLimits\": {\"MaxBytes\": 18446744073709551615, \"MaxEntries\": 5}}");
    ck_assert_uint_eq(ld->layers.n, 0);
    ck_assert_uint_eq(ld->import_limits->max_bytes.value, UINT64_MAX);
    ck_assert_uint_eq(ld->import_limits->max_entries.value, 5);
    hcs_schema_free(&hcs_type_layer_data, ld);

    hcs_doc_export_options *eo =
        parse_ok(&hcs_type_export_options, "ExportLayerOptions",
                 "{\"IsWritableLayer\": true, \"Compression\": \"Zstd\", \"CompressionLevel\": 19,"
                 " \"Deterministic\": true, \"Timestamp\": -1}");
    ck_assert(eo->is_writable_layer.value);
    ck_assert_int_eq(eo->compression, HCS_EXPORT_COMPRESSION_ZSTD);
    ck_assert_uint_eq(eo->compression_level.value, 19);
    ck_assert(eo->deterministic.value);
    ck_assert_int_eq(eo->timestamp.value, -1);
    hcs_schema_free(&hcs_type_export_options, eo);

    hcs_doc_shutdown_options *so =
        parse_ok(&hcs_type_shutdown_options, "ShutdownOptions",
                 "{\"Type\": \"Shutdown\", \"Force\": true, \"Reason\": \"maintenance\","
                 " \"GracePeriodSeconds\": 86400}");
    ck_assert_int_eq(so->type, 1); /* "Shutdown", the first value */
    ck_assert(so->force.set && so->force.value);
    ck_assert_str_eq(so->reason, "maintenance");
    ck_assert(so->grace_period_seconds.set);
    ck_assert_uint_eq(so->grace_period_seconds.value, 86400);
    hcs_schema_free(&hcs_type_shutdown_options, so);

    so = parse_ok(&hcs_type_shutdown_options, "ShutdownOptions", "{\"GracePeriodSeconds\": 0}");
    ck_assert_int_eq(so->type, 0);
    ck_assert(so->grace_period_seconds.set);
    ck_assert_uint_eq(so->grace_period_seconds.value, 0);
    hcs_schema_free(&hcs_type_shutdown_options, so);

    hcs_doc_pause_options *po =
        parse_ok(&hcs_type_pause_options, "PauseOptions", "{\"SuspensionLevel\": \"Suspend\"}");
    ck_assert_int_eq(po->suspension_level, 1);
    hcs_schema_free(&hcs_type_pause_options, po);

    hcs_doc_service_modify *sm =
        parse_ok(&hcs_type_service_modify, "ModificationRequest",
                 "{\"PropertyType\": \"Roots\", \"Settings\": {\"DataRoot\": \"/var/lib/hcs\"}}");
    ck_assert_int_eq(sm->property_type, HCS_SERVICE_SETTING_ROOTS);
    ck_assert_str_eq(AT(sm->settings, "DataRoot")->valuestring, "/var/lib/hcs");
    hcs_schema_free(&hcs_type_service_modify, sm);

    sm = parse_ok(&hcs_type_service_modify, "ModificationRequest",
                  "{\"PropertyType\": \"Logging\", \"Settings\": {\"Level\": \"Debug\"}}");
    ck_assert_int_eq(sm->property_type, HCS_SERVICE_SETTING_LOGGING);
    ck_assert_str_eq(AT(sm->settings, "Level")->valuestring, "Debug");
    hcs_schema_free(&hcs_type_service_modify, sm);

    /* Reserved options documents take {} only. */
    hcs_schema_free(&hcs_type_empty_options, parse_ok(&hcs_type_empty_options, "options", "{}"));
    hcs_schema_free(&hcs_type_start_options,
                    parse_ok(&hcs_type_start_options, "StartOptions", " { } "));
    AUTOERR hcs_error *err = NULL;
    void *out = SENTINEL;
    ck_assert_int_eq(hcs_schema_parse(&hcs_type_empty_options, "{\"Force\": true}",
                                      "TerminateOptions", false, &out, &err),
                     -1);
    ck_assert_ptr_null(out);
    ck_assert_hr(err->hr, HCS_E_INVALID_JSON);
    ck_assert_contains(err->message, "Force: unknown field in options");
}
END_TEST

START_TEST(requests__parse_json_prefixes_the_given_path)
{
    cJSON *j = NULL;
    hcs_error *err = NULL;
    const char *text = "{\"Count\": 0}";
    ck_assert_int_eq(hcs_json_parse(text, strlen(text), "t", &j, &err), 0);
    void *out = NULL;
    ck_assert_int_eq(hcs_schema_parse_json(&hcs_type_container_processor, j, "ComputeSystem",
                                           "Container.Processor", &out, &err),
                     -1);
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err->message,
                     "Container.Processor.Count: expected an integer from 1 to 4096, got 0");
    hcs_err_free(err);
}
END_TEST

/* --- absent documents, freeing ---------------------------------------------------------------- */

static const struct {
    const hcs_type *type;
    const char *name;
} all_types[] = {
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
    {&hcs_type_start_options, "StartOptions"},
    {&hcs_type_empty_options, "options"},
};

START_TEST(absent__documents_are_absent_unless_required)
{
    const char *absent[] = {NULL, "", "  ", " \t\r\n"};
    const hcs_type *t = all_types[_i].type;
    const char *name = all_types[_i].name;
    for (size_t k = 0; k < HCS_ARRAY_SIZE(absent); k++) {
        void *out = SENTINEL;
        hcs_error *err = NULL;
        ck_assert_msg(hcs_schema_parse(t, absent[k], name, false, &out, &err) == 0, "%s %zu: %s",
                      name, k, err ? err->message : "");
        ck_assert_ptr_null(out);
        ck_assert_ptr_null(err);

        out = SENTINEL;
        ck_assert_int_eq(hcs_schema_parse(t, absent[k], name, true, &out, &err), -1);
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(err);
        ck_assert_hr(err->hr, E_INVALIDARG);
        char want[128];
        snprintf(want, sizeof(want), "%s: the document is required", name);
        ck_assert_str_eq(err->message, want);
        hcs_err_free(err);
    }
}
END_TEST

START_TEST(free__null_is_ignored)
{
    for (size_t i = 0; i < HCS_ARRAY_SIZE(all_types); i++)
        hcs_schema_free(all_types[i].type, NULL);
    hcs_schema_free(NULL, NULL);
    /* And a real document through the same call, so the loop above is not all there is. */
    void *cs = parse_ok(&hcs_type_compute_system, "ComputeSystem", full_container);
    hcs_schema_free(&hcs_type_compute_system, cs);
}
END_TEST

START_TEST(enum_name__maps_stored_values_back)
{
    static const char *const names[] = {"Add", "Remove", "Update", NULL};
    ck_assert_str_eq(hcs_enum_name(names, HCS_REQUEST_ADD), "Add");
    ck_assert_str_eq(hcs_enum_name(names, HCS_REQUEST_UPDATE), "Update");
    ck_assert_ptr_null(hcs_enum_name(names, 0));
    ck_assert_ptr_null(hcs_enum_name(names, 4));
    ck_assert_ptr_null(hcs_enum_name(NULL, 1));
    ck_assert(hcs_doc_absent(NULL) && hcs_doc_absent("") && hcs_doc_absent(" \r\n\t"));
    ck_assert(!hcs_doc_absent(" {}"));
}
END_TEST

HCS_TEST_SUITE(schema_valid_suite)
{
    Suite *s = suite_create("schema-valid");
    TCase *tc = tcase_create("compute-system");
    tcase_add_test(tc, container__every_field_is_stored);
    tcase_add_test(tc, container__minimal_document_leaves_everything_absent);
    tcase_add_test(tc, container__null_is_absent_for_optional_fields);
    tcase_add_test(tc, container__registry_qword_max_is_accepted_exactly);
    tcase_add_test(tc, vm__utility_vm_document_is_accepted_and_kept);
    tcase_add_test(tc, vm__version_is_checked_inside_the_vm);
    suite_add_tcase(s, tc);
    tc = tcase_create("process");
    tcase_add_test(tc, process__every_field_is_stored);
    tcase_add_test(tc, process__empty_arguments_are_kept);
    tcase_add_test(tc, process__modify_and_signal_documents);
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_add_test(tc, requests__queries_store_enum_indexes_in_order);
    tcase_add_test(tc, requests__modify_setting_requests);
    tcase_add_test(tc, requests__layer_data_and_options);
    tcase_add_test(tc, requests__parse_json_prefixes_the_given_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("absent");
    tcase_add_loop_test(tc, absent__documents_are_absent_unless_required, 0,
                        (int)HCS_ARRAY_SIZE(all_types));
    tcase_add_test(tc, free__null_is_ignored);
    tcase_add_test(tc, enum_name__maps_stored_values_back);
    suite_add_tcase(s, tc);
    return s;
}
