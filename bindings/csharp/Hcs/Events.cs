// Events.cs - event arguments and the shared event-callback plumbing of systems and processes.
using System;
using System.Runtime.InteropServices;
using System.Threading;
using Hcs.Interop;

namespace Hcs
{
    /// <summary>One event of a system or process handle (HCS_EVENT), copied out of the callback.</summary>
    public class HcsEventArgs : EventArgs
    {
        public HcsEventArgs(HCS_EVENT_TYPE type, string eventData)
        {
            Type = type;
            EventData = eventData;
        }

        /// <summary>What happened (HcsEventSystemExited, HcsEventProcessExited, ...).</summary>
        public HCS_EVENT_TYPE Type { get; }

        /// <summary>The event's JSON document, or null.</summary>
        public string EventData { get; }
    }

    /// <summary>A compute system stopped (SystemExitStatus).</summary>
    public sealed class SystemExitedEventArgs : EventArgs
    {
        internal SystemExitedEventArgs(string status)
        {
            StatusDocument = status;
            object s = Json.TryMember(status, "Status");
            Status = s is double ? (int)(double)s : 0;
            ExitType = Json.TryMember(status, "ExitType") as string;
        }

        /// <summary>The SystemExitStatus document.</summary>
        public string StatusDocument { get; }

        /// <summary>SystemExitStatus.Status, an HRESULT (0 for a normal stop).</summary>
        public int Status { get; }

        /// <summary>GracefulExit, ForcedExit or UnexpectedExit (or null when not given).</summary>
        public string ExitType { get; }
    }

    /// <summary>A process exited (ProcessStatus).</summary>
    public sealed class ProcessExitedEventArgs : EventArgs
    {
        internal ProcessExitedEventArgs(string status)
        {
            StatusDocument = status;
            object c = Json.TryMember(status, "ExitCode");
            ExitCode = c is double ? unchecked((int)(uint)(double)c) : -1;
            object s = Json.TryMember(status, "Signal");
            Signal = s is double ? (int)(double)s : 0;
        }

        /// <summary>The ProcessStatus document.</summary>
        public string StatusDocument { get; }

        /// <summary>ProcessStatus.ExitCode (-1 when absent).</summary>
        public int ExitCode { get; }

        /// <summary>The signal that killed the process, or 0.</summary>
        public int Signal { get; }
    }

    /// <summary>Receives HCS_EVENT_CALLBACK calls for an object through a weak GCHandle.</summary>
    internal interface IEventSink
    {
        void OnEvent(HCS_EVENT_TYPE type, string data);
    }

    internal static class EventCallback
    {
        // One delegate for every handle, alive for the life of the process.
        internal static readonly HCS_EVENT_CALLBACK Delegate = OnEvent;

        /// <summary>
        /// A weak context for sink: the object may be collected while its handle is open (its
        /// SafeHandle finalizer then closes it); events for a collected sink are dropped. The
        /// GCHandle is freed with the handle, after the close function.
        /// </summary>
        internal static IntPtr Context(HcsHandle handle, IEventSink sink)
        {
            LibraryThread.Init();
            GCHandle g = GCHandle.Alloc(sink, GCHandleType.Weak);
            handle.SetCallbackContext(g);
            return GCHandle.ToIntPtr(g);
        }

        static void OnEvent(IntPtr ev, IntPtr context)
        {
            try
            {
                LibraryThread.Prepare();
                var sink = GCHandle.FromIntPtr(context).Target as IEventSink;
                if (sink == null || ev == IntPtr.Zero)
                    return;
                var e = (HCS_EVENT)Marshal.PtrToStructure(ev, typeof(HCS_EVENT));
                sink.OnEvent((HCS_EVENT_TYPE)e.Type, Utf8.Read(e.EventData));
            }
            catch (Exception e)
            {
                HcsCallbacks.Report(e);
            }
        }

        /// <summary>Invoke each handler on its own, reporting what one throws.</summary>
        internal static void Raise<T>(EventHandler<T> handlers, object sender, T args)
        {
            if (handlers == null)
                return;
            foreach (EventHandler<T> h in handlers.GetInvocationList())
            {
                try
                {
                    h(sender, args);
                }
                catch (Exception e)
                {
                    HcsCallbacks.Report(e);
                }
            }
        }
    }

    /// <summary>
    /// Makes a library thread fit to run managed code. libhcs runs callbacks on its worker threads,
    /// which block every signal; Mono 6.8 stops threads that run managed code with signals
    /// (garbage collection, and aborting foreign threads at exit), so a blocked worker hangs the
    /// runtime (seen: the process never exits). The first callback on a thread gives it the signal
    /// mask of the application's own threads and makes it a background thread. (Mono still waits
    /// at exit for such a thread to end: up to libhcs's 5 s idle timeout of its workers.)
    /// </summary>
    internal static class LibraryThread
    {
        const int SIG_BLOCK = 0, SIG_SETMASK = 2;
        static byte[] managedMask; // a sigset_t (128 bytes with glibc)
        [ThreadStatic] static bool prepared;

        [DllImport("libc", EntryPoint = "pthread_sigmask")]
        static extern int pthread_sigmask(int how, byte[] set, byte[] oldset);

        /// <summary>Capture the mask of the calling (application) thread, once; before any callback.</summary>
        internal static void Init()
        {
            if (Volatile.Read(ref managedMask) != null)
                return;
            var m = new byte[128];
            if (pthread_sigmask(SIG_BLOCK, null, m) == 0)
                Interlocked.CompareExchange(ref managedMask, m, null);
        }

        internal static void Prepare()
        {
            if (prepared)
                return;
            prepared = true;
            byte[] m = Volatile.Read(ref managedMask);
            if (m != null)
                pthread_sigmask(SIG_SETMASK, m, null);
            Thread t = Thread.CurrentThread;
            if (!t.IsBackground)
                t.IsBackground = true;
        }
    }
}
