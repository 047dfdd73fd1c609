/* result.h - ResultError documents. */
#ifndef HCS_API_RESULT_H
#define HCS_API_RESULT_H

#include "hcs.h"

/*
 * A ResultError document: {"Error": <hr as signed decimal>, "ErrorMessage": "<message>",
 * "Attribution": [{"OperationFailure": {"Detail": "<step>"}}]} (Attribution only when the
 * operation type is known). message NULL gives the generic text of hr. malloc'ed; NULL only
 * when out of memory.
 */
char *hcs_result_error_doc(HRESULT hr, const char *message, HCS_OPERATION_TYPE type);

#endif
