// HcsProcess.cs - a process in a compute system (HCS_PROCESS) and its ProcessParameters.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Hcs.Interop;

namespace Hcs
{
    /// <summary>What to run (the ProcessParameters document of hcs-schema(7)).</summary>
    public sealed class ProcessParameters
    {
        public ProcessParameters() { }

        /// <summary>A process running args (the first names the program).</summary>
        public ProcessParameters(params string[] args)
        {
            CommandArgs = new List<string>(args);
        }

        /// <summary>The arguments; the first names the program.</summary>
        public IList<string> CommandArgs { get; set; }
        /// <summary>A command line split by POSIX shell word rules (instead of CommandArgs).</summary>
        public string CommandLine { get; set; }
        public string ApplicationName { get; set; }
        /// <summary>name, uid, name:group or uid:gid; default root.</summary>
        public string User { get; set; }
        /// <summary>An absolute path; default /.</summary>
        public string WorkingDirectory { get; set; }
        /// <summary>The whole environment (null: the library's default).</summary>
        public IDictionary<string, string> Environment { get; set; }
        /// <summary>Run on a terminal (tty).</summary>
        public bool EmulateConsole { get; set; }
        public bool CreateStdInPipe { get; set; }
        public bool CreateStdOutPipe { get; set; }
        public bool CreateStdErrPipe { get; set; }
        /// <summary>The console size with EmulateConsole, as (Height, Width); null for the default.</summary>
        public Tuple<ushort, ushort> ConsoleSize { get; set; }

        /// <summary>The ProcessParameters JSON document.</summary>
        public string ToJson()
        {
            var b = new StringBuilder("{");
            bool first = true;
            Action<string, string> member = (name, value) =>
            {
                if (!first)
                    b.Append(',');
                first = false;
                b.Append(Json.Quote(name)).Append(':').Append(value);
            };
            if (CommandArgs != null)
            {
                var a = new StringBuilder("[");
                for (int i = 0; i < CommandArgs.Count; i++)
                    a.Append(i > 0 ? "," : "").Append(Json.Quote(CommandArgs[i]));
                member("CommandArgs", a.Append(']').ToString());
            }
            if (CommandLine != null) member("CommandLine", Json.Quote(CommandLine));
            if (ApplicationName != null) member("ApplicationName", Json.Quote(ApplicationName));
            if (User != null) member("User", Json.Quote(User));
            if (WorkingDirectory != null) member("WorkingDirectory", Json.Quote(WorkingDirectory));
            if (Environment != null)
            {
                var e = new StringBuilder("{");
                bool f = true;
                foreach (var kv in Environment)
                {
                    e.Append(f ? "" : ",").Append(Json.Quote(kv.Key)).Append(':').Append(Json.Quote(kv.Value));
                    f = false;
                }
                member("Environment", e.Append('}').ToString());
            }
            if (EmulateConsole) member("EmulateConsole", "true");
            if (CreateStdInPipe) member("CreateStdInPipe", "true");
            if (CreateStdOutPipe) member("CreateStdOutPipe", "true");
            if (CreateStdErrPipe) member("CreateStdErrPipe", "true");
            if (ConsoleSize != null)
                member("ConsoleSize", string.Format(CultureInfo.InvariantCulture, "[{0},{1}]",
                    ConsoleSize.Item1, ConsoleSize.Item2));
            return b.Append('}').ToString();
        }

        public override string ToString() { return ToJson(); }
    }

    /// <summary>
    /// A process started by ComputeSystem.CreateProcessAsync. The standard streams are the pipes
    /// asked for (null otherwise); disposing StandardInput is end of file for the process.
    /// Dispose closes the streams and the handle (the process keeps running).
    /// </summary>
    public sealed class HcsProcess : IDisposable, IEventSink
    {
        readonly ProcessHandle handle;
        readonly TaskCompletionSource<ProcessExitedEventArgs> exit =
            new TaskCompletionSource<ProcessExitedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);

        internal HcsProcess(ComputeSystem system, ProcessHandle handle, HCS_PROCESS_INFORMATION info,
            bool console)
        {
            System = system;
            this.handle = handle;
            ProcessId = (int)info.ProcessId;
            // The fds are ours from here: wrap them first, so that a failure below closes them.
            StandardInput = info.StdInput >= 0 ? new FdStream(info.StdInput, false, Name("stdin")) : null;
            StandardOutput = info.StdOutput >= 0 ? new FdStream(info.StdOutput, true, Name("stdout"), console) : null;
            StandardError = info.StdError >= 0 ? new FdStream(info.StdError, true, Name("stderr"), console) : null;
            try
            {
                using (var h = handle.Use())
                {
                    IntPtr ctx = EventCallback.Context(handle, this);
                    HcsException.Check(Native.HcsSetProcessCallback(h.Raw,
                        HCS_EVENT_OPTIONS.HcsEventOptionNone, ctx, EventCallback.Delegate),
                        "HcsSetProcessCallback", system.Id);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        string Name(string stream)
        {
            return string.Format(CultureInfo.InvariantCulture, "process {0} of \"{1}\": {2}",
                ProcessId, System.Id, stream);
        }

        /// <summary>The system the process runs in.</summary>
        public ComputeSystem System { get; }

        /// <summary>The pid as seen inside the compute system.</summary>
        public int ProcessId { get; }

        /// <summary>The handle, for calls into Hcs.Interop.Native (valid until Dispose).</summary>
        public ProcessHandle Handle { get { return handle; } }

        /// <summary>Write end of the process's stdin, or null.</summary>
        public Stream StandardInput { get; }
        /// <summary>Read end of the process's stdout, or null.</summary>
        public Stream StandardOutput { get; }
        /// <summary>Read end of the process's stderr, or null.</summary>
        public Stream StandardError { get; }

        /// <summary>Raised once, on a library thread, when the process exits.</summary>
        public event EventHandler<ProcessExitedEventArgs> Exited;

        /// <summary>Raised on a library thread for every event of the handle.</summary>
        public event EventHandler<HcsEventArgs> EventReceived;

        /// <summary>True once the process has exited (as far as this handle has seen).</summary>
        public bool HasExited
        {
            get
            {
                if (!exit.Task.IsCompleted)
                    Poll();
                return exit.Task.Status == TaskStatus.RanToCompletion;
            }
        }

        /// <summary>The exit code; InvalidOperationException while the process runs.</summary>
        public int ExitCode
        {
            get
            {
                if (!HasExited)
                    throw new InvalidOperationException(Name("has not exited"));
                return exit.Task.Result.ExitCode;
            }
        }

        void Poll()
        {
            IntPtr p;
            int hr;
            using (var h = handle.Use())
                hr = Native.HcsWaitForProcessExit(h.Raw, 0, out p);
            string doc = Utf8.Take(p);
            if (hr >= 0)
                exit.TrySetResult(new ProcessExitedEventArgs(doc));
            else if (hr != HResults.HCS_E_OPERATION_TIMEOUT)
                exit.TrySetException(new HcsException(hr, "HcsWaitForProcessExit", System.Id, doc));
        }

        /// <summary>Complete with the exit code when the process exits; cancelling stops the wait only.</summary>
        public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (!exit.Task.IsCompleted)
                Poll();
            ProcessExitedEventArgs e = await ComputeSystem.Wait(exit.Task, cancellationToken).ConfigureAwait(false);
            return e.ExitCode;
        }

        Task<OperationResult> Run(string function, CancellationToken ct, Func<IntPtr, IntPtr, int> call)
        {
            using (var h = handle.Use())
            {
                IntPtr proc = h.Raw;
                return AsyncOperation.Run(function, System.Id, ct, op => call(proc, op));
            }
        }

        /// <summary>Send POSIX signal number signal (1..64).</summary>
        public Task SignalAsync(int signal, CancellationToken cancellationToken = default(CancellationToken))
        {
            string options = "{\"Signal\":" + signal.ToString(CultureInfo.InvariantCulture) + "}";
            return Run("HcsSignalProcess", cancellationToken, (p, op) => Native.HcsSignalProcess(p, op, options));
        }

        /// <summary>Kill the process (HCS_E_PROCESS_ALREADY_STOPPED once it has exited).</summary>
        public Task KillAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsTerminateProcess", cancellationToken, (p, op) => Native.HcsTerminateProcess(p, op, null));
        }

        /// <summary>Resize the process's console (EmulateConsole).</summary>
        public Task ResizeConsoleAsync(ushort height, ushort width,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            string req = string.Format(CultureInfo.InvariantCulture,
                "{{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{{\"Height\":{0},\"Width\":{1}}}}}", height, width);
            return Run("HcsModifyProcess", cancellationToken, (p, op) => Native.HcsModifyProcess(p, op, req));
        }

        /// <summary>The ProcessStatus document.</summary>
        public async Task<string> GetPropertiesAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            OperationResult r = await Run("HcsGetProcessProperties", cancellationToken,
                (p, op) => Native.HcsGetProcessProperties(p, op, null)).ConfigureAwait(false);
            return r.Document;
        }

        void IEventSink.OnEvent(HCS_EVENT_TYPE type, string data)
        {
            EventCallback.Raise(EventReceived, this, new HcsEventArgs(type, data));
            if (type == HCS_EVENT_TYPE.HcsEventProcessExited)
            {
                var args = new ProcessExitedEventArgs(data);
                exit.TrySetResult(args);
                EventCallback.Raise(Exited, this, args);
            }
            else if (type == HCS_EVENT_TYPE.HcsEventServiceDisconnect)
            {
                exit.TrySetException(new HcsException(HResults.HCS_E_SERVICE_DISCONNECT,
                    "HcsEventServiceDisconnect", System.Id, data));
            }
        }

        /// <summary>Close the standard streams and the handle (HcsCloseProcess).</summary>
        public void Dispose()
        {
            if (StandardInput != null) StandardInput.Dispose();
            if (StandardOutput != null) StandardOutput.Dispose();
            if (StandardError != null) StandardError.Dispose();
            handle.Dispose();
        }
    }
}
