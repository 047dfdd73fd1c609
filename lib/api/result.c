/* result.c - ResultError documents. */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "result.h"

/* OperationFailureDetail names (hcs-api.md §2.2) for each operation type. */
static const char *failure_detail(HCS_OPERATION_TYPE type)
{
    switch (type) {
    case HcsOperationTypeCreate:
        return "Construct";
    case HcsOperationTypeStart:
        return "Start";
    case HcsOperationTypeShutdown:
        return "Shutdown";
    case HcsOperationTypePause:
        return "Pause";
    case HcsOperationTypeResume:
        return "Resume";
    case HcsOperationTypeSave:
        return "Save";
    case HcsOperationTypeTerminate:
        return "Terminate";
    case HcsOperationTypeModify:
        return "Modify";
    case HcsOperationTypeGetProperties:
    case HcsOperationTypeEnumerate:
        return "GetProperties";
    case HcsOperationTypeCreateProcess:
        return "ExecuteProcess";
    case HcsOperationTypeSignalProcess:
        return "SignalProcess";
    case HcsOperationTypeGetProcessInfo:
        return "GetProcessInfo";
    case HcsOperationTypeModifyProcess:
        return "ModifyProcess";
    case HcsOperationTypeCrash:
        return "Crash";
    default:
        return NULL;
    }
}

char *hcs_result_error_doc(HRESULT hr, const char *message, HCS_OPERATION_TYPE type)
{
    AUTOJSON cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return NULL;
    if (message == NULL)
        message = hcs_hresult_name(hr);
    if (message == NULL)
        message = "";
    if (hcs_json_add_i64(doc, "Error", hr) == NULL ||
        cJSON_AddStringToObject(doc, "ErrorMessage", message) == NULL)
        return NULL;
    const char *detail = failure_detail(type);
    if (detail != NULL) {
        cJSON *attr = cJSON_AddArrayToObject(doc, "Attribution");
        cJSON *rec = cJSON_CreateObject();
        if (attr == NULL || rec == NULL || !cJSON_AddItemToArray(attr, rec)) {
            cJSON_Delete(rec);
            return NULL;
        }
        cJSON *of = cJSON_AddObjectToObject(rec, "OperationFailure");
        if (of == NULL || cJSON_AddStringToObject(of, "Detail", detail) == NULL)
            return NULL;
    }
    return cJSON_PrintUnformatted(doc);
}
