// TestRunner.cs - a small TAP test runner: one `ok N - name` / `not ok N - name` line per test,
// `# SKIP reason` for tests that cannot run here, `1..N`, then `N passed, N failed` (and
// `, N skipped` when some were), as test/summary.sh prints it. Exit status 1 when a test failed.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace Hcs.Tests
{
    /// <summary>A failed expectation.</summary>
    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void True(bool condition, string what)
        {
            if (!condition)
                throw new AssertionException(what);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionException(string.Format("{0}: expected {1}, got {2}", what,
                    Show(expected), Show(actual)));
        }

        public static void Contains(string needle, string haystack, string what)
        {
            if (haystack == null || !haystack.Contains(needle))
                throw new AssertionException(string.Format("{0}: expected {1} in {2}", what,
                    Show(needle), Show(haystack)));
        }

        /// <summary>Await t and return the exception of type TE it must fail with.</summary>
        public static async Task<TE> ThrowsAsync<TE>(Func<Task> t, string what) where TE : Exception
        {
            try
            {
                await t();
            }
            catch (TE e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new AssertionException(string.Format("{0}: expected {1}, got {2}", what,
                    typeof(TE).Name, e));
            }
            throw new AssertionException(string.Format("{0}: expected {1}, got success", what, typeof(TE).Name));
        }

        static string Show(object o)
        {
            if (o == null)
                return "null";
            if (o is string)
                return Json.Quote((string)o);
            return o.ToString();
        }
    }

    public sealed class TestRunner
    {
        readonly TimeSpan timeout;
        int n, passed, failed, skipped;

        public TestRunner(TimeSpan timeout)
        {
            this.timeout = timeout;
        }

        [DllImport("libc")]
        static extern uint geteuid();

        /// <summary>Why root tests cannot run here, or null.</summary>
        public static string RootMissing()
        {
            return geteuid() == 0 ? null : "needs root";
        }

        public void Skip(string name, string reason)
        {
            n++;
            skipped++;
            Console.WriteLine("ok {0} - {1} # SKIP {2}", n, name, reason);
        }

        /// <summary>Run one test; a test slower than the timeout fails (and is left running).</summary>
        public async Task Run(string name, Func<Task> body, string skipReason = null)
        {
            if (skipReason != null)
            {
                Skip(name, skipReason);
                return;
            }
            Exception error = null;
            try
            {
                Task t = Task.Run(body);
                if (await Task.WhenAny(t, Task.Delay(timeout)) != t)
                    error = new TimeoutException("did not finish within " + timeout.TotalSeconds + " s");
                else
                    await t;
            }
            catch (Exception e)
            {
                error = e;
            }
            n++;
            if (error == null)
            {
                passed++;
                Console.WriteLine("ok {0} - {1}", n, name);
                return;
            }
            failed++;
            Console.WriteLine("not ok {0} - {1}", n, name);
            string text = error is AssertionException ? error.Message : error.ToString();
            foreach (string line in text.Split('\n'))
                Console.WriteLine("# " + line);
        }

        /// <summary>Print the plan and the summary; the exit status.</summary>
        public int Finish()
        {
            Console.WriteLine("1..{0}", n);
            if (skipped > 0)
                Console.WriteLine("{0} passed, {1} failed, {2} skipped", passed, failed, skipped);
            else
                Console.WriteLine("{0} passed, {1} failed", passed, failed);
            return failed == 0 ? 0 : 1;
        }
    }
}
