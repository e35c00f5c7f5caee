#include "api/api_error.hpp"

namespace nurt::api {

Json ApiError::ToJson() const {
  Json error{{"code", code}, {"message", message}};
  if (!pointer.empty()) error["pointer"] = pointer;
  if (!details.is_null()) error["details"] = details;
  return Json{{"error", std::move(error)}};
}

ApiError FromStatus(const Status& status) {
  ApiError e;
  e.message = status.message();
  switch (status.code()) {
    case StatusCode::kOk: e.http_status = 500; e.code = "internal"; e.message = "OK status as error"; break;
    case StatusCode::kInvalidArgument: e.http_status = 422; e.code = "invalid_argument"; break;
    case StatusCode::kNotFound: e.http_status = 404; e.code = "not_found"; break;
    case StatusCode::kAlreadyExists: e.http_status = 409; e.code = "already_exists"; break;
    case StatusCode::kConflict: e.http_status = 409; e.code = "conflict"; break;
    case StatusCode::kFailedPrecondition: e.http_status = 409; e.code = "failed_precondition"; break;
    case StatusCode::kIdempotencyMismatch: e.http_status = 422; e.code = "idempotency_key_reused"; break;
    // A Lua limit is the workflow's problem, not a server overload: the request cannot succeed as is.
    case StatusCode::kResourceExhausted: e.http_status = 422; e.code = "resource_exhausted"; break;
    case StatusCode::kUnavailable: e.http_status = 503; e.code = "unavailable"; break;
    case StatusCode::kDataLoss: e.http_status = 500; e.code = "data_loss"; break;
    case StatusCode::kInternal: e.http_status = 500; e.code = "internal"; break;
    case StatusCode::kUnauthenticated: e.http_status = 401; e.code = "unauthenticated"; break;
    case StatusCode::kPermissionDenied: e.http_status = 403; e.code = "permission_denied"; break;
  }
  return e;
}

void Throw(int http_status, std::string code, std::string message, std::string pointer, Json details) {
  throw ApiError{http_status, std::move(code), std::move(message), std::move(pointer), std::move(details)};
}

void ThrowStatus(const Status& status) { throw FromStatus(status); }

}  // namespace nurt::api
