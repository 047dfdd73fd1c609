// Json.cs - the little JSON the binding needs: reading the library's documents (ResultError,
// ProcessStatus, SystemExitStatus, the enumeration) and quoting strings for the documents it
// writes. Mono's System.Json / DataContractJsonSerializer are separate packages; this keeps the
// binding to mscorlib, System and System.Core.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Hcs
{
    /// <summary>
    /// Minimal JSON reader and string quoting. Parse gives objects as
    /// Dictionary&lt;string, object&gt;, arrays as List&lt;object&gt;, numbers as double,
    /// strings, bools and null.
    /// </summary>
    public static class Json
    {
        /// <summary>Parse a JSON text; FormatException (with the offset) when it is not JSON.</summary>
        public static object Parse(string text)
        {
            if (text == null)
                throw new ArgumentNullException(nameof(text));
            int i = 0;
            object v = Value(text, ref i);
            Space(text, ref i);
            if (i != text.Length)
                throw Bad(text, i, "trailing characters");
            return v;
        }

        /// <summary>s as a JSON string literal, quotes included; "null" for null.</summary>
        public static string Quote(string s)
        {
            if (s == null)
                return "null";
            var b = new StringBuilder(s.Length + 2);
            b.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                default:
                    if (c < 0x20)
                        b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        b.Append(c);
                    break;
                }
            }
            return b.Append('"').ToString();
        }

        /// <summary>The member name of a JSON object, or null when o is not an object or lacks it.</summary>
        public static object Member(object o, string name)
        {
            var d = o as Dictionary<string, object>;
            object v;
            return d != null && d.TryGetValue(name, out v) ? v : null;
        }

        /// <summary>Parse text and return its top-level member name, or null (also for bad JSON).</summary>
        public static object TryMember(string text, string name)
        {
            if (string.IsNullOrEmpty(text))
                return null;
            try
            {
                return Member(Parse(text), name);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        static FormatException Bad(string t, int i, string what)
        {
            return new FormatException(string.Format(CultureInfo.InvariantCulture,
                "JSON: {0} at offset {1}", what, i));
        }

        static void Space(string t, ref int i)
        {
            while (i < t.Length && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
                i++;
        }

        static object Value(string t, ref int i)
        {
            Space(t, ref i);
            if (i >= t.Length)
                throw Bad(t, i, "unexpected end");
            char c = t[i];
            if (c == '{')
            {
                var d = new Dictionary<string, object>();
                i++;
                Space(t, ref i);
                if (i < t.Length && t[i] == '}')
                {
                    i++;
                    return d;
                }
                for (;;)
                {
                    Space(t, ref i);
                    if (i >= t.Length || t[i] != '"')
                        throw Bad(t, i, "expected a member name");
                    string k = Str(t, ref i);
                    Space(t, ref i);
                    if (i >= t.Length || t[i] != ':')
                        throw Bad(t, i, "expected ':'");
                    i++;
                    d[k] = Value(t, ref i);
                    Space(t, ref i);
                    if (i < t.Length && t[i] == ',') { i++; continue; }
                    if (i < t.Length && t[i] == '}') { i++; return d; }
                    throw Bad(t, i, "expected ',' or '}'");
                }
            }
            if (c == '[')
            {
                var l = new List<object>();
                i++;
                Space(t, ref i);
                if (i < t.Length && t[i] == ']')
                {
                    i++;
                    return l;
                }
                for (;;)
                {
                    l.Add(Value(t, ref i));
                    Space(t, ref i);
                    if (i < t.Length && t[i] == ',') { i++; continue; }
                    if (i < t.Length && t[i] == ']') { i++; return l; }
                    throw Bad(t, i, "expected ',' or ']'");
                }
            }
            if (c == '"')
                return Str(t, ref i);
            if (Word(t, ref i, "true")) return true;
            if (Word(t, ref i, "false")) return false;
            if (Word(t, ref i, "null")) return null;
            int start = i;
            while (i < t.Length && "+-0123456789.eE".IndexOf(t[i]) >= 0)
                i++;
            double n;
            if (i == start || !double.TryParse(t.Substring(start, i - start), NumberStyles.Float,
                    CultureInfo.InvariantCulture, out n))
                throw Bad(t, start, "unexpected character");
            return n;
        }

        static bool Word(string t, ref int i, string w)
        {
            if (string.CompareOrdinal(t, i, w, 0, w.Length) != 0)
                return false;
            i += w.Length;
            return true;
        }

        static string Str(string t, ref int i)
        {
            var b = new StringBuilder();
            i++; // opening quote
            while (i < t.Length)
            {
                char c = t[i++];
                if (c == '"')
                    return b.ToString();
                if (c != '\\')
                {
                    b.Append(c);
                    continue;
                }
                if (i >= t.Length)
                    break;
                char e = t[i++];
                switch (e)
                {
                case 'n': b.Append('\n'); break;
                case 'r': b.Append('\r'); break;
                case 't': b.Append('\t'); break;
                case 'b': b.Append('\b'); break;
                case 'f': b.Append('\f'); break;
                case 'u':
                    if (i + 4 > t.Length)
                        throw Bad(t, i, "short \\u escape");
                    b.Append((char)int.Parse(t.Substring(i, 4), NumberStyles.HexNumber,
                        CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: b.Append(e); break;
                }
            }
            throw Bad(t, i, "unterminated string");
        }
    }
}
