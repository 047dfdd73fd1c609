// FdStream.cs - a Stream over a pipe file descriptor the library handed over (a process's std
// handles), with plain read(2)/write(2) and close(2) on dispose.
using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Hcs
{
    /// <summary>An owned file descriptor; released with close(2).</summary>
    public sealed class FdHandle : SafeHandle
    {
        public FdHandle(int fd) : base(new IntPtr(-1), true)
        {
            SetHandle(new IntPtr(fd));
        }

        public override bool IsInvalid { get { return handle.ToInt64() < 0; } }

        /// <summary>The descriptor number.</summary>
        public int Fd { get { return (int)handle.ToInt64(); } }

        protected override bool ReleaseHandle()
        {
            return Libc.close((int)handle.ToInt64()) == 0;
        }
    }

    internal static class Libc
    {
        public const int EINTR = 4;
        public const int EIO = 5;

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern unsafe IntPtr read(int fd, byte* buf, UIntPtr count);

        [DllImport("libc", SetLastError = true)]
        public static extern unsafe IntPtr write(int fd, byte* buf, UIntPtr count);

        [DllImport("libc", EntryPoint = "strerror")]
        static extern IntPtr strerror_(int errnum);

        public static string StrError(int errno)
        {
            return Utf8.Read(strerror_(errno)) ?? ("errno " + errno);
        }
    }

    /// <summary>
    /// A read-only or write-only, unbuffered, non-seekable stream over a pipe descriptor. Dispose
    /// closes it (for a process's standard input that is end of file for the process).
    /// </summary>
    public sealed class FdStream : Stream
    {
        readonly FdHandle fd;
        readonly bool canRead;
        readonly string name;
        readonly bool isConsole;

        /// <summary>
        /// Own fd; canRead chooses the direction; name appears in error messages. isConsole: fd is
        /// a pseudo-terminal's master side, where EIO on read means end of file.
        /// </summary>
        public FdStream(int fd, bool canRead, string name, bool isConsole = false)
        {
            this.fd = new FdHandle(fd);
            this.canRead = canRead;
            this.name = name;
            this.isConsole = isConsole;
        }

        public override bool CanRead { get { return canRead && !fd.IsClosed; } }
        public override bool CanWrite { get { return !canRead && !fd.IsClosed; } }
        public override bool CanSeek { get { return false; } }
        public override long Length { get { throw new NotSupportedException(); } }

        public override long Position
        {
            get { throw new NotSupportedException(); }
            set { throw new NotSupportedException(); }
        }

        /// <summary>The descriptor (valid until Dispose).</summary>
        public FdHandle Handle { get { return fd; } }

        public override unsafe int Read(byte[] buffer, int offset, int count)
        {
            Check(buffer, offset, count, canRead);
            if (count == 0)
                return 0;
            bool added = false;
            try
            {
                fd.DangerousAddRef(ref added);
                fixed (byte* p = &buffer[offset])
                {
                    for (;;)
                    {
                        long n = Libc.read(fd.Fd, p, (UIntPtr)count).ToInt64();
                        if (n >= 0)
                            return (int)n;
                        int e = Marshal.GetLastWin32Error();
                        // A console's master side reads EIO once the process side is closed.
                        if (e == Libc.EIO && isConsole)
                            return 0;
                        if (e != Libc.EINTR)
                            throw new IOException(name + ": read: " + Libc.StrError(e));
                    }
                }
            }
            finally
            {
                if (added)
                    fd.DangerousRelease();
            }
        }

        public override unsafe void Write(byte[] buffer, int offset, int count)
        {
            Check(buffer, offset, count, !canRead);
            bool added = false;
            try
            {
                fd.DangerousAddRef(ref added);
                while (count > 0)
                {
                    long n;
                    fixed (byte* p = &buffer[offset])
                        n = Libc.write(fd.Fd, p, (UIntPtr)count).ToInt64();
                    if (n < 0)
                    {
                        int e = Marshal.GetLastWin32Error();
                        if (e == Libc.EINTR)
                            continue;
                        throw new IOException(name + ": write: " + Libc.StrError(e));
                    }
                    offset += (int)n;
                    count -= (int)n;
                }
            }
            finally
            {
                if (added)
                    fd.DangerousRelease();
            }
        }

        void Check(byte[] buffer, int offset, int count, bool allowed)
        {
            if (buffer == null)
                throw new ArgumentNullException(nameof(buffer));
            if (offset < 0 || count < 0 || offset > buffer.Length - count)
                throw new ArgumentOutOfRangeException(nameof(count));
            if (fd.IsClosed)
                throw new ObjectDisposedException(name);
            if (!allowed)
                throw new NotSupportedException(name + " is " + (canRead ? "read-only" : "write-only"));
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
        public override void SetLength(long value) { throw new NotSupportedException(); }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                fd.Dispose();
            base.Dispose(disposing);
        }
    }
}
