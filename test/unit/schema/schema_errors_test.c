/*
 * schema_errors_test.c - malformed documents of every kind, one Check test per row: the HRESULT
 * and the start of the message, which is the full JSON path of the offending field.
 *
 * To keep the table readable, the documents are written with ' where JSON has " (none of them
 * needs a real apostrophe); doc_text() turns them back. Expected messages are plain C strings.
 */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "schema/documents.h"

/* The documents, with the name and the "required" flag the API uses for each. */
enum doc {
    CS,  /* ComputeSystem */
    PP,  /* ProcessParameters */
    PQ,  /* PropertyQuery */
    MSR, /* ModifySettingRequest */
    SQ,  /* SystemQuery */
    LD,  /* LayerData */
    SO,  /* ShutdownOptions */
    PO,  /* PauseOptions */
    SPO, /* SignalProcessOptions */
    PMR, /* ProcessModifyRequest */
    SVQ, /* Service_PropertyQuery */
    SVM, /* ModificationRequest (service settings) */
    ELO, /* ExportLayerOptions */
    WLO, /* WritableLayerOptions */
};

static const struct {
    const hcs_type *type;
    const char *name;
    bool required;
} docs[] = {
    [CS] = {&hcs_type_compute_system, "ComputeSystem", true},
    [PP] = {&hcs_type_process_parameters, "ProcessParameters", true},
    [PQ] = {&hcs_type_property_query, "PropertyQuery", false},
    [MSR] = {&hcs_type_modify_request, "ModifySettingRequest", true},
    [SQ] = {&hcs_type_system_query, "SystemQuery", false},
    [LD] = {&hcs_type_layer_data, "LayerData", false},
    [SO] = {&hcs_type_shutdown_options, "ShutdownOptions", false},
    [PO] = {&hcs_type_pause_options, "PauseOptions", false},
    [SPO] = {&hcs_type_signal_options, "SignalProcessOptions", true},
    [PMR] = {&hcs_type_process_modify, "ProcessModifyRequest", true},
    [SVQ] = {&hcs_type_service_query, "Service_PropertyQuery", false},
    [SVM] = {&hcs_type_service_modify, "ModificationRequest", true},
    [ELO] = {&hcs_type_export_options, "ExportLayerOptions", false},
    [WLO] = {&hcs_type_writable_layer_options, "WritableLayerOptions", false},
};

/* The parts of a valid VirtualMachine, to which each row adds or changes one thing. */
#define KERNEL "'Chipset':{'LinuxKernelDirect':{'KernelFilePath':'/boot/vmlinuz'}}"
#define TOPOLOGY "'ComputeTopology':{'Memory':{'SizeInMB':256}}"
#define VM(extra) "{'VirtualMachine':{" KERNEL "," TOPOLOGY extra "}}"
#define REGVALUE(fields)                                                                           \
    "{'Container':{'RegistryChanges':{'AddValues':[{'Key':{'Hive':'System','Name':'K'}," fields    \
    "}]}}}"
#define MOD(path, type, settings)                                                                  \
    "{'ResourcePath':'" path "','RequestType':'" type "','Settings':" settings "}"

#define BAD HCS_E_INVALID_JSON

static const struct row {
    enum doc doc;
    const char *text; /* NULL for no document at all */
    HRESULT hr;
    const char *expect; /* how the message starts */
} rows[] = {
    /* --- absent required documents ------------------------------------------------------- */
    {CS, NULL, E_INVALIDARG, "ComputeSystem: the document is required"},
    {PP, "", E_INVALIDARG, "ProcessParameters: the document is required"},
    {SPO, " \t\r\n ", E_INVALIDARG, "SignalProcessOptions: the document is required"},
    {PMR, NULL, E_INVALIDARG, "ProcessModifyRequest: the document is required"},
    {SVM, "  ", E_INVALIDARG, "ModificationRequest: the document is required"},
    {MSR, "", E_INVALIDARG, "ModifySettingRequest: the document is required"},

    /* --- JSON syntax ------------------------------------------------------------------------ */
    {CS, "{'Container':{'Memory':{'SizeInMB':1}},}", BAD,
     "ComputeSystem: not valid JSON at line 1, column 40"},
    {CS, "{\n  'Container': {\n    'Memory': {'SizeInMB': 1 2}\n  }\n}", BAD,
     "ComputeSystem: not valid JSON at line 3, column 30 (near \"2}\")"},
    {PP, "{'CommandLine': 'a' 'User': 'b'}", BAD,
     "ProcessParameters: not valid JSON at line 1, column 21 (near \"\"User\": \"b\"}\")"},
    {CS, "{'Container':{}} {}", BAD, "ComputeSystem: unexpected text after the JSON value"},
    {LD, "{'Layers':[{'Path':'/a'}]}]", BAD, "LayerData: unexpected text after the JSON value"},
    {SO, "{'Force': True}", BAD, "ShutdownOptions: not valid JSON at line 1, column 11"},

    /* --- the document itself has the wrong shape ------------------------------------------ */
    {CS, "[]", BAD, "ComputeSystem: expected an object, got an array"},
    {CS, "null", BAD, "ComputeSystem: expected an object, got null"},
    {PQ, "'Memory'", BAD, "PropertyQuery: expected an object, got \"Memory\""},
    {SPO, "15", BAD, "SignalProcessOptions: expected an object, got 15"},

    /* --- ComputeSystem: wrong types ------------------------------------------------------- */
    {CS, "{'Container':{'Memory':{'SizeInMB':'lots'}}}", BAD,
     "Container.Memory.SizeInMB: expected an unsigned integer, got \"lots\""},
    {CS, "{'Container':{'Memory':{'SizeInMB':0}}}", BAD,
     "Container.Memory.SizeInMB: expected an integer from 1 to 8796093022207, got 0"},
    {CS, "{'Container':{'Processor':{'Count':1.5}}}", BAD,
     "Container.Processor.Count: expected an unsigned integer, got 1.5"},
    {CS, "{'Container':{'Processor':{'Count':-1}}}", BAD,
     "Container.Processor.Count: expected an unsigned integer, got -1"},
    {CS, "{'Container':{'Processor':{'Count':4097}}}", BAD,
     "Container.Processor.Count: expected an integer from 1 to 4096, got 4097"},
    {CS, "{'Container':{'Processor':{'Maximum':10001}}}", BAD,
     "Container.Processor.Maximum: expected an integer from 1 to 10000, got 10001"},
    {CS, "{'Container':{'Processor':{'Weight':2e3}}}", BAD,
     "Container.Processor.Weight: expected an integer, got 2e3"},
    {CS, "{'ShouldTerminateOnLastHandleClosed':'true','Container':{}}", BAD,
     "ShouldTerminateOnLastHandleClosed: expected true or false, got \"true\""},
    {CS,
     "{'Container':{'MappedDirectories':[{'HostPath':'/a','ContainerPath':'/b','ReadOnly':1}]}}",
     BAD, "Container.MappedDirectories[0].ReadOnly: expected true or false, got 1"},
    {CS, "{'Container':{'Storage':[]}}", BAD,
     "Container.Storage: expected an object, got an array"},
    {CS, "{'Container':{'MappedDirectories':{}}}", BAD,
     "Container.MappedDirectories: expected an array, got an object"},
    {CS, "{'Owner':42,'Container':{}}", BAD, "Owner: expected a string, got 42"},
    {CS, "{'Container':'yes'}", BAD, "Container: expected an object, got \"yes\""},
    {CS, "{'HostingSystemId':'','Container':{}}", BAD,
     "HostingSystemId: expected a non-empty string, got \"\""},
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':'/l0'},{'Path':'relative/l1'}]}}}", BAD,
     "Container.Storage.Layers[1].Path: expected an absolute path, got \"relative/l1\""},
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':'/l0'},null]}}}", BAD,
     "Container.Storage.Layers[1]: expected a value, got null"},
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':'/l0'},['/l1']]}}}", BAD,
     "Container.Storage.Layers[1]: expected an object, got an array"},
    {CS, "{'Container':{'Storage':{'Path':'scratch'}}}", BAD,
     "Container.Storage.Path: expected an absolute path, got \"scratch\""},
    {CS, "{'Container':{'Linux':{'resources':{'pids':{'limit':'max'}}}}}", BAD,
     "Container.Linux.resources.pids.limit: expected an integer, got \"max\""},

    /* --- ComputeSystem: unknown, misspelt and unsupported fields ---------------------------- */
    {CS, "{'Container':{'Memroy':{}}}", BAD,
     "Container.Memroy: unknown field in Container; did you mean \"Memory\"?"},
    {CS, "{'Container':{'memory':{}}}", BAD,
     "Container.memory: unknown field in Container; did you mean \"Memory\"? (names are "
     "case-sensitive)"},
    {CS, "{'container':{}}", BAD,
     "container: unknown field in ComputeSystem; did you mean \"Container\"? (names are "
     "case-sensitive)"},
    {CS, "{'Container':{'Xyzzy':1}}", BAD,
     "Container.Xyzzy: unknown field in Container; expected one of: \"GuestOs\", \"Storage\""},
    {CS, "{'Container':{'MappedPipes':[]}}", BAD,
     "Container.MappedPipes: not supported on Linux: Windows named pipes"},
    {CS, "{'HostedSystem':{},'Container':{}}", BAD,
     "HostedSystem: not supported on Linux: describe the hosted system as a Container"},
    {CS, "{'Container':{'Networking':{'DnsSearchList':'a.b'}}}", BAD,
     "Container.Networking.DnsSearchList: not supported on Linux: DNS settings"},
    {CS, "{'Container':{'Linux':{'resources':{'memory':{}}}}}", BAD,
     "Container.Linux.resources.memory: not supported on Linux: use Container.Memory.SizeInMB"},
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':'/l','Cache':'x'}]}}}", BAD,
     "Container.Storage.Layers[0].Cache: not supported on Linux: layer cache modes"},

    /* --- ComputeSystem: enums ----------------------------------------------------------------- */
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':'/l','PathType':'VirtualSmbShareName'}]}}}",
     BAD,
     "Container.Storage.Layers[0].PathType: \"VirtualSmbShareName\" is not supported on Linux: "
     "layers are local folders"},
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':'/l','PathType':'Absolute'}]}}}", BAD,
     "Container.Storage.Layers[0].PathType: unknown value \"Absolute\"; expected one of: "
     "\"AbsolutePath\", \"VirtualSmbShareName\""},
    {CS,
     "{'Container':{'MappedDirectories':[{'HostPath':'/a','ContainerPath':'/b',"
     "'HostPathType':'absolutepath'}]}}",
     BAD,
     "Container.MappedDirectories[0].HostPathType: unknown value \"absolutepath\"; did you mean "
     "\"AbsolutePath\"? (names are case-sensitive)"},

    /* --- ComputeSystem: duplicates, required, null ---------------------------------------- */
    {CS, "{'Container':{'Memory':{'SizeInMB':1},'Memory':{'SizeInMB':2}}}", BAD,
     "Container.Memory: field given twice"},
    {CS, "{'Owner':'a','Container':{},'Owner':'b'}", BAD, "Owner: field given twice"},
    {CS, "{'Container':{'Storage':{'Layers':[{}]}}}", BAD,
     "Container.Storage.Layers[0].Path: required field is missing"},
    {CS, "{'Container':{'Storage':{'Layers':[{'Path':null}]}}}", BAD,
     "Container.Storage.Layers[0].Path: required, got null"},
    {CS, "{'Container':{'MappedDirectories':[{'HostPath':'/a'}]}}", BAD,
     "Container.MappedDirectories[0].ContainerPath: required field is missing"},
    {CS, "{'Container':{'Linux':{'resources':{'pids':{}}}}}", BAD,
     "Container.Linux.resources.pids.limit: required field is missing"},
    {CS, "{'SchemaVersion':{'Minor':1},'Container':{}}", BAD,
     "SchemaVersion.Major: required field is missing"},

    /* --- ComputeSystem: rules across fields ----------------------------------------------- */
    {CS, "{}", BAD, "ComputeSystem: one of Container or VirtualMachine is required"},
    {CS, "{'Container':null,'VirtualMachine':null}", BAD,
     "ComputeSystem: one of Container or VirtualMachine is required"},
    {CS, "{'Container':{},'VirtualMachine':{" KERNEL "," TOPOLOGY "}}", BAD,
     "VirtualMachine: cannot be combined with Container"},
    {CS, "{'HostingSystemId':'uvm','VirtualMachine':{" KERNEL "," TOPOLOGY "}}", BAD,
     "HostingSystemId: only a Container can be hosted in another system"},
    {CS, "{'SchemaVersion':{'Major':1,'Minor':0},'Container':{}}", BAD,
     "SchemaVersion.Major: schema version 1 is not supported (libhcs reads 2.0 to 2.6)"},
    {CS, "{'SchemaVersion':{'Major':2,'Minor':99},'Container':{}}", BAD,
     "SchemaVersion.Minor: schema version 2.99 is newer than libhcs reads (2.0 to 2.6)"},
    {CS, "{'SchemaVersion':{'Major':2,'Minor':7},'Container':{}}", BAD,
     "SchemaVersion.Minor: schema version 2.7 is newer"},
    {CS, "{'Container':{'GuestOs':{'HostName':'my_host'}}}", BAD,
     "Container.GuestOs.HostName: character '_' at offset 2 is not allowed in a host name"},
    {CS, "{'Container':{'GuestOs':{'HostName':'a b'}}}", BAD,
     "Container.GuestOs.HostName: character ' ' at offset 1 is not allowed"},
    {CS, "{'Container':{'GuestOs':{'HostName':''}}}", BAD,
     "Container.GuestOs.HostName: expected 1 to 64 characters, got 0"},
    {CS,
     "{'Container':{'GuestOs':{'HostName':"
     "'a1234567890123456789012345678901234567890123456789012345678901234'}}}",
     BAD, "Container.GuestOs.HostName: expected 1 to 64 characters, got 65"},
    {CS, "{'Container':{'GuestOs':{'HostName':'-host'}}}", BAD,
     "Container.GuestOs.HostName: a host name must start with a letter or digit, got \"-host\""},
    {CS, "{'Container':{'Storage':{'Layers':[{'Id':'layer-1','Path':'/l'}]}}}", BAD,
     "Container.Storage.Layers[0].Id: expected a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got "
     "\"layer-1\""},
    {CS, "{'Container':{'Networking':{'Namespace':'9f1c2d3e-0000-4a4a-8b8b-123456789abc'}}}", BAD,
     "Container.Networking.Namespace: expected a network namespace path such as /run/netns/NAME, "
     "got the GUID \"9f1c2d3e-0000-4a4a-8b8b-123456789abc\" (HCN namespaces do not exist on "
     "Linux)"},
    {CS, "{'Container':{'Networking':{'Namespace':'netns1'}}}", BAD,
     "Container.Networking.Namespace: expected a network namespace path such as /run/netns/NAME, "
     "got \"netns1\""},
    {CS,
     "{'Container':{'Networking':{'Namespace':'/run/netns/a','NetworkSharedContainerName':'b'}}}",
     BAD,
     "Container.Networking.NetworkSharedContainerName: cannot be combined with Namespace (a "
     "system joins one network)"},

    /* --- ComputeSystem: RegistryChanges ----------------------------------------------------- */
    {CS, REGVALUE("'Type':'DWord','StringValue':'1'"), BAD,
     "Container.RegistryChanges.AddValues[0].StringValue: does not go with Type \"DWord\" (it "
     "takes DWordValue)"},
    {CS, REGVALUE("'Type':'String','QWordValue':1"), BAD,
     "Container.RegistryChanges.AddValues[0].QWordValue: does not go with Type \"String\" (it "
     "takes StringValue)"},
    {CS, REGVALUE("'Type':'DWord'"), BAD,
     "Container.RegistryChanges.AddValues[0].DWordValue: required when Type is \"DWord\""},
    {CS, REGVALUE("'Type':'MultiString','StringValue':null"), BAD,
     "Container.RegistryChanges.AddValues[0].StringValue: required when Type is \"MultiString\""},
    {CS, "{'Container':{'Memory':{'SizeInMB':1}}", BAD,
     "ComputeSystem: the document ends too early (line 1, column 38); a closing bracket, brace or "
     "quote is missing"},
    {CS, "{'Container':{'GuestOs':{'HostName':'abc}}}", BAD,
     "ComputeSystem: the document ends too early"},
    {CS, REGVALUE("'Type':'None','DWordValue':1"), BAD,
     "Container.RegistryChanges.AddValues[0].DWordValue: does not go with Type \"None\""},
    {CS, REGVALUE("'Type':'CustomType','BinaryValue':'AA=='"), BAD,
     "Container.RegistryChanges.AddValues[0].CustomType: required when Type is \"CustomType\""},
    {CS, REGVALUE("'Type':'CustomType','BinaryValue':'AA==','CustomType':null"), BAD,
     "Container.RegistryChanges.AddValues[0].CustomType: required when Type is \"CustomType\""},
    {CS, REGVALUE("'Type':'DWord','DWordValue':4294967296"), BAD,
     "Container.RegistryChanges.AddValues[0].DWordValue: expected an integer from 0 to 4294967295, "
     "got 4294967296"},
    {CS, REGVALUE("'Type':'QWord','QWordValue':18446744073709551616"), BAD,
     "Container.RegistryChanges.AddValues[0].QWordValue: expected an unsigned integer, got "
     "18446744073709551616"},
    {CS, REGVALUE("'Type':'QWord','QWordValue':-1"), BAD,
     "Container.RegistryChanges.AddValues[0].QWordValue: expected an unsigned integer, got -1"},
    {CS, REGVALUE("'Type':'Qword'"), BAD,
     "Container.RegistryChanges.AddValues[0].Type: unknown value \"Qword\"; did you mean "
     "\"QWord\"? (names are case-sensitive)"},
    {CS, "{'Container':{'RegistryChanges':{'DeleteKeys':[{'Hive':'HKLM','Name':'K'}]}}}", BAD,
     "Container.RegistryChanges.DeleteKeys[0].Hive: unknown value \"HKLM\"; expected one of: "
     "\"System\", \"Software\""},

    /* --- VirtualMachine ----------------------------------------------------------------------- */
    {CS, VM(",'Devices':{'ComPorts':{'a':{}}}"), BAD,
     "VirtualMachine.Devices.ComPorts[\"a\"]: expected a decimal number as the key, got \"a\""},
    {CS, VM(",'Devices':{'ComPorts':{'01':{}}}"), BAD,
     "VirtualMachine.Devices.ComPorts[\"01\"]: expected a decimal number as the key, got \"01\""},
    {CS, VM(",'Devices':{'ComPorts':{'4294967296':{}}}"), BAD,
     "VirtualMachine.Devices.ComPorts[\"4294967296\"]: expected a decimal number as the key"},
    {CS, VM(",'Devices':{'ComPorts':{'0':{},'0':{}}}"), BAD,
     "VirtualMachine.Devices.ComPorts[\"0\"]: key given twice"},
    {CS, VM(",'Devices':{'ComPorts':{'0':null}}"), BAD,
     "VirtualMachine.Devices.ComPorts[\"0\"]: expected a value, got null"},
    {CS, VM(",'Devices':{'ComPorts':{'0':{'NamedPipe':'pipe0'}}}"), BAD,
     "VirtualMachine.Devices.ComPorts[\"0\"].NamedPipe: expected an absolute path (a unix socket "
     "path), got \"pipe0\""},
    {CS, VM(",'Devices':{'ComPorts':[]}"), BAD,
     "VirtualMachine.Devices.ComPorts: expected an object, got an array"},
    {CS,
     VM(",'Devices':{'Scsi':{'0':{'Attachments':{'0':{'Type':'PassThru','Path':'/dev/sdb'}}}}}"),
     BAD,
     "VirtualMachine.Devices.Scsi[\"0\"].Attachments[\"0\"].Type: \"PassThru\" is not supported on "
     "Linux: disk pass-through is not implemented"},
    {CS, VM(",'Devices':{'Scsi':{'0':{'Attachments':{'0':{'Type':'VirtualDisk'}}}}}"), BAD,
     "VirtualMachine.Devices.Scsi[\"0\"].Attachments[\"0\"].Path: required field is missing"},
    {CS, VM(",'Devices':{'Plan9':{'Shares':[{'Name':'','Path':'/srv'}]}}"), BAD,
     "VirtualMachine.Devices.Plan9.Shares[0].Name: expected a non-empty string, got \"\""},
    {CS, VM(",'Devices':{'Plan9':{'Shares':[{'Name':'s','Path':'/srv','AllowedFiles':[1]}]}}"), BAD,
     "VirtualMachine.Devices.Plan9.Shares[0].AllowedFiles[0]: expected a string, got 1"},
    {CS, VM(",'Devices':{'NetworkAdapters':{}}"), BAD,
     "VirtualMachine.Devices.NetworkAdapters: not supported on Linux: HCN endpoints"},
    {CS, VM(",'Devices':{'Keybaord':{}}"), BAD,
     "VirtualMachine.Devices.Keybaord: unknown field in Devices; did you mean \"Keyboard\"?"},
    {CS, "{'VirtualMachine':{'Chipset':{'Uefi':{}}," TOPOLOGY "}}", BAD,
     "VirtualMachine.Chipset.Uefi: not supported on Linux: utility VMs boot a Linux kernel"},
    {CS, "{'VirtualMachine':{'Chipset':{}," TOPOLOGY "}}", BAD,
     "VirtualMachine.Chipset.LinuxKernelDirect: required field is missing"},
    {CS, "{'VirtualMachine':{'Chipset':{'LinuxKernelDirect':null}," TOPOLOGY "}}", BAD,
     "VirtualMachine.Chipset.LinuxKernelDirect: required field is missing"},
    {CS, "{'VirtualMachine':{" TOPOLOGY "}}", BAD,
     "VirtualMachine.Chipset: required field is missing"},
    {CS,
     "{'VirtualMachine':{'Chipset':{'LinuxKernelDirect':{'KernelFilePath':'vmlinuz'}}," TOPOLOGY
     "}}",
     BAD,
     "VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath: expected an absolute path, got "
     "\"vmlinuz\""},
    {CS, "{'VirtualMachine':{" KERNEL "}}", BAD,
     "VirtualMachine.ComputeTopology: required field is missing"},
    {CS, "{'VirtualMachine':{" KERNEL ",'ComputeTopology':{'Memory':{'SizeInMB':8}}}}", BAD,
     "VirtualMachine.ComputeTopology.Memory.SizeInMB: expected an integer from 16 to 16777216, "
     "got 8"},
    {CS,
     "{'VirtualMachine':{" KERNEL ",'ComputeTopology':{'Memory':{'SizeInMB':256},'Processor':"
     "{'Count':256}}}}",
     BAD,
     "VirtualMachine.ComputeTopology.Processor.Count: expected an integer from 1 to 255, got 256"},
    {CS,
     "{'VirtualMachine':{" KERNEL ",'ComputeTopology':{'Memory':{'SizeInMB':256,'Backing':"
     "'Paged'}}}}",
     BAD,
     "VirtualMachine.ComputeTopology.Memory.Backing: unknown value \"Paged\"; expected one of: "
     "\"Physical\", \"Virtual\", \"Hybrid\""},
    {CS, VM(",'Version':{'Major':1}"), BAD,
     "VirtualMachine.Version.Major: schema version 1 is not supported"},
    {CS, VM(",'StopOnReset':'no'"), BAD,
     "VirtualMachine.StopOnReset: expected true or false, got \"no\""},
    {CS, VM(",'GuestState':{}"), BAD,
     "VirtualMachine.GuestState: not supported on Linux: persistent guest state files"},

    /* --- ProcessParameters -------------------------------------------------------------------- */
    {PP, "{}", BAD,
     "ProcessParameters: one of CommandArgs, CommandLine or ApplicationName is required"},
    {PP, "{'CommandLine':'ls -l','CommandArgs':['ls','-l']}", BAD,
     "CommandLine: cannot be combined with CommandArgs (give the command once)"},
    {PP, "{'CommandLine':'sh','EmulateConsole':true,'CreateStdErrPipe':true}", BAD,
     "CreateStdErrPipe: a console (EmulateConsole) carries stderr on its output"},
    {PP, "{'CommandLine':'sh','EmulateConsole':true,'ConsoleSize':[24,80,1]}", BAD,
     "ConsoleSize: expected an array of 2 elements, got 3"},
    {PP, "{'CommandLine':'sh','EmulateConsole':true,'ConsoleSize':[24]}", BAD,
     "ConsoleSize: expected an array of 2 elements, got 1"},
    {PP, "{'CommandLine':'sh','EmulateConsole':true,'ConsoleSize':[70000,80]}", BAD,
     "ConsoleSize[0]: expected an integer from 0 to 65535, got 70000"},
    {PP, "{'CommandLine':'sh','EmulateConsole':true,'ConsoleSize':[24,-80]}", BAD,
     "ConsoleSize[1]: expected an unsigned integer, got -80"},
    {PP, "{'CommandLine':'sh','EmulateConsole':true,'ConsoleSize':{'Height':24,'Width':80}}", BAD,
     "ConsoleSize: expected an array, got an object"},
    {PP, "{'CommandLine':'sh','ConsoleSize':[24,80]}", BAD,
     "ConsoleSize: needs EmulateConsole: true"},
    {PP, "{'CommandLine':'sh','EmulateConsole':'yes'}", BAD,
     "EmulateConsole: expected true or false, got \"yes\""},
    {PP, "{'CommandArgs':'ls -l'}", BAD, "CommandArgs: expected an array, got \"ls -l\""},
    {PP, "{'CommandArgs':[]}", BAD, "CommandArgs: expected a non-empty array, got []"},
    {PP, "{'CommandArgs':['ls',1]}", BAD, "CommandArgs[1]: expected a string, got 1"},
    {PP, "{'CommandLine':''}", BAD, "CommandLine: expected a non-empty string, got \"\""},
    {PP, "{'CommandLine':'sh','Environment':['A=1']}", BAD,
     "Environment: expected an object, got an array"},
    {PP, "{'CommandLine':'sh','Environment':{'A':1}}", BAD,
     "Environment[\"A\"]: expected a string, got 1"},
    {PP, "{'CommandLine':'sh','Environment':{'A=B':'c'}}", BAD,
     "Environment[\"A=B\"]: a variable name cannot contain '='"},
    {PP, "{'CommandLine':'sh','Environment':{'A':'1','A':'2'}}", BAD,
     "Environment[\"A\"]: key given twice"},
    {PP, "{'CommandLine':'sh','Environment':{'':'x'}}", BAD, "Environment[\"\"]: empty key"},
    {PP, "{'CommandLine':'sh','WorkingDirectory':'tmp'}", BAD,
     "WorkingDirectory: expected an absolute path, got \"tmp\""},
    {PP, "{'CommandLine':'sh','RestrictedToken':'x'}", BAD,
     "RestrictedToken: not supported on Linux: Windows access tokens; set User instead"},
    {PP, "{'commandLine':'sh'}", BAD,
     "commandLine: unknown field in ProcessParameters; did you mean \"CommandLine\"? (names are "
     "case-sensitive)"},
    {PP, "{'CommandLine':'sh','Enviroment':{}}", BAD,
     "Enviroment: unknown field in ProcessParameters; did you mean \"Environment\"?"},
    {PP, "{'CommandLine':'sh','CreateStdInPipe':true,'CreateStdInPipe':false}", BAD,
     "CreateStdInPipe: field given twice"},

    /* --- PropertyQuery, SystemQuery --------------------------------------------------------- */
    {PQ, "{'PropertyTypes':['Memory','Bogus']}", BAD,
     "PropertyTypes[1]: unknown value \"Bogus\"; expected one of: \"Memory\", \"Statistics\""},
    {PQ, "{'PropertyTypes':['statistics']}", BAD,
     "PropertyTypes[0]: unknown value \"statistics\"; did you mean \"Statistics\"? (names are "
     "case-sensitive)"},
    {PQ, "{'PropertyTypes':['GuestMemory']}", BAD,
     "PropertyTypes[0]: \"GuestMemory\" is not supported on Linux: not implemented for compute "
     "systems"},
    {PQ, "{'PropertyTypes':'Memory'}", BAD, "PropertyTypes: expected an array, got \"Memory\""},
    {PQ, "{'PropertyTypes':[1]}", BAD,
     "PropertyTypes[0]: expected a string (one of: \"Memory\", \"Statistics\""},
    {PQ, "{'PropertyType':['Memory']}", BAD,
     "PropertyType: unknown field in PropertyQuery; did you mean \"PropertyTypes\"?"},
    {PQ, "{'Queries':{}}", BAD, "Queries: not supported on Linux: per-property queries"},
    {SQ, "{'Types':['Container','Silo']}", BAD,
     "Types[1]: unknown value \"Silo\"; expected one of: \"Container\", \"VirtualMachine\""},
    {SQ, "{'Ids':'abc'}", BAD, "Ids: expected an array, got \"abc\""},
    {SQ, "{'Names':['a',null]}", BAD, "Names[1]: expected a value, got null"},
    {SQ, "{'Owners':{}}", BAD, "Owners: expected an array, got an object"},
    {SQ, "{'ids':[]}", BAD,
     "ids: unknown field in SystemQuery; did you mean \"Ids\"? (names are case-sensitive)"},

    /* --- ModifySettingRequest -------------------------------------------------------------- */
    {MSR, MOD("Container/Memory/SizeInMb", "Update", "512"), BAD,
     "ResourcePath: unknown resource path \"Container/Memory/SizeInMb\"; did you mean "
     "\"Container/Memory/SizeInMB\"?"},
    {MSR, MOD("Container/Procesor", "Update", "{}"), BAD,
     "ResourcePath: unknown resource path \"Container/Procesor\"; did you mean "
     "\"Container/Processor\"?"},
    {MSR, MOD("Foo", "Update", "1"), BAD,
     "ResourcePath: unknown resource path \"Foo\"; expected one of: \"Container/Memory/SizeInMB\", "
     "\"Container/Processor\", \"Container/MappedDirectories\""},
    {MSR, MOD("VirtualMachine/Devices/Scsi/0", "Add", "{}"), BAD,
     "ResourcePath: \"VirtualMachine/Devices/Scsi/0\": utility VM resources cannot be modified "
     "yet"},
    {MSR, MOD("Container/Memory/SizeInMB", "Add", "512"), BAD,
     "RequestType: \"Add\" is not valid for Container/Memory/SizeInMB (use \"Update\")"},
    {MSR, MOD("Container/MappedDirectories", "Update", "{'HostPath':'/a','ContainerPath':'/b'}"),
     BAD,
     "RequestType: \"Update\" is not valid for Container/MappedDirectories (use \"Add\" or "
     "\"Remove\")"},
    {MSR, MOD("Container/Processor", "Modify", "{}"), BAD,
     "RequestType: unknown value \"Modify\"; expected one of: \"Add\", \"Remove\", \"Update\""},
    {MSR, "{'ResourcePath':'Container/Memory/SizeInMB','RequestType':'Update'}", BAD,
     "Settings: required for Container/Memory/SizeInMB"},
    {MSR, MOD("Container/Memory/SizeInMB", "Update", "null"), BAD,
     "Settings: required for Container/Memory/SizeInMB"},
    {MSR, MOD("Container/Memory/SizeInMB", "Update", "0"), BAD,
     "Settings: expected a positive integer (megabytes), got 0"},
    {MSR, MOD("Container/Memory/SizeInMB", "Update", "'512'"), BAD,
     "Settings: expected a positive integer (megabytes), got \"512\""},
    {MSR, MOD("Container/Processor", "Update", "{'Count':'2'}"), BAD,
     "Settings.Count: expected an unsigned integer, got \"2\""},
    {MSR, MOD("Container/Processor", "Update", "{'Maximum':10001}"), BAD,
     "Settings.Maximum: expected an integer from 1 to 10000, got 10001"},
    {MSR, MOD("Container/Processor", "Update", "[]"), BAD,
     "Settings: expected an object, got an array"},
    {MSR, MOD("Container/MappedDirectories", "Add", "{'HostPath':'/a','ContainerPath':'b'}"), BAD,
     "Settings.ContainerPath: expected an absolute path, got \"b\""},
    {MSR, MOD("Container/MappedDirectories", "Remove", "{'HostPath':'/a'}"), BAD,
     "Settings.ContainerPath: required field is missing"},
    {MSR,
     MOD("Container/MappedDirectories", "Add", "{'HostPath':'/a','ContainerPath':'/b','RO':1}"),
     BAD, "Settings.RO: unknown field in MappedDirectory"},
    {MSR, "{'RequestType':'Update','Settings':1}", BAD, "ResourcePath: required field is missing"},
    {MSR, "{'ResourcePath':'Container/Processor','Settings':{}}", BAD,
     "RequestType: required field is missing"},
    {MSR, MOD("Container/Processor", "Update", "{}") "x", BAD,
     "ModifySettingRequest: unexpected text after the JSON value"},
    {MSR,
     "{'ResourcePath':'Container/Processor','RequestType':'Update','Settings':{},"
     "'GuestRequest':{}}",
     BAD, "GuestRequest: not supported on Linux: guest requests need a utility VM"},

    /* --- LayerData
       -------------------------------------------------------------------------------- */
    {LD, "{'Layers':[{'Id':'zz','Path':'/a'}]}", BAD,
     "Layers[0].Id: expected a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got \"zz\""},
    {LD, "{'Layers':[{'Path':'/a'},{'Id':'9f1c2d3e-0000-4a4a-8b8b-123456789abg','Path':'/b'}]}",
     BAD, "Layers[1].Id: expected a GUID"},
    {LD, "{'Layers':[{'Id':'9f1c2d3e-0000-4a4a-8b8b-123456789abc}','Path':'/a'}]}", BAD,
     "Layers[0].Id: expected a GUID"},
    {LD, "{'Layers':[{'Id':'9f1c2d3e-0000-4a4a-8b8b-123456789abc}junk','Path':'/a'}]}", BAD,
     "Layers[0].Id: expected a GUID"},
    {LD, "{'Layers':[{'Id':'{9f1c2d3e-0000-4a4a-8b8b-123456789abc','Path':'/a'}]}", BAD,
     "Layers[0].Id: expected a GUID"},
    {LD, "{'Layers':[{'Id':'9f1c2d3e00004a4a8b8b123456789abc0000','Path':'/a'}]}", BAD,
     "Layers[0].Id: expected a GUID"},
    {LD, "{'ImportLimits':{'MaxBytes':0}}", BAD, "ImportLimits.MaxBytes: must be at least 1"},
    {LD, "{'ImportLimits':{'MaxEntries':-1}}", BAD,
     "ImportLimits.MaxEntries: expected an unsigned integer"},
    {LD, "{'ImportLimits':{'MaxByte':10}}", BAD,
     "ImportLimits.MaxByte: unknown field in ImportLimits; did you mean \"MaxBytes\""},
    {ELO, "{'Compression':'Lz4'}", BAD, "Compression: unknown value \"Lz4\""},
    {ELO, "{'CompressionLevel':23}", BAD, "CompressionLevel: expected an integer from 1 to 22"},
    {ELO, "{'Deterministic':'yes'}", BAD, "Deterministic: expected true or false"},
    {ELO, "{'Timestamp':1.5}", BAD, "Timestamp: expected an integer"},
    {WLO, "{'SizeInGB':10}", BAD, "SizeInGB: not supported on Linux"},
    {LD, "{'SchemaVersion':{'Major':1,'Minor':0}}", BAD,
     "SchemaVersion.Major: schema version 1 is not supported (libhcs reads 2.0 to 2.6)"},
    {LD, "{'SchemaVersion':{'Major':2,'Minor':99}}", BAD,
     "SchemaVersion.Minor: schema version 2.99 is newer than libhcs reads (2.0 to 2.6)"},
    {LD, "{'SchemaVersion':{'Major':'2'}}", BAD,
     "SchemaVersion.Major: expected an unsigned integer, got \"2\""},
    {LD, "{'Layers':{}}", BAD, "Layers: expected an array, got an object"},
    {LD, "{'Layers':[{'Path':'/a','PathType':'VirtualSmbShareName'}]}", BAD,
     "Layers[0].PathType: \"VirtualSmbShareName\" is not supported on Linux"},

    /* --- ShutdownOptions, PauseOptions, SignalProcessOptions
       -------------------------------------- */
    {SO, "{'Type':'Reboot'}", BAD,
     "Type: \"Reboot\" is not supported on Linux: a compute system can only be shut down"},
    {SO, "{'Type':'Shutdwn'}", BAD, "Type: unknown value \"Shutdwn\"; did you mean \"Shutdown\"?"},
    {SO, "{'Force':'yes'}", BAD, "Force: expected true or false, got \"yes\""},
    {SO, "{'GracePeriodSeconds':86401}", BAD,
     "GracePeriodSeconds: expected an integer from 0 to 86400, got 86401"},
    {SO, "{'GracePeriodSeconds':1.5}", BAD,
     "GracePeriodSeconds: expected an unsigned integer, got 1.5"},
    {SO, "{'Mechanism':'x'}", BAD,
     "Mechanism: not supported on Linux: libhcs always shuts down through its own monitor"},
    {PO, "{'SuspensionLevel':'MemoryLow'}", BAD,
     "SuspensionLevel: \"MemoryLow\" is not supported on Linux: pausing freezes processes"},
    {PO, "{'SuspensionLevel':'Suspnd'}", BAD,
     "SuspensionLevel: unknown value \"Suspnd\"; did you mean \"Suspend\"?"},
    {PO, "{'SuspensionLevel':1}", BAD,
     "SuspensionLevel: expected a string (one of: \"Suspend\", \"MemoryLow\", \"MemoryMedium\", "
     "\"MemoryHigh\"), got 1"},
    {PO, "{'HostedNotification':{}}", BAD,
     "HostedNotification: not supported on Linux: hosted-system notifications need a utility VM"},
    {SPO, "{}", BAD, "Signal: required field is missing"},
    {SPO, "{'Signal':null}", BAD, "Signal: required, got null"},
    {SPO, "{'Signal':'TERM'}", BAD,
     "Signal: expected an integer (a POSIX signal number), got \"TERM\""},
    {SPO, "{'Signal':0}", BAD, "Signal: expected an integer from 1 to 64, got 0"},
    {SPO, "{'Signal':65}", BAD, "Signal: expected an integer from 1 to 64, got 65"},
    {SPO, "{'Signal':9.0}", BAD, "Signal: expected an integer (a POSIX signal number), got 9.0"},
    {SPO, "{'Signal':15,'signal':15}", BAD,
     "signal: unknown field in SignalProcessOptions; did you mean \"Signal\"? (names are "
     "case-sensitive)"},
    {SPO, "{'Signal':15,'Signal':null}", BAD, "Signal: field given twice"},

    /* --- ProcessModifyRequest
       --------------------------------------------------------------------- */
    {PMR, "{'Operation':'ConsoleSize'}", BAD,
     "ConsoleSize: required when Operation is \"ConsoleSize\""},
    {PMR, "{'Operation':'CloseHandle'}", BAD,
     "CloseHandle: required when Operation is \"CloseHandle\""},
    {PMR, "{'Operation':'ConsoleSize','ConsoleSize':{'Height':70000,'Width':80}}", BAD,
     "ConsoleSize.Height: expected an integer from 0 to 65535, got 70000"},
    {PMR, "{'Operation':'ConsoleSize','ConsoleSize':{'Height':24}}", BAD,
     "ConsoleSize.Width: required field is missing"},
    {PMR, "{'Operation':'ConsoleSize','ConsoleSize':[24,80]}", BAD,
     "ConsoleSize: expected an object, got an array"},
    {PMR, "{'Operation':'CloseHandle','CloseHandle':{'Handle':'Stdin'}}", BAD,
     "CloseHandle.Handle: unknown value \"Stdin\"; did you mean \"StdIn\"? (names are "
     "case-sensitive)"},
    {PMR,
     "{'Operation':'CloseHandle','CloseHandle':{'Handle':'StdIn'},'ConsoleSize':{'Height':1,"
     "'Width':1}}",
     BAD, "ConsoleSize: does not go with Operation \"CloseHandle\""},
    {PMR,
     "{'Operation':'ConsoleSize','ConsoleSize':{'Height':1,'Width':1},'CloseHandle':{'Handle':"
     "'All'}}",
     BAD, "CloseHandle: does not go with Operation \"ConsoleSize\""},
    {PMR, "{'Operation':'Resize'}", BAD,
     "Operation: unknown value \"Resize\"; expected one of: \"ConsoleSize\", \"CloseHandle\""},
    {PMR, "{'ConsoleSize':{'Height':1,'Width':1}}", BAD, "Operation: required field is missing"},

    /* --- Service_PropertyQuery, ModificationRequest ------------------------------------------ */
    {SVQ, "{'PropertyTypes':['CpuGroup']}", BAD,
     "PropertyTypes[0]: \"CpuGroup\" is not supported on Linux: libhcs reports \"Basic\" and "
     "\"Host\""},
    {SVQ, "{'PropertyTypes':['Basik']}", BAD,
     "PropertyTypes[0]: unknown value \"Basik\"; did you mean \"Basic\"?"},
    {SVQ, "{'PropertyTypes':['Basic','host']}", BAD,
     "PropertyTypes[1]: unknown value \"host\"; did you mean \"Host\"? (names are case-sensitive)"},
    {SVQ, "{'PropertyTypes':[null]}", BAD, "PropertyTypes[0]: expected a value, got null"},
    {SVQ, "{'PropertyQueries':{}}", BAD, "PropertyQueries: not supported on Linux"},
    {SVM, "{'PropertyType':'Logging'}", BAD, "Settings: required field is missing"},
    {SVM, "{'PropertyType':'Logging','Settings':null}", BAD, "Settings: required field is missing"},
    {SVM, "{'PropertyType':'Logging','Settings':{'Level':'Verbose'}}", BAD,
     "Settings.Level: unknown value \"Verbose\"; expected one of: \"Error\", \"Warning\", "
     "\"Info\", \"Debug\""},
    {SVM, "{'PropertyType':'Logging','Settings':{}}", BAD,
     "Settings.Level: required field is missing"},
    {SVM, "{'PropertyType':'Logging','Settings':{'Level':'Info','Levle':'Debug'}}", BAD,
     "Settings.Levle: unknown field in LoggingSettings; did you mean \"Level\"?"},
    {SVM, "{'PropertyType':'Roots','Settings':{}}", BAD,
     "Settings: one of RuntimeRoot or DataRoot is required"},
    {SVM, "{'PropertyType':'Roots','Settings':{'RuntimeRoot':'run'}}", BAD,
     "Settings.RuntimeRoot: expected an absolute path, got \"run\""},
    {SVM, "{'PropertyType':'Roots','Settings':'x'}", BAD,
     "Settings: expected an object, got \"x\""},
    {SVM, "{'PropertyType':'CpuGroup','Settings':{}}", BAD,
     "PropertyType: \"CpuGroup\" is not supported on Linux: libhcs has the \"Logging\" and "
     "\"Roots\" settings"},
    {SVM, "{'PropertyType':'Loging','Settings':{}}", BAD,
     "PropertyType: unknown value \"Loging\"; did you mean \"Logging\"?"},
    {SVM, "{'Settings':{}}", BAD, "PropertyType: required field is missing"},
};

/* The row's document with ' turned into " (NULL stays NULL). */
static const char *doc_text(const struct row *r, char *buf, size_t size)
{
    if (r->text == NULL)
        return NULL;
    size_t n = strlen(r->text);
    ck_assert_msg(n < size, "row document too long for the test buffer");
    for (size_t i = 0; i <= n; i++)
        buf[i] = r->text[i] == '\'' ? '"' : r->text[i];
    return buf;
}

START_TEST(malformed_document_is_refused_with_its_path)
{
    const struct row *r = &rows[_i];
    char buf[1024];
    const char *text = doc_text(r, buf, sizeof(buf));
    void *out = &buf; /* any non-NULL value: the parser must reset it */
    AUTOERR hcs_error *err = NULL;
    int rc = hcs_schema_parse(docs[r->doc].type, text, docs[r->doc].name, docs[r->doc].required,
                              &out, &err);
    if (rc == 0)
        hcs_schema_free(docs[r->doc].type, out);
    ck_assert_msg(rc == -1, "row %d (%s): accepted: %s", _i, docs[r->doc].name,
                  text ? text : "(null)");
    ck_assert_msg(out == NULL, "row %d: *out is not NULL after a failure: %s", _i,
                  text ? text : "(null)");
    ck_assert_msg(err != NULL, "row %d: no error: %s", _i, text ? text : "(null)");
    ck_assert_msg(err->hr == r->hr, "row %d: HRESULT 0x%08X, expected 0x%08X: %s\n  message: %s",
                  _i, (uint32_t)err->hr, (uint32_t)r->hr, text ? text : "(null)", err->message);
    ck_assert_msg(strncmp(err->message, r->expect, strlen(r->expect)) == 0,
                  "row %d (%s): %s\n  got:  %s\n  want: %s...", _i, docs[r->doc].name,
                  text ? text : "(null)", err->message, r->expect);
}
END_TEST

/* The same failure without an out-parameter or an error pointer: still -1, nothing leaks. */
START_TEST(malformed_document_fails_without_out_or_err)
{
    const struct row *r = &rows[_i];
    char buf[1024];
    const char *text = doc_text(r, buf, sizeof(buf));
    ck_assert_int_eq(hcs_schema_parse(docs[r->doc].type, text, docs[r->doc].name,
                                      docs[r->doc].required, NULL, NULL),
                     -1);
}
END_TEST

HCS_TEST_SUITE(schema_errors_suite)
{
    Suite *s = suite_create("schema-errors");
    TCase *tc = tcase_create("rows");
    tcase_add_loop_test(tc, malformed_document_is_refused_with_its_path, 0,
                        (int)HCS_ARRAY_SIZE(rows));
    suite_add_tcase(s, tc);
    tc = tcase_create("no-out");
    tcase_add_loop_test(tc, malformed_document_fails_without_out_or_err, 0,
                        (int)HCS_ARRAY_SIZE(rows));
    suite_add_tcase(s, tc);
    return s;
}
