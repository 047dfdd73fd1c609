/* doc_process.c - ProcessParameters, ProcessModifyRequest, SignalProcessOptions (§5.4). */
#include <stdio.h>
#include <string.h>

#include "doc_macros.h"
#include "documents.h"

static int check_process_parameters(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_process_parameters *p = obj;
    if (p->command_line == NULL && p->command_args.n == 0 && p->application_name == NULL)
        return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                             "one of CommandArgs, CommandLine or ApplicationName is required");
    if (p->command_line != NULL && p->command_args.n > 0)
        return hcs_walk_fail(w, "CommandLine", HCS_E_INVALID_JSON,
                             "cannot be combined with CommandArgs (give the command once)");
    for (size_t i = 0; i < p->environment.n; i++)
        if (strchr(p->environment.keys[i], '=') != NULL) {
            char key[300];
            snprintf(key, sizeof(key), "Environment[\"%.280s\"]", p->environment.keys[i]);
            return hcs_walk_fail(w, key, HCS_E_INVALID_JSON, "a variable name cannot contain '='");
        }
    bool console = p->emulate_console.value;
    if (console && p->create_stderr_pipe.value)
        return hcs_walk_fail(w, "CreateStdErrPipe", HCS_E_INVALID_JSON,
                             "a console (EmulateConsole) carries stderr on its output; do not "
                             "ask for a separate stderr pipe");
    if (!console && p->console_size.n > 0)
        return hcs_walk_fail(w, "ConsoleSize", HCS_E_INVALID_JSON, "needs EmulateConsole: true");
    return 0;
}

static const hcs_field process_parameters_fields[] = {
    {.name = "ApplicationName",
     .kind = HK_STRING,
     .flags = HF_NONEMPTY,
     .offset = OFF(hcs_doc_process_parameters, application_name)},
    {.name = "CommandLine",
     .kind = HK_STRING,
     .flags = HF_NONEMPTY,
     .offset = OFF(hcs_doc_process_parameters, command_line)},
    {.name = "CommandArgs",
     .kind = HK_ARRAY,
     .elem = HK_STRING,
     .flags = HF_NONEMPTY,
     .offset = OFF(hcs_doc_process_parameters, command_args)},
    {.name = "User",
     .kind = HK_STRING,
     .flags = HF_NONEMPTY,
     .offset = OFF(hcs_doc_process_parameters, user)},
    {.name = "WorkingDirectory",
     .kind = HK_STRING,
     .flags = HF_ABSOLUTE,
     .offset = OFF(hcs_doc_process_parameters, working_directory)},
    {.name = "Environment",
     .kind = HK_MAP,
     .elem = HK_STRING,
     .offset = OFF(hcs_doc_process_parameters, environment)},
    {.name = "EmulateConsole",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_process_parameters, emulate_console)},
    {.name = "CreateStdInPipe",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_process_parameters, create_stdin_pipe)},
    {.name = "CreateStdOutPipe",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_process_parameters, create_stdout_pipe)},
    {.name = "CreateStdErrPipe",
     .kind = HK_BOOL,
     .offset = OFF(hcs_doc_process_parameters, create_stderr_pipe)},
    {.name = "ConsoleSize",
     .kind = HK_ARRAY,
     .elem = HK_U16,
     .offset = OFF(hcs_doc_process_parameters, console_size),
     .min_items = 2,
     .max_items = 2},
    UNSUPPORTED("RestrictedToken", "Windows access tokens; set User instead"),
    UNSUPPORTED("UseExistingLogin", "Windows logon sessions"),
    UNSUPPORTED("UseLegacyConsole", "Windows console host"),
    UNSUPPORTED("OciProcess", "give CommandArgs, Environment, User and WorkingDirectory"),
    UNSUPPORTED("CreateInUtilityVm", "schema 1 field; not supported"),
    UNSUPPORTED("OCISpecification", "schema 1 field; not supported"),
    END,
};
const hcs_type hcs_type_process_parameters = {"ProcessParameters",
                                              sizeof(hcs_doc_process_parameters),
                                              process_parameters_fields, check_process_parameters};

static const hcs_field console_size_fields[] = {
    {.name = "Height",
     .kind = HK_U16,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_console_size, height)},
    {.name = "Width",
     .kind = HK_U16,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_console_size, width)},
    END,
};
static const hcs_type console_size = {"ConsoleSize", sizeof(hcs_doc_console_size),
                                      console_size_fields, NULL};

static const char *const std_handles[] = {"StdIn", "StdOut", "StdErr", "All", NULL};
static const hcs_field close_handle_fields[] = {
    {.name = "Handle",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_close_handle, handle),
     .values = std_handles},
    END,
};
static const hcs_type close_handle = {"CloseHandle", sizeof(hcs_doc_close_handle),
                                      close_handle_fields, NULL};

static int check_process_modify(const void *obj, const cJSON *json, hcs_walk *w)
{
    (void)json;
    const hcs_doc_process_modify *m = obj;
    if (m->operation == HCS_PROCESS_MODIFY_CONSOLE_SIZE && m->console_size == NULL)
        return hcs_walk_fail(w, "ConsoleSize", HCS_E_INVALID_JSON,
                             "required when Operation is \"ConsoleSize\"");
    if (m->operation == HCS_PROCESS_MODIFY_CLOSE_HANDLE && m->close_handle == NULL)
        return hcs_walk_fail(w, "CloseHandle", HCS_E_INVALID_JSON,
                             "required when Operation is \"CloseHandle\"");
    if (m->operation == HCS_PROCESS_MODIFY_CONSOLE_SIZE && m->close_handle != NULL)
        return hcs_walk_fail(w, "CloseHandle", HCS_E_INVALID_JSON,
                             "does not go with Operation \"ConsoleSize\"");
    if (m->operation == HCS_PROCESS_MODIFY_CLOSE_HANDLE && m->console_size != NULL)
        return hcs_walk_fail(w, "ConsoleSize", HCS_E_INVALID_JSON,
                             "does not go with Operation \"CloseHandle\"");
    return 0;
}

static const char *const modify_operations[] = {"ConsoleSize", "CloseHandle", NULL};
static const hcs_field process_modify_fields[] = {
    {.name = "Operation",
     .kind = HK_ENUM,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_process_modify, operation),
     .values = modify_operations},
    {.name = "ConsoleSize",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_process_modify, console_size),
     .type = &console_size},
    {.name = "CloseHandle",
     .kind = HK_OBJECT,
     .offset = OFF(hcs_doc_process_modify, close_handle),
     .type = &close_handle},
    END,
};
const hcs_type hcs_type_process_modify = {"ProcessModifyRequest", sizeof(hcs_doc_process_modify),
                                          process_modify_fields, check_process_modify};

static const hcs_field signal_fields[] = {
    {.name = "Signal",
     .kind = HK_I32,
     .flags = HF_REQUIRED,
     .offset = OFF(hcs_doc_signal_options, signal),
     .min = 1,
     .max = 64,
     .note = "a POSIX signal number"},
    END,
};
const hcs_type hcs_type_signal_options = {"SignalProcessOptions", sizeof(hcs_doc_signal_options),
                                          signal_fields, NULL};
