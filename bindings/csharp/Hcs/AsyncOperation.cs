// AsyncOperation.cs - one HCS_OPERATION as a Task: the completion callback completes it.
//
// Lifetime: the operation's context is a GCHandle to this object, freed by the completion
// callback (or by the submitter when the call was refused, since then there is no callback).
// The HCS_OPERATION is closed once both the submitting call has returned and the callback has
// read the result: the submitter holds a SafeHandle reference across the call, the callback
// disposes the handle, and whichever comes last closes it (closing inside the operation's own
// callback is allowed). Cancellation calls HcsCancelOperation through the same SafeHandle, so
// it never touches a closed operation.
using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Hcs.Interop;

namespace Hcs
{
    internal struct OperationResult
    {
        public int HResult;
        public string Document;
        public HCS_PROCESS_INFORMATION ProcessInfo;
    }

    internal sealed class AsyncOperation
    {
        // One delegate for every operation, alive for the life of the process.
        static readonly HCS_OPERATION_COMPLETION Completion = OnCompletion;

        readonly string function;
        readonly string systemId;
        readonly bool withProcessInfo;
        readonly CancellationToken token;
        readonly TaskCompletionSource<OperationResult> tcs =
            new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly object gate = new object();
        GCHandle self;
        OperationHandle handle;
        CancellationTokenRegistration registration;
        bool completed;

        AsyncOperation(string function, string systemId, bool withProcessInfo, CancellationToken token)
        {
            this.function = function;
            this.systemId = systemId;
            this.withProcessInfo = withProcessInfo;
            this.token = token;
        }

        /// <summary>
        /// Create an operation, pass it to submit (which makes the tracked call and returns its
        /// immediate HRESULT) and return the task of its result. A refused call gives a faulted
        /// task with the call's ResultError.
        /// </summary>
        public static Task<OperationResult> Run(string function, string systemId, CancellationToken token,
            Func<IntPtr, int> submit, bool withProcessInfo = false)
        {
            if (token.IsCancellationRequested)
                return Task.FromCanceled<OperationResult>(token);
            LibraryThread.Init();
            var op = new AsyncOperation(function, systemId, withProcessInfo, token);
            op.self = GCHandle.Alloc(op);
            IntPtr raw = Native.HcsCreateOperation(GCHandle.ToIntPtr(op.self), Completion);
            if (raw == IntPtr.Zero)
            {
                op.self.Free();
                throw new OutOfMemoryException("HcsCreateOperation returned NULL (out of memory)");
            }
            op.handle = new OperationHandle(raw);
            int hr;
            bool added = false;
            try
            {
                op.handle.DangerousAddRef(ref added);
                hr = submit(raw);
                if (hr < 0)
                {
                    // Refused: no callback will come. The ResultError is this thread's last error,
                    // and the operation's result as well.
                    IntPtr p;
                    Native.HcsGetErrorInfo(out p);
                    string doc = Utf8.Take(p);
                    if (doc == null)
                    {
                        Native.HcsGetOperationResult(raw, out p);
                        doc = Utf8.Take(p);
                    }
                    op.self.Free();
                    op.handle.Dispose();
                    return Task.FromException<OperationResult>(
                        new HcsException(hr, function, systemId, doc));
                }
            }
            catch
            {
                if (op.self.IsAllocated && !op.completed)
                    op.self.Free();
                op.handle.Dispose();
                throw;
            }
            finally
            {
                if (added)
                    op.handle.DangerousRelease();
            }
            if (token.CanBeCanceled)
            {
                lock (op.gate)
                {
                    if (!op.completed)
                        op.registration = token.Register(s => ((AsyncOperation)s).Cancel(), op);
                }
            }
            return op.tcs.Task;
        }

        void Cancel()
        {
            try
            {
                using (var lease = handle.Use())
                    Native.HcsCancelOperation(lease.Raw);
            }
            catch (ObjectDisposedException)
            {
                // Completed and closed meanwhile: nothing to cancel.
            }
        }

        static void OnCompletion(IntPtr operation, IntPtr context)
        {
            try
            {
                LibraryThread.Prepare();
                var op = (AsyncOperation)GCHandle.FromIntPtr(context).Target;
                op.Complete(operation);
            }
            catch (Exception e)
            {
                HcsCallbacks.Report(e);
            }
        }

        void Complete(IntPtr operation)
        {
            var r = new OperationResult();
            IntPtr p;
            try
            {
                r.HResult = withProcessInfo
                    ? Native.HcsGetOperationResultAndProcessInfo(operation, out r.ProcessInfo, out p)
                    : Native.HcsGetOperationResult(operation, out p);
                r.Document = Utf8.Take(p);
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
                throw;
            }
            finally
            {
                CancellationTokenRegistration reg;
                lock (gate)
                {
                    completed = true;
                    reg = registration;
                }
                reg.Dispose();
                self.Free();
                handle.Dispose();
            }
            if (r.HResult == HResults.HCS_E_CANCELLED && token.IsCancellationRequested)
                tcs.TrySetCanceled(token);
            else if (r.HResult < 0)
                tcs.TrySetException(new HcsException(r.HResult, function, systemId, r.Document));
            else
                tcs.TrySetResult(r);
        }
    }
}
