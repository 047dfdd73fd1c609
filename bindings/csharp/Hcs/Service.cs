// Service.cs - the synchronous service and storage calls.
using System;
using Hcs.Interop;

namespace Hcs
{
    /// <summary>Service-wide calls (synchronous).</summary>
    public static class HcsService
    {
        /// <summary>ServiceProperties; query: optional {"PropertyTypes":["Basic","Host"]}.</summary>
        public static string GetProperties(string query = null)
        {
            IntPtr p;
            int hr = Native.HcsGetServiceProperties(query, out p);
            string doc = Utf8.Take(p);
            if (hr < 0)
                throw new HcsException(hr, "HcsGetServiceProperties", null, doc);
            return doc;
        }

        /// <summary>Apply a ModificationRequest ({"PropertyType": "Logging"|"Roots", ...}).</summary>
        public static void ModifySettings(string settings)
        {
            IntPtr p;
            int hr = Native.HcsModifyServiceSettings(settings, out p);
            string doc = Utf8.Take(p);
            if (hr < 0)
                throw new HcsException(hr, "HcsModifyServiceSettings", null, doc);
        }
    }

    /// <summary>Layer storage (computestorage); synchronous, errors from HcsGetErrorInfo.</summary>
    public static class HcsStorage
    {
        public static void ImportLayer(string layerPath, string sourceFolderPath, string layerData = null)
        {
            HcsException.Check(Native.HcsImportLayer(layerPath, sourceFolderPath, layerData), "HcsImportLayer", null);
        }

        public static void ExportLayer(string layerPath, string exportFolderPath, string layerData = null,
            string options = null)
        {
            HcsException.Check(Native.HcsExportLayer(layerPath, exportFolderPath, layerData, options),
                "HcsExportLayer", null);
        }

        /// <summary>Remove a layer made by libhcs (a system's writable layer once it stopped).</summary>
        public static void DestroyLayer(string layerPath)
        {
            HcsException.Check(Native.HcsDestroyLayer(layerPath), "HcsDestroyLayer", null);
        }

        public static void InitializeWritableLayer(string writableLayerPath, string layerData, string options = null)
        {
            HcsException.Check(Native.HcsInitializeWritableLayer(writableLayerPath, layerData, options),
                "HcsInitializeWritableLayer", null);
        }

        public static void AttachLayerStorageFilter(string layerPath, string layerData)
        {
            HcsException.Check(Native.HcsAttachLayerStorageFilter(layerPath, layerData),
                "HcsAttachLayerStorageFilter", null);
        }

        public static void DetachLayerStorageFilter(string layerPath)
        {
            HcsException.Check(Native.HcsDetachLayerStorageFilter(layerPath), "HcsDetachLayerStorageFilter", null);
        }
    }
}
