// HcsException.cs - a failed libhcs call: the HRESULT (and its C name), the function, the system
// id and the ResultError message.
using System;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Hcs.Interop;

namespace Hcs
{
    /// <summary>
    /// A libhcs call failed. HResult is the HRESULT; HResultName its C name (HCS_E_SYSTEM_NOT_FOUND);
    /// Operation the C function (HcsStartComputeSystem); SystemId the compute system involved, if
    /// any; ErrorMessage the ResultError's ErrorMessage (for a bad document it names the field's
    /// JSON path); ResultDocument the whole ResultError.
    /// </summary>
    public class HcsException : Exception
    {
        public HcsException(int hresult, string operation, string systemId, string resultDocument)
            : this(hresult, operation, systemId, resultDocument, MessageOf(resultDocument))
        {
        }

        HcsException(int hresult, string operation, string systemId, string resultDocument,
            string errorMessage)
            : base(Format(hresult, operation, systemId, errorMessage))
        {
            HResult = hresult;
            Operation = operation;
            SystemId = systemId;
            ResultDocument = resultDocument;
            ErrorMessage = errorMessage;
        }

        /// <summary>The C name of HResult, or HRESULT_FROM_ERRNO(n), or the hex value.</summary>
        public string HResultName { get { return NameOf(HResult); } }

        /// <summary>The libhcs function that failed, e.g. HcsCreateComputeSystem.</summary>
        public string Operation { get; }

        /// <summary>The compute system id the call was about, or null.</summary>
        public string SystemId { get; }

        /// <summary>ResultError.ErrorMessage, or null when the library gave none.</summary>
        public string ErrorMessage { get; }

        /// <summary>The ResultError JSON document, or null.</summary>
        public string ResultDocument { get; }

        /// <summary>The errno of an HRESULT_FROM_ERRNO code, else 0 (HCS_HRESULT_ERRNO).</summary>
        public int Errno
        {
            get { return ((uint)HResult & 0xFFFF0000u) == 0xA0EE0000u ? (int)((uint)HResult & 0xFFFF) : 0; }
        }

        /// <summary>The C name of a result code, HRESULT_FROM_ERRNO(n), or 0x%08X.</summary>
        public static string NameOf(int hr)
        {
            string n = HResults.NameOf(hr);
            if (n != null)
                return n;
            if (((uint)hr & 0xFFFF0000u) == 0xA0EE0000u)
                return "HRESULT_FROM_ERRNO(" + ((uint)hr & 0xFFFF).ToString(CultureInfo.InvariantCulture) + ")";
            return "0x" + ((uint)hr).ToString("X8", CultureInfo.InvariantCulture);
        }

        static string MessageOf(string doc)
        {
            return Json.TryMember(doc, "ErrorMessage") as string;
        }

        static string Format(int hr, string operation, string systemId, string message)
        {
            var b = new StringBuilder();
            b.Append(operation ?? "libhcs");
            if (systemId != null)
                b.Append(" (compute system \"").Append(systemId).Append("\")");
            b.Append(": ").Append(NameOf(hr));
            if (HResults.NameOf(hr) != null)
                b.Append(" (0x").Append(((uint)hr).ToString("X8", CultureInfo.InvariantCulture)).Append(')');
            if (!string.IsNullOrEmpty(message))
                b.Append(": ").Append(message);
            return b.ToString();
        }

        /// <summary>
        /// The exception for a synchronous call that just returned hr on this thread: its
        /// ResultError comes from HcsGetErrorInfo (call this before any other libhcs call).
        /// </summary>
        internal static HcsException FromLastError(int hr, string operation, string systemId)
        {
            IntPtr p;
            Native.HcsGetErrorInfo(out p);
            return new HcsException(hr, operation, systemId, Utf8.Take(p));
        }

        /// <summary>Throw when hr failed; otherwise return it.</summary>
        internal static int Check(int hr, string operation, string systemId)
        {
            if (hr < 0)
                throw FromLastError(hr, operation, systemId);
            return hr;
        }
    }

    /// <summary>UTF-8 strings from the library.</summary>
    internal static class Utf8
    {
        /// <summary>Decode a borrowed NUL-terminated UTF-8 string (null for NULL).</summary>
        public static string Read(IntPtr p)
        {
            if (p == IntPtr.Zero)
                return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0)
                n++;
            var b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Encoding.UTF8.GetString(b);
        }

        /// <summary>Decode a string the library handed over, then HcsFree it.</summary>
        public static string Take(IntPtr p)
        {
            try
            {
                return Read(p);
            }
            finally
            {
                if (p != IntPtr.Zero)
                    Native.HcsFree(p);
            }
        }
    }

    /// <summary>Where exceptions thrown by event handlers (on library threads) go.</summary>
    public static class HcsCallbacks
    {
        /// <summary>
        /// Raised when a handler of Exited or EventReceived threw: the exception is caught, since
        /// it must not unwind into the library's thread. Without a subscriber it is written to
        /// standard error.
        /// </summary>
        public static event Action<Exception> UnhandledException;

        internal static void Report(Exception e)
        {
            try
            {
                var h = UnhandledException;
                if (h != null)
                    h(e);
                else
                    Console.Error.WriteLine("Hcs: an event handler threw: " + e);
            }
            catch
            {
                // Nothing may escape into the library's thread.
            }
        }
    }
}
