// RunContainer - run one command in a new container over a root folder and print its output.
//
//   mcs -r:Hcs.dll RunContainer.cs && mono RunContainer.exe ROOTFS COMMAND [ARG...]
//
// ROOTFS is a root folder used as the container's only layer (tools/mkroot makes one). The
// container gets a fresh writable layer in a temporary folder and is removed afterwards. The
// exit status is COMMAND's. Run as root; libhcs.so must be next to Hcs.dll or on
// LD_LIBRARY_PATH.
using System;
using System.IO;
using System.Threading.Tasks;
using Hcs;

static class RunContainer
{
    static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: RunContainer ROOTFS COMMAND [ARG...]");
            return 2;
        }
        try
        {
            return Run(args).GetAwaiter().GetResult();
        }
        catch (HcsException e)
        {
            // e.g. "HcsCreateProcess (compute system "run-123"): 0x80070002 ...: executable "x" not found"
            Console.Error.WriteLine("RunContainer: " + e.Message);
            return 1;
        }
    }

    static async Task<int> Run(string[] args)
    {
        string rootfs = Path.GetFullPath(args[0]);
        string scratch = Path.Combine(Path.GetTempPath(), "run-container-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        string id = "run-container-" + System.Diagnostics.Process.GetCurrentProcess().Id;
        string config = "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"RunContainer\"," +
                        "\"ShouldTerminateOnLastHandleClosed\":true," +
                        "\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":" + Json.Quote(rootfs) + "}]," +
                        "\"Path\":" + Json.Quote(scratch) + "}}}";
        ComputeSystem system = null;
        try
        {
            system = await ComputeSystem.CreateAsync(id, config);
            await system.StartAsync();

            var command = new string[args.Length - 1];
            Array.Copy(args, 1, command, 0, command.Length);
            var parameters = new ProcessParameters(command) { CreateStdOutPipe = true, CreateStdErrPipe = true };
            using (HcsProcess process = await system.CreateProcessAsync(parameters))
            {
                // Copy both streams while the process runs, then wait for its exit code.
                Task output = process.StandardOutput.CopyToAsync(Console.OpenStandardOutput());
                Task errors = process.StandardError.CopyToAsync(Console.OpenStandardError());
                await Task.WhenAll(output, errors);
                return await process.WaitForExitAsync();
            }
        }
        finally
        {
            if (system != null)
            {
                try
                {
                    await system.TerminateAsync();
                }
                catch (HcsException)
                {
                    // Already stopped.
                }
                await system.WaitForExitAsync();
                system.Dispose();
            }
            try
            {
                HcsStorage.DestroyLayer(scratch); // the writable layer made of the scratch folder
            }
            catch (HcsException)
            {
                Directory.Delete(scratch); // still the empty folder: the creation failed early
            }
        }
    }
}
