// Reference-score tests of registered versions (docs/rollouts.md §4):
//   POST /api/2.0/tamga/model-versions/reference-test {name, version, inputs, expected, atol?, rtol?,
//        mlflow_predictions?}  (EDIT on the model: the result is written to the version)
//   GET  /api/2.0/tamga/model-versions/reference-test?name=&version=  (READ: the last result)
// A test that ran answers 200 whether it passed or failed (`status`); tables that do not fit the model are
// 400.
#include <cmath>

#include "http/routes/route_context.h"
#include "rollout/reference_tests.h"

namespace tamga {

void RegisterModelTestRoutes(Router& router, const RouteContext& ctx) {
  ReferenceTestService* tests = ctx.reference_tests;
  if (tests == nullptr) return;
  const std::string path = "/api/2.0/tamga/model-versions/reference-test";

  router.Add(HttpMethod::kPost, path,
             FieldsHandler([tests](const RequestFields& f, Responder respond) -> Status {
               ReferenceTestRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(req.version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(req.inputs_csv, f.RequiredString("inputs"));
               TAMGA_ASSIGN_OR_RETURN(req.expected_csv, f.RequiredString("expected"));
               if (f.Has("atol")) {
                 TAMGA_ASSIGN_OR_RETURN(req.atol, f.RequiredDouble("atol"));
               }
               if (f.Has("rtol")) {
                 TAMGA_ASSIGN_OR_RETURN(req.rtol, f.RequiredDouble("rtol"));
               }
               TAMGA_ASSIGN_OR_RETURN(auto mlflow, f.OptBool("mlflow_predictions"));
               req.mlflow_predictions = mlflow.value_or(false);
               if (!(req.atol >= 0) || !(req.rtol >= 0) || !std::isfinite(req.atol) || !(req.rtol <= 1)) {
                 return InvalidArgument("atol must be finite and non-negative, rtol in [0, 1]");
               }
               tests->RunAsync(std::move(req), [respond](Result<ReferenceTestResult> r, std::string json) {
                 respond(r.ok() ? HttpResponse::Json(std::move(json)) : ErrorResponse(r.status()));
               });
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, path,
             FieldsHandler([tests](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(std::string json, tests->LastResult(name, version));
               respond(HttpResponse::Json(std::move(json)));
               return Status::Ok();
             }));
}

}  // namespace tamga
