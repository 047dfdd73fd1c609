/*
 * demo - what `make demo` runs: libhcs as it stands today.
 *
 * It asks the library what this host offers, lists compute systems, shows the precise error a
 * malformed document gets, and then tries to create a real container. Until the container
 * runtime (the monitor, lib/monitor) lands, that last step reports E_NOTIMPL and says so.
 */
#include <stdio.h>

#include <hcs.h>

static void show(const char *title, HRESULT hr, const char *doc)
{
    printf("\n== %s\n   HRESULT 0x%08X\n   %s\n", title, (unsigned)hr, doc ? doc : "(no document)");
}

int main(void)
{
    char *doc = NULL;
    HRESULT hr = HcsGetServiceProperties(NULL, &doc);
    show("HcsGetServiceProperties", hr, doc);
    HcsFree(doc);

    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    doc = NULL;
    hr = HcsEnumerateComputeSystems(NULL, op);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, HCS_INFINITE, &doc);
    show("HcsEnumerateComputeSystems", hr, doc);
    HcsFree(doc);

    const char *typo = "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},"
                       "\"Container\":{\"Memory\":{\"SizeInMB\":\"lots\"}}}";
    HCS_SYSTEM system = NULL;
    doc = NULL;
    hr = HcsCreateComputeSystem("demo", typo, op, NULL, &system);
    HcsGetOperationResult(op, &doc);
    show("HcsCreateComputeSystem with a malformed document", hr, doc);
    HcsFree(doc);

    const char *container = "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"demo\","
                            "\"ShouldTerminateOnLastHandleClosed\":true,"
                            "\"Container\":{\"GuestOs\":{\"HostName\":\"demo\"},"
                            "\"Memory\":{\"SizeInMB\":256},\"Processor\":{\"Count\":1}}}";
    doc = NULL;
    hr = HcsCreateComputeSystem("demo", container, op, NULL, &system);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, HCS_INFINITE, &doc);
    else
        HcsGetOperationResult(op, &doc);
    show("HcsCreateComputeSystem with a valid Container document", hr, doc);
    HcsFree(doc);
    if (hr == E_NOTIMPL)
        printf("\nThe container runtime is not built yet (see README: what is supported).\n");
    HcsCloseComputeSystem(system);
    HcsCloseOperation(op);
    return hr == S_OK || hr == E_NOTIMPL ? 0 : 1;
}
