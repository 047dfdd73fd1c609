// Tests.cs - the C# binding against the real library: errors, enumeration, and (as root) real
// containers over a busybox root folder.
//
// Environment (run-tests.sh sets it): HCS_RUNTIME_ROOT and HCS_DATA_ROOT (private roots),
// HCS_CSHARP_ROOTFS (a root folder made by tools/mkroot; root tests skip without it),
// HCS_CSHARP_TMP (where writable layers go), HCS_CSHARP_EXAMPLE (RunContainer.exe, optional).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Hcs.Interop;

namespace Hcs.Tests
{
    public static class Tests
    {
        static readonly string RootFs = System.Environment.GetEnvironmentVariable("HCS_CSHARP_ROOTFS");
        static readonly string Tmp = System.Environment.GetEnvironmentVariable("HCS_CSHARP_TMP") ?? Path.GetTempPath();
        static readonly string Owner = "csharp-test-" + Process.GetCurrentProcess().Id;
        static readonly List<Tuple<ComputeSystem, string>> Systems = new List<Tuple<ComputeSystem, string>>();
        static int serial;

        public static int Main(string[] args)
        {
            return RunAll().GetAwaiter().GetResult();
        }

        static string Config(string writable)
        {
            return "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":" + Json.Quote(Owner) +
                   ",\"ShouldTerminateOnLastHandleClosed\":true,\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":" +
                   Json.Quote(RootFs) + "}],\"Path\":" + Json.Quote(writable) + "}}}";
        }

        static string NewWritable()
        {
            string w = Path.Combine(Tmp, "w" + Interlocked.Increment(ref serial));
            Directory.CreateDirectory(w);
            return w;
        }

        static string NewId(string what)
        {
            return "cs-" + what + "-" + Process.GetCurrentProcess().Id;
        }

        /// <summary>Create and start a system; it is cleaned up at the end whatever happens.</summary>
        static async Task<ComputeSystem> StartSystem(string id)
        {
            string w = NewWritable();
            ComputeSystem sys = await ComputeSystem.CreateAsync(id, Config(w));
            lock (Systems)
                Systems.Add(Tuple.Create(sys, w));
            await sys.StartAsync();
            return sys;
        }

        static async Task<string> ReadAll(Stream s)
        {
            using (var r = new StreamReader(s, Encoding.UTF8))
                return await r.ReadToEndAsync();
        }

        static async Task<Tuple<string, string, int>> RunIn(ComputeSystem sys, params string[] argv)
        {
            var p = new ProcessParameters(argv) { CreateStdOutPipe = true, CreateStdErrPipe = true };
            using (HcsProcess proc = await sys.CreateProcessAsync(p))
            {
                Task<string> o = ReadAll(proc.StandardOutput), e = ReadAll(proc.StandardError);
                int code = await proc.WaitForExitAsync();
                return Tuple.Create(await o, await e, code);
            }
        }

        static async Task<ComputeSystemSummary> Find(string id)
        {
            var l = await ComputeSystem.EnumerateAsync("{\"Ids\":[" + Json.Quote(id) + "]}");
            return l.FirstOrDefault();
        }

        static async Task<int> RunAll()
        {
            var t = new TestRunner(TimeSpan.FromSeconds(60));
            string noRoot = TestRunner.RootMissing() ?? (string.IsNullOrEmpty(RootFs) ? "no root folder (HCS_CSHARP_ROOTFS)" : null);

            await t.Run("generated result codes carry the header's values and names", () =>
            {
                Assert.Equal(unchecked((int)0x8037010E), HResults.HCS_E_SYSTEM_NOT_FOUND, "HCS_E_SYSTEM_NOT_FOUND");
                Assert.Equal("HCS_E_INVALID_JSON", HResults.NameOf(HResults.HCS_E_INVALID_JSON), "NameOf");
                Assert.Equal("HRESULT_FROM_ERRNO(28)", HcsException.NameOf(unchecked((int)0xA0EE001C)), "errno name");
                Assert.Equal(uint.MaxValue, Constants.HCS_INFINITE, "HCS_INFINITE");
                Assert.Equal(1, (int)HCS_EVENT_TYPE.HcsEventSystemExited, "HcsEventSystemExited");
                return Task.CompletedTask;
            });

            await t.Run("service properties report the private runtime root", () =>
            {
                string doc = HcsService.GetProperties("{\"PropertyTypes\":[\"Host\"]}");
                Assert.Contains("\"RuntimeRoot\":" + Json.Quote(System.Environment.GetEnvironmentVariable("HCS_RUNTIME_ROOT")),
                    doc, "ServiceProperties");
                return Task.CompletedTask;
            });

            await t.Run("Open of a missing id throws HcsException HCS_E_SYSTEM_NOT_FOUND naming the id", () =>
            {
                var e = Assert.ThrowsAsync<HcsException>(() => Task.FromResult(ComputeSystem.Open("cs-missing")), "Open").Result;
                Assert.Equal(HResults.HCS_E_SYSTEM_NOT_FOUND, e.HResult, "HResult");
                Assert.Equal("HCS_E_SYSTEM_NOT_FOUND", e.HResultName, "HResultName");
                Assert.Equal("HcsOpenComputeSystem", e.Operation, "Operation");
                Assert.Equal("cs-missing", e.SystemId, "SystemId");
                Assert.Contains("cs-missing", e.ErrorMessage, "ErrorMessage (from HcsGetErrorInfo)");
                Assert.Contains("HCS_E_SYSTEM_NOT_FOUND (0x8037010E)", e.Message, "Message");
                return Task.CompletedTask;
            });

            await t.Run("CreateAsync with a bad document throws HCS_E_INVALID_JSON with the field path", async () =>
            {
                var e = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync("cs-badjson",
                    "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Container\":{\"Memory\":{\"SizeInMB\":\"lots\"}}}"),
                    "CreateAsync");
                Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult, "HResult");
                Assert.Equal("HcsCreateComputeSystem", e.Operation, "Operation");
                Assert.Contains("Container.Memory.SizeInMB", e.ErrorMessage, "ErrorMessage");
                Assert.Contains("\"Error\":", e.ResultDocument, "ResultDocument");
                Assert.True(await Find("cs-badjson") == null, "no system is left behind");
            });

            await t.Run("EnumerateAsync on an empty root gives an empty list", async () =>
            {
                var l = await ComputeSystem.EnumerateAsync();
                Assert.Equal(0, l.Count, "systems");
            });

            await t.Run("EnumerateAsync names the bad field of a query", async () =>
            {
                var e = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.EnumerateAsync("{\"Names\":[1]}"), "Enumerate");
                Assert.Contains("Names[0]", e.ErrorMessage, "ErrorMessage");
            });

            await t.Run("an already cancelled token cancels without calling the library", async () =>
            {
                var cts = new CancellationTokenSource();
                cts.Cancel();
                await Assert.ThrowsAsync<OperationCanceledException>(() => ComputeSystem.EnumerateAsync(null, cts.Token), "Enumerate");
            });

            // --- real containers -------------------------------------------------------------
            ComputeSystem main = null;
            string mainId = NewId("main");
            var exited = new TaskCompletionSource<SystemExitedEventArgs>();

            await t.Run("create and start a container; EnumerateAsync shows it Running", async () =>
            {
                main = await StartSystem(mainId);
                main.Exited += (s, e) => exited.TrySetResult(e);
                var found = await Find(mainId);
                Assert.True(found != null, "the system is listed");
                Assert.Equal("Running", found.State, "State");
                Assert.Equal(Owner, found.Owner, "Owner");
                Assert.Equal("Container", found.SystemType, "SystemType");
            }, noRoot);
            string mainSkip = noRoot ?? (main == null ? "the container did not start" : null);

            await t.Run("a process's standard output is read through StandardOutput", async () =>
            {
                var r = await RunIn(main, "echo", "hello from C#");
                Assert.Equal("hello from C#\n", r.Item1, "stdout");
                Assert.Equal(0, r.Item3, "exit code");
            }, mainSkip);

            await t.Run("exit code and stderr of a failing process; Exited event and ExitCode", async () =>
            {
                var p = new ProcessParameters("sh", "-c", "echo oops >&2; exit 7") { CreateStdErrPipe = true };
                using (HcsProcess proc = await main.CreateProcessAsync(p))
                {
                    var ev = new TaskCompletionSource<ProcessExitedEventArgs>();
                    proc.Exited += (s, e) => ev.TrySetResult(e);
                    Assert.True(proc.StandardOutput == null && proc.StandardInput == null, "only the pipes asked for");
                    Assert.Equal("oops\n", await ReadAll(proc.StandardError), "stderr");
                    Assert.Equal(7, await proc.WaitForExitAsync(), "WaitForExitAsync");
                    Assert.Equal(7, proc.ExitCode, "ExitCode");
                    Assert.True(proc.HasExited, "HasExited");
                    if (await Task.WhenAny(ev.Task, Task.Delay(5000)) == ev.Task)
                        Assert.Equal(7, ev.Task.Result.ExitCode, "Exited event's ExitCode");
                    // The process may have exited before the callback was set; then no event is due.
                }
            }, mainSkip);

            await t.Run("stdin round trip through cat", async () =>
            {
                var p = new ProcessParameters("cat") { CreateStdInPipe = true, CreateStdOutPipe = true };
                using (HcsProcess proc = await main.CreateProcessAsync(p))
                {
                    Task<string> o = ReadAll(proc.StandardOutput);
                    byte[] msg = Encoding.UTF8.GetBytes("ping \u00e9\u00e8\n");
                    await proc.StandardInput.WriteAsync(msg, 0, msg.Length);
                    proc.StandardInput.Dispose(); // end of file for cat
                    Assert.Equal("ping \u00e9\u00e8\n", await o, "echoed input");
                    Assert.Equal(0, await proc.WaitForExitAsync(), "exit code");
                }
            }, mainSkip);

            await t.Run("CreateProcessAsync names a missing executable", async () =>
            {
                var e = await Assert.ThrowsAsync<HcsException>(() => main.CreateProcessAsync(new ProcessParameters("no-such-program")), "CreateProcess");
                Assert.Contains("no-such-program", e.ErrorMessage, "ErrorMessage");
                Assert.Equal(mainId, e.SystemId, "SystemId");
            }, mainSkip);

            await t.Run("GetPropertiesAsync lists a running process; SignalAsync ends it", async () =>
            {
                using (HcsProcess proc = await main.CreateProcessAsync(new ProcessParameters("sleep", "300")))
                {
                    string doc = await main.GetPropertiesAsync("{\"PropertyTypes\":[\"ProcessList\"]}");
                    var list = Json.Member(Json.Parse(doc), "ProcessList") as List<object>;
                    Assert.True(list != null, "ProcessList in " + doc);
                    Assert.True(list.Any(x => Json.Member(x, "ImageName") as string == "sleep"), "sleep is listed: " + doc);
                    Assert.True(!proc.HasExited, "running before the signal");
                    await proc.SignalAsync(15);
                    await proc.WaitForExitAsync();
                    Assert.Contains("\"Signal\":15", await proc.GetPropertiesAsync(), "ProcessStatus");
                }
            }, mainSkip);

            await t.Run("KillAsync kills a process; a second kill says HCS_E_PROCESS_ALREADY_STOPPED", async () =>
            {
                using (HcsProcess proc = await main.CreateProcessAsync(new ProcessParameters("sleep", "300")))
                {
                    await proc.KillAsync();
                    await proc.WaitForExitAsync();
                    var e = await Assert.ThrowsAsync<HcsException>(() => proc.KillAsync(), "second kill");
                    Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, e.HResult, "HResult");
                }
            }, mainSkip);

            await t.Run("ResizeConsoleAsync changes the size a console process sees", async () =>
            {
                var p = new ProcessParameters("sh", "-c", "sleep 1; stty size")
                {
                    EmulateConsole = true,
                    CreateStdOutPipe = true,
                    ConsoleSize = Tuple.Create((ushort)24, (ushort)80),
                };
                using (HcsProcess proc = await main.CreateProcessAsync(p))
                {
                    Task<string> o = ReadAll(proc.StandardOutput);
                    await proc.ResizeConsoleAsync(30, 100);
                    Assert.Contains("30 100", await o, "stty size");
                    Assert.Equal(0, await proc.WaitForExitAsync(), "exit code");
                }
            }, mainSkip);

            await t.Run("ModifyAsync names the bad field of a request", async () =>
            {
                var e = await Assert.ThrowsAsync<HcsException>(() => main.ModifyAsync("{\"ResourcePath\":7}"), "Modify");
                Assert.Equal("HcsModifyComputeSystem", e.Operation, "Operation");
                Assert.Contains("ResourcePath", e.ErrorMessage, "ErrorMessage");
            }, mainSkip);

            await t.Run("PauseAsync and ResumeAsync change the state", async () =>
            {
                await main.PauseAsync();
                Assert.Equal("Paused", (await Find(mainId)).State, "State after pause");
                await main.ResumeAsync();
                Assert.Equal("Running", (await Find(mainId)).State, "State after resume");
            }, mainSkip);

            await t.Run("cancelling WaitForExitAsync stops the wait, not the system", async () =>
            {
                var cts = new CancellationTokenSource(200);
                var sw = Stopwatch.StartNew();
                await Assert.ThrowsAsync<OperationCanceledException>(() => main.WaitForExitAsync(cts.Token), "wait");
                Assert.True(sw.ElapsedMilliseconds < 5000, "cancelled promptly");
                Assert.Equal("Running", (await Find(mainId)).State, "State");
            }, mainSkip);

            await t.Run("an event handler that throws is reported, not fatal", async () =>
            {
                var reported = new TaskCompletionSource<Exception>();
                Action<Exception> sink = e => reported.TrySetResult(e);
                HcsCallbacks.UnhandledException += sink;
                try
                {
                    using (HcsProcess proc = await main.CreateProcessAsync(new ProcessParameters("sleep", "1")))
                    {
                        proc.Exited += (s, e) => { throw new InvalidOperationException("handler failure"); };
                        await proc.WaitForExitAsync();
                        if (await Task.WhenAny(reported.Task, Task.Delay(5000)) == reported.Task)
                            Assert.Contains("handler failure", reported.Task.Result.Message, "reported exception");
                        else
                            throw new AssertionException("the handler's exception was not reported");
                    }
                }
                finally
                {
                    HcsCallbacks.UnhandledException -= sink;
                }
            }, mainSkip);

            await t.Run("TerminateAsync stops the system: Exited event and WaitForExitAsync", async () =>
            {
                await main.TerminateAsync();
                SystemExitedEventArgs w = await main.WaitForExitAsync();
                Assert.True(w.StatusDocument != null, "SystemExitStatus");
                Assert.True(await Task.WhenAny(exited.Task, Task.Delay(10000)) == exited.Task, "Exited was raised");
                Assert.Equal("Stopped", (await Find(mainId)).State, "State");
            }, mainSkip);

            await t.Run("Open gives a second handle; Dispose makes the handle unusable", async () =>
            {
                string id = NewId("open");
                ComputeSystem sys = await StartSystem(id);
                using (ComputeSystem again = ComputeSystem.Open(id))
                    Assert.Equal(id, again.Id, "Id");
                await sys.TerminateAsync();
                await sys.WaitForExitAsync();
                sys.Dispose();
                await Assert.ThrowsAsync<ObjectDisposedException>(() => sys.StartAsync(), "StartAsync after Dispose");
            }, noRoot);

            await t.Run("cancelling CreateAsync at once leaves nothing behind or a working system", async () =>
            {
                string id = NewId("cancel");
                string w = NewWritable();
                var cts = new CancellationTokenSource();
                Task<ComputeSystem> c = ComputeSystem.CreateAsync(id, Config(w), cts.Token);
                cts.Cancel();
                try
                {
                    ComputeSystem sys = await c;
                    // The work had passed its last cancellation point: the system must be usable.
                    lock (Systems)
                        Systems.Add(Tuple.Create(sys, w));
                    await sys.StartAsync();
                    Console.WriteLine("# the creation had started before the cancellation");
                }
                catch (OperationCanceledException)
                {
                    var e = await Assert.ThrowsAsync<HcsException>(() => Task.FromResult(ComputeSystem.Open(id)), "Open");
                    Assert.Equal(HResults.HCS_E_SYSTEM_NOT_FOUND, e.HResult, "a cancelled creation leaves no system");
                    Directory.Delete(w); // still the plain empty folder
                }
            }, noRoot);

            string example = System.Environment.GetEnvironmentVariable("HCS_CSHARP_EXAMPLE");
            await t.Run("example RunContainer prints the command's output and keeps its exit code", async () =>
            {
                var psi = new ProcessStartInfo("mono", string.Format("\"{0}\" \"{1}\" sh -c \"echo from-the-example; exit 3\"", example, RootFs))
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                using (var p = Process.Start(psi))
                {
                    Task<string> o = p.StandardOutput.ReadToEndAsync(), e = p.StandardError.ReadToEndAsync();
                    await Task.Run(() => p.WaitForExit());
                    Assert.Contains("from-the-example", await o, "output (stderr: " + await e + ")");
                    Assert.Equal(3, p.ExitCode, "exit status");
                }
            }, noRoot ?? (string.IsNullOrEmpty(example) ? "HCS_CSHARP_EXAMPLE not set" : null));

            // --- cleanup, then check that nothing is left ------------------------------------
            await t.Run("cleanup: every system terminated, closed and its writable layer removed", async () =>
            {
                var errors = new List<string>();
                foreach (var s in Systems)
                {
                    try
                    {
                        try { await s.Item1.TerminateAsync(); }
                        catch (HcsException e) when (e.HResult == HResults.HCS_E_SYSTEM_ALREADY_STOPPED) { }
                        catch (ObjectDisposedException) { }
                        try { await s.Item1.WaitForExitAsync(); } catch (ObjectDisposedException) { }
                        s.Item1.Dispose();
                        HcsStorage.DestroyLayer(s.Item2);
                    }
                    catch (Exception e)
                    {
                        errors.Add(s.Item1.Id + ": " + e.Message);
                    }
                }
                Assert.True(errors.Count == 0, string.Join("\n", errors));
                var left = await ComputeSystem.EnumerateAsync();
                Assert.Equal(0, left.Count, "systems left: " + string.Join(", ", left.Select(x => x.Id + " " + x.State)));
            }, noRoot);

            return t.Finish();
        }
    }
}
