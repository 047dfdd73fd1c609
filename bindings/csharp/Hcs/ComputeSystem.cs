// ComputeSystem.cs - a compute system (HCS_SYSTEM) with Task-based operations and events.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Hcs.Interop;

namespace Hcs
{
    /// <summary>One entry of ComputeSystem.EnumerateAsync.</summary>
    public sealed class ComputeSystemSummary
    {
        internal ComputeSystemSummary(object o)
        {
            Id = Json.Member(o, "Id") as string;
            Name = Json.Member(o, "Name") as string;
            SystemType = Json.Member(o, "SystemType") as string;
            State = Json.Member(o, "State") as string;
            Owner = Json.Member(o, "Owner") as string;
            RuntimeOsType = Json.Member(o, "RuntimeOsType") as string;
        }

        public string Id { get; }
        public string Name { get; }
        /// <summary>Container or VirtualMachine.</summary>
        public string SystemType { get; }
        /// <summary>Created, Running, Paused, Stopped...</summary>
        public string State { get; }
        public string Owner { get; }
        public string RuntimeOsType { get; }
    }

    /// <summary>
    /// A compute system. Create one with CreateAsync or open an existing one with Open; Dispose
    /// closes the handle (which stops the system only when it was created with
    /// ShouldTerminateOnLastHandleClosed). Every member may be called from any thread. Events are
    /// raised on library threads; keep a reference to the object while you expect them.
    /// </summary>
    public sealed class ComputeSystem : IDisposable, IEventSink
    {
        readonly ComputeSystemHandle handle;
        readonly TaskCompletionSource<SystemExitedEventArgs> exit =
            new TaskCompletionSource<SystemExitedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);

        ComputeSystem(string id, ComputeSystemHandle handle)
        {
            Id = id;
            this.handle = handle;
            try
            {
                using (var h = handle.Use())
                {
                    IntPtr ctx = EventCallback.Context(handle, this);
                    HcsException.Check(Native.HcsSetComputeSystemCallback(h.Raw,
                        HCS_EVENT_OPTIONS.HcsEventOptionNone, ctx, EventCallback.Delegate),
                        "HcsSetComputeSystemCallback", id);
                }
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>The system's id.</summary>
        public string Id { get; }

        /// <summary>The handle, for calls into Hcs.Interop.Native (valid until Dispose).</summary>
        public ComputeSystemHandle Handle { get { return handle; } }

        /// <summary>Raised once, on a library thread, when the system stops.</summary>
        public event EventHandler<SystemExitedEventArgs> Exited;

        /// <summary>Raised on a library thread for every event of the handle.</summary>
        public event EventHandler<HcsEventArgs> EventReceived;

        /// <summary>
        /// Create (not start) a compute system from a ComputeSystem document (see hcs-schema(7)).
        /// HcsException HCS_E_INVALID_JSON names the bad field; HCS_E_SYSTEM_ALREADY_EXISTS.
        /// </summary>
        public static async Task<ComputeSystem> CreateAsync(string id, string configuration,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (id == null)
                throw new ArgumentNullException(nameof(id));
            IntPtr raw = IntPtr.Zero;
            Task<OperationResult> t = AsyncOperation.Run("HcsCreateComputeSystem", id, cancellationToken,
                op => Native.HcsCreateComputeSystem(id, configuration, op, IntPtr.Zero, out raw));
            // The handle exists while the creation is pending; it is closed if the creation fails.
            var h = raw != IntPtr.Zero ? new ComputeSystemHandle(raw) : null;
            try
            {
                await t.ConfigureAwait(false);
            }
            catch
            {
                if (h != null)
                    h.Dispose();
                throw;
            }
            if (h == null)
                throw new HcsException(HResults.E_POINTER, "HcsCreateComputeSystem", id, null);
            return new ComputeSystem(id, h);
        }

        /// <summary>Open an existing system; HcsException HCS_E_SYSTEM_NOT_FOUND when there is none.</summary>
        public static ComputeSystem Open(string id)
        {
            if (id == null)
                throw new ArgumentNullException(nameof(id));
            IntPtr raw;
            HcsException.Check(Native.HcsOpenComputeSystem(id, Constants.HCS_GENERIC_ALL, out raw),
                "HcsOpenComputeSystem", id);
            return new ComputeSystem(id, new ComputeSystemHandle(raw));
        }

        /// <summary>
        /// List compute systems. query: an optional SystemQuery document
        /// ({"Ids":[],"Names":[],"Types":[],"Owners":[]}).
        /// </summary>
        public static async Task<IReadOnlyList<ComputeSystemSummary>> EnumerateAsync(string query = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            OperationResult r = await AsyncOperation.Run("HcsEnumerateComputeSystems", null,
                cancellationToken, op => Native.HcsEnumerateComputeSystems(query, op)).ConfigureAwait(false);
            var list = new List<ComputeSystemSummary>();
            var items = r.Document != null ? Json.Parse(r.Document) as List<object> : null;
            if (items != null)
                foreach (object o in items)
                    list.Add(new ComputeSystemSummary(o));
            return list;
        }

        Task<OperationResult> Run(string function, CancellationToken ct, Func<IntPtr, IntPtr, int> call,
            bool withProcessInfo = false)
        {
            using (var h = handle.Use())
            {
                IntPtr sys = h.Raw;
                return AsyncOperation.Run(function, Id, ct, op => call(sys, op), withProcessInfo);
            }
        }

        /// <summary>Start the created system.</summary>
        public Task StartAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsStartComputeSystem", cancellationToken,
                (s, op) => Native.HcsStartComputeSystem(s, op, null));
        }

        /// <summary>Graceful stop (SIGTERM, then SIGKILL after the grace period). options: ShutdownOptions.</summary>
        public Task ShutdownAsync(string options = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsShutDownComputeSystem", cancellationToken,
                (s, op) => Native.HcsShutDownComputeSystem(s, op, options));
        }

        /// <summary>Forced stop: kill every process at once.</summary>
        public Task TerminateAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsTerminateComputeSystem", cancellationToken,
                (s, op) => Native.HcsTerminateComputeSystem(s, op, null));
        }

        /// <summary>Freeze every process. options: PauseOptions.</summary>
        public Task PauseAsync(string options = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsPauseComputeSystem", cancellationToken,
                (s, op) => Native.HcsPauseComputeSystem(s, op, options));
        }

        /// <summary>Thaw a paused system.</summary>
        public Task ResumeAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsResumeComputeSystem", cancellationToken,
                (s, op) => Native.HcsResumeComputeSystem(s, op, null));
        }

        /// <summary>
        /// Query properties: the Properties document. query: an optional PropertyQuery
        /// ({"PropertyTypes":["Statistics","ProcessList","Memory"]}).
        /// </summary>
        public async Task<string> GetPropertiesAsync(string query = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            OperationResult r = await Run("HcsGetComputeSystemProperties", cancellationToken,
                (s, op) => Native.HcsGetComputeSystemProperties(s, op, query)).ConfigureAwait(false);
            return r.Document;
        }

        /// <summary>Apply a ModifySettingRequest document.</summary>
        public Task ModifyAsync(string request, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Run("HcsModifyComputeSystem", cancellationToken,
                (s, op) => Native.HcsModifyComputeSystem(s, op, request, IntPtr.Zero));
        }

        /// <summary>Start a process in the running system.</summary>
        public Task<HcsProcess> CreateProcessAsync(ProcessParameters parameters,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (parameters == null)
                throw new ArgumentNullException(nameof(parameters));
            return CreateProcessAsync(parameters.ToJson(), parameters.EmulateConsole, cancellationToken);
        }

        /// <summary>Start a process from a ProcessParameters document.</summary>
        public Task<HcsProcess> CreateProcessAsync(string processParameters,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            bool console = Json.TryMember(processParameters, "EmulateConsole") is bool b && b;
            return CreateProcessAsync(processParameters, console, cancellationToken);
        }

        async Task<HcsProcess> CreateProcessAsync(string processParameters, bool console,
            CancellationToken cancellationToken)
        {
            IntPtr raw = IntPtr.Zero;
            Task<OperationResult> t = Run("HcsCreateProcess", cancellationToken,
                (s, op) => Native.HcsCreateProcess(s, processParameters, op, IntPtr.Zero, out raw), true);
            var h = raw != IntPtr.Zero ? new ProcessHandle(raw) : null;
            OperationResult r;
            try
            {
                r = await t.ConfigureAwait(false);
            }
            catch
            {
                if (h != null)
                    h.Dispose();
                throw;
            }
            return new HcsProcess(this, h, r.ProcessInfo, console);
        }

        /// <summary>
        /// Complete when the system has stopped (at once if it already had); cancelling stops
        /// the wait only. Gives the SystemExitStatus.
        /// </summary>
        public Task<SystemExitedEventArgs> WaitForExitAsync(
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (!exit.Task.IsCompleted)
            {
                // An exit before the callback was set raised no event: ask once, without waiting.
                IntPtr p;
                int hr;
                using (var h = handle.Use())
                    hr = Native.HcsWaitForComputeSystemExit(h.Raw, 0, out p);
                string doc = Utf8.Take(p);
                if (hr >= 0)
                    exit.TrySetResult(new SystemExitedEventArgs(doc));
                else if (hr != HResults.HCS_E_OPERATION_TIMEOUT)
                    exit.TrySetException(new HcsException(hr, "HcsWaitForComputeSystemExit", Id, doc));
            }
            return Wait(exit.Task, cancellationToken);
        }

        internal static async Task<T> Wait<T>(Task<T> task, CancellationToken ct)
        {
            if (!ct.CanBeCanceled || task.IsCompleted)
                return await task.ConfigureAwait(false);
            var cancelled = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (ct.Register(() => cancelled.TrySetCanceled(ct)))
                return await (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
        }

        void IEventSink.OnEvent(HCS_EVENT_TYPE type, string data)
        {
            EventCallback.Raise(EventReceived, this, new HcsEventArgs(type, data));
            if (type == HCS_EVENT_TYPE.HcsEventSystemExited)
            {
                var args = new SystemExitedEventArgs(data);
                exit.TrySetResult(args);
                EventCallback.Raise(Exited, this, args);
            }
            else if (type == HCS_EVENT_TYPE.HcsEventServiceDisconnect)
            {
                exit.TrySetException(new HcsException(HResults.HCS_E_SERVICE_DISCONNECT,
                    "HcsEventServiceDisconnect", Id, data));
            }
        }

        /// <summary>Close the handle (HcsCloseComputeSystem); no event is raised after it returns.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "ComputeSystem " + Id;
        }
    }
}
