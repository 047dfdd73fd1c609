// Handles.cs - SafeHandles over the library's handles, and the use of one across a native call.
using System;
using System.Runtime.InteropServices;
using Hcs.Interop;

namespace Hcs
{
    /// <summary>A libhcs handle: NULL is invalid; release calls the handle's close function.</summary>
    public abstract class HcsHandle : SafeHandle
    {
        // The context GCHandle of the handle's event callback: freed after the close function,
        // which guarantees that no callback runs any more.
        GCHandle callbackContext;

        protected HcsHandle(IntPtr raw) : base(IntPtr.Zero, true)
        {
            SetHandle(raw);
        }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        internal void SetCallbackContext(GCHandle context)
        {
            callbackContext = context;
        }

        protected abstract void Close(IntPtr raw);

        protected override bool ReleaseHandle()
        {
            Close(handle);
            if (callbackContext.IsAllocated)
                callbackContext.Free();
            return true;
        }

        /// <summary>Keep the handle open for the duration of a native call (using (h.Use())).</summary>
        internal Lease Use()
        {
            return new Lease(this);
        }

        internal struct Lease : IDisposable
        {
            readonly SafeHandle owner;
            readonly bool added;
            public readonly IntPtr Raw;

            public Lease(SafeHandle h)
            {
                owner = h;
                added = false;
                h.DangerousAddRef(ref added); // ObjectDisposedException once disposed
                Raw = h.DangerousGetHandle();
            }

            public void Dispose()
            {
                if (added)
                    owner.DangerousRelease();
            }
        }
    }

    /// <summary>An HCS_SYSTEM; released with HcsCloseComputeSystem.</summary>
    public sealed class ComputeSystemHandle : HcsHandle
    {
        internal ComputeSystemHandle(IntPtr raw) : base(raw) { }
        protected override void Close(IntPtr raw) { Native.HcsCloseComputeSystem(raw); }
    }

    /// <summary>An HCS_PROCESS; released with HcsCloseProcess.</summary>
    public sealed class ProcessHandle : HcsHandle
    {
        internal ProcessHandle(IntPtr raw) : base(raw) { }
        protected override void Close(IntPtr raw) { Native.HcsCloseProcess(raw); }
    }

    /// <summary>An HCS_OPERATION; released with HcsCloseOperation.</summary>
    public sealed class OperationHandle : HcsHandle
    {
        internal OperationHandle(IntPtr raw) : base(raw) { }
        protected override void Close(IntPtr raw) { Native.HcsCloseOperation(raw); }
    }
}
