/*
 * main.c - hcsdiag: the command table, `hcsdiag help`, and dispatch.
 *
 * New commands are one entry in the table below and one function (see hcsdiag.h).
 */
#include <stdio.h>
#include <string.h>

#include "hcsdiag.h"

static const hcsdiag_command commands[] = {
    {"list", "[--json] [QUERY]", "list compute systems (HcsEnumerateComputeSystems)",
     "Prints a table ID, STATE, OWNER, TYPE, sorted by id. QUERY is a SystemQuery document,\n"
     "for example '{\"Owners\":[\"builder\"],\"Types\":[\"Container\"]}'.\n"
     "\n"
     "  --json   print the enumeration result as the library returns it (a JSON array)\n",
     hcsdiag_list},
    {"create", "[--start] [--id ID] FILE.json|-", "create a compute system from a document",
     "FILE.json (- for standard input) is a ComputeSystem document (hcs-schema(7)). Prints the\n"
     "id. The system outlives hcsdiag; a rejected document names the field at fault.\n"
     "\n"
     "  --id ID   the system's id (default: a random GUID)\n"
     "  --start   start it too; a system that fails to start is removed again\n",
     hcsdiag_create},
    {"start", "ID", "start a created compute system (HcsStartComputeSystem)", "", hcsdiag_start},
    {"shutdown", "[--timeout SECONDS] [--json] ID",
     "stop a compute system gracefully and report how it stopped",
     "Every process gets SIGTERM, then SIGKILL after the grace period (HcsShutDownComputeSystem).\n"
     "Waits until the system has stopped and prints how: GracefulExit or ForcedExit.\n"
     "\n"
     "  --timeout SECONDS   the grace period, 0 to 86400 (default 10)\n"
     "  --json              print the SystemExitStatus document\n",
     hcsdiag_shutdown},
    {"kill", "[--json] ID", "terminate a compute system at once (HcsTerminateComputeSystem)",
     "Kills every process of the system, waits until it has stopped and reports it.\n"
     "Also spelled `terminate`.\n"
     "\n"
     "  --json   print the SystemExitStatus document\n",
     hcsdiag_kill},
    {"terminate", "[--json] ID", "the same as kill", "See hcsdiag kill --help.\n", hcsdiag_kill},
    {"pause", "ID", "freeze every process of a compute system (HcsPauseComputeSystem)", "",
     hcsdiag_pause},
    {"resume", "ID", "thaw a paused compute system (HcsResumeComputeSystem)", "", hcsdiag_resume},
    {"wait", "[--timeout SECONDS] [--json] ID",
     "wait until a compute system stops; print how it stopped",
     "HcsWaitForComputeSystemExit. A system that stops while no handle is open is removed at\n"
     "once, so start the wait before the stop.\n"
     "\n"
     "  --timeout SECONDS   give up after this long (exit status 1)\n"
     "  --json              print the SystemExitStatus document\n",
     hcsdiag_wait},
    {"props", "[--json] ID [QUERY]", "show a compute system's properties",
     "HcsGetComputeSystemProperties. QUERY is a PropertyQuery document or property type names\n"
     "(Statistics ProcessList Memory TerminateOnLastHandleClosed); default the first three.\n"
     "\n"
     "  --json   print the Properties document as the library returns it\n",
     hcsdiag_props},
    {"exec", "[-i] [-t] [--env K=V]... [--cwd DIR] [--user U] ID COMMAND [ARGS...]",
     "run a process in a running compute system (HcsCreateProcess)",
     "The process's stdout and stderr go to hcsdiag's; hcsdiag exits with its exit code\n"
     "(128+N when signal N ended it; 125 when it could not be run). SIGINT, SIGTERM, SIGHUP,\n"
     "SIGQUIT, SIGUSR1 and SIGUSR2 are passed on to it.\n"
     "\n"
     "  -i, --interactive   copy hcsdiag's stdin to the process (its stdin ends with ours)\n"
     "  -t, --tty           a console (pseudo-terminal) for the process; with -i and a\n"
     "                      terminal on stdin, the terminal is raw while it runs\n"
     "  -e, --env K=V       add K to the environment (K alone: hcsdiag's own value)\n"
     "  -w, --cwd DIR       the working folder (absolute; default /)\n"
     "  -u, --user U        name, uid, name:group or uid:gid (default root)\n",
     hcsdiag_exec},
    {"console", "[--env K=V]... [--cwd DIR] [--user U] ID [COMMAND [ARGS...]]",
     "an interactive console in a running compute system (exec -i -t, default /bin/sh)",
     "The local terminal is raw while the console runs and restored at the end; a change of\n"
     "its size is passed on (HcsModifyProcess ConsoleSize). Exit status as for exec.\n",
     hcsdiag_console},
    {"reg", "ID query|add|delete KEY [/v NAME | /ve | /va] [/t TYPE] [/d DATA] [/s] [--json]",
     "read and change a compute system's registry from the host",
     "  hcsdiag reg ID query KEY [/v NAME | /ve] [/s] [--json]\n"
     "  hcsdiag reg ID add KEY [/v NAME | /ve] [/t TYPE] [/s SEPARATOR] [/d DATA] [/f]\n"
     "  hcsdiag reg ID delete KEY [/v NAME | /ve | /va] [/f]\n"
     "\n"
     "The arguments of hcsreg(1). KEY: HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SECURITY, HKLM\\SAM\n"
     "or HKU\\.DEFAULT (or a hive name: System, Software, ...), then \\subkey... (quote it).\n"
     "TYPE: REG_SZ (default), REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY,\n"
     "REG_NONE. query --json prints the Registry property (with /s, an array, one per key).\n",
     hcsdiag_reg},
    {"image import", "[--store DIR] [--platform OS/ARCH] [--tag NAME] [--json] SOURCE",
     "import an OCI image or docker-archive tar into the layer store",
     "SOURCE is an OCI image layout folder, an OCI archive (podman save --format oci-archive)\n"
     "or a docker-archive tar (docker save, podman save). Every blob is checked against its\n"
     "sha256 digest and every layer's diff id against the image config. Layers are imported\n"
     "into STORE/sha256/<diff id hex>; those already there are kept. Prints the layer chain,\n"
     "nearest first, as a ComputeSystem's Container.Storage.Layers needs it.\n"
     "\n"
     "  --store DIR          the layer store (default $HCS_DATA_ROOT/layers)\n"
     "  --platform OS/ARCH   the manifest to pick from an index (default linux/<host arch>)\n"
     "  --tag NAME           the image to pick by its ref name or repository tag\n"
     "  --json               print {\"Layers\":[{\"Id\":...,\"Path\":...},...]}\n",
     hcsdiag_image_import},
    {"layer import", "[--json] LAYER_PATH SOURCE",
     "import a layer archive or folder (HcsImportLayer)",
     "SOURCE is a tar, tar+gzip or tar+zstd layer archive, or an unpacked layer folder.\n"
     "LAYER_PATH must not exist (or be an empty folder). Prints the layer's diff id.\n"
     "\n"
     "  --json   print {\"Id\":...,\"Path\":...,\"DiffId\":...}\n",
     hcsdiag_layer_import},
    {"layer export", "[--compression none|gzip|zstd] [--level N] [--deterministic] LAYER_PATH OUT",
     "write a layer as an OCI layer archive (HcsExportLayer)",
     "OUT is the archive file to write, or an existing folder (it gets layer.tar, layer.tar.gz\n"
     "or layer.tar.zst). A writable layer exports its changes. Prints the archive's path.\n"
     "\n"
     "  --compression C   none (default), gzip or zstd\n"
     "  --level N         the compression level (1-22)\n"
     "  --deterministic   the same tree always gives the same bytes\n",
     hcsdiag_layer_export},
    {"layer create", "WRITABLE_PATH PARENT...",
     "initialize a writable layer over parent layers (HcsInitializeWritableLayer)",
     "PARENT... are read-only layers or plain folders, nearest first.\n", hcsdiag_layer_create},
    {"layer mount", "WRITABLE_PATH [PARENT...]",
     "attach a writable layer's union view (HcsAttachLayerStorageFilter)",
     "Mounts the view at WRITABLE_PATH/rootfs in the caller's mount namespace and prints that\n"
     "path. PARENT..., when given, must be the chain the layer was created over.\n",
     hcsdiag_layer_mount},
    {"layer unmount", "PATH", "detach a writable layer's view (HcsDetachLayerStorageFilter)", "",
     hcsdiag_layer_unmount},
    {"layer remove", "PATH", "remove a layer (HcsDestroyLayer)",
     "Refused while the layer is in use (attached, or the parent of an attached layer).\n",
     hcsdiag_layer_remove},
};

static void list_commands(FILE *f)
{
    fprintf(f, "usage: hcsdiag COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-15s %s\n", "help [COMMAND]", "this list, or a command's options");
    fprintf(f, "\nhcsdiag COMMAND --help shows a command's options. See hcsdiag(1).\n"
               "\nexit status: 0 success; 1 the operation failed (the reason on stderr); 2 usage\n"
               "error; exec and console: the process's exit code, 125 when it could not run.\n");
}

/* How many words of argv (from 0) name cmd, or 0 when it does not match. */
static int match(const hcsdiag_command *cmd, int argc, char **argv)
{
    const char *p = cmd->name;
    int i = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, " ");
        if (i >= argc || strlen(argv[i]) != len || strncmp(argv[i], p, len) != 0)
            return 0;
        i++;
        p += len;
        p += *p == ' ';
    }
    return i;
}

static const hcsdiag_command *find(int argc, char **argv, int *words)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        int n = match(&commands[i], argc, argv);
        if (n > 0) {
            *words = n;
            return &commands[i];
        }
    }
    return NULL;
}

/*
 * "hcsdiag image" alone, "hcsdiag image frob": list what the group has (a usage error);
 * "hcsdiag image --help", "hcsdiag help image": the same list as help.
 */
static int unknown(int argc, char **argv, bool help)
{
    size_t prefix = strlen(argv[0]);
    bool group = false;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        group |= strncmp(commands[i].name, argv[0], prefix) == 0 && commands[i].name[prefix] == ' ';
    if (!group) {
        fprintf(stderr, "hcsdiag: unknown command \"%s\"\n", argv[0]);
        list_commands(stderr);
        return HCSDIAG_USAGE;
    }
    help = (help && argc == 1) ||
           (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0));
    FILE *f = help ? stdout : stderr;
    if (argc > 1 && !help)
        fprintf(stderr, "hcsdiag: unknown command \"%s %s\"\n", argv[0], argv[1]);
    else if (!help)
        fprintf(stderr, "hcsdiag: \"%s\" needs a command\n", argv[0]);
    fprintf(f, "%s commands:\n", argv[0]);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strncmp(commands[i].name, argv[0], prefix) == 0 && commands[i].name[prefix] == ' ')
            fprintf(f, "  hcsdiag %s %s\n", commands[i].name, commands[i].args);
    return help ? HCSDIAG_OK : HCSDIAG_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        list_commands(stderr);
        return HCSDIAG_USAGE;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        int words = 0;
        const hcsdiag_command *cmd = argc > 2 ? find(argc - 2, argv + 2, &words) : NULL;
        if (argc > 2 && cmd == NULL)
            return unknown(argc - 2, argv + 2, true);
        if (cmd != NULL)
            return hd_help(cmd);
        list_commands(stdout);
        return HCSDIAG_OK;
    }
    int words = 0;
    const hcsdiag_command *cmd = find(argc - 1, argv + 1, &words);
    if (cmd == NULL)
        return unknown(argc - 1, argv + 1, false);
    /* argv of the command: its last word, then its arguments. */
    return cmd->run(cmd, argc - words, argv + words);
}
