# Manual cross-check of `tamga server --auth on` with the real MLflow 2.12.2 client and its AuthServiceClient
# (not run by CTest: the client is not a Debian package; see tests/manual/README.md). Needs MLFLOW_TRACKING_URI
# and the admin's MLFLOW_TRACKING_USERNAME/PASSWORD in the environment.
import os
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server.auth.client import AuthServiceClient

uri = os.environ["MLFLOW_TRACKING_URI"]
admin = (os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"])
auth = AuthServiceClient(uri)
for name in ("alice", "reader", "outsider"):
    try:
        auth.create_user(name, name + "-pass-1234")
    except MlflowException as e:
        assert e.error_code == "RESOURCE_ALREADY_EXISTS", e


def as_user(name):
    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = name, name + "-pass-1234"
    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


as_user("alice")
c = MlflowClient()
exp = c.create_experiment("alice-exp-" + next(tempfile._get_candidate_names()))
run = c.create_run(exp)
c.log_metric(run.info.run_id, "loss", 0.5)
d = tempfile.mkdtemp()
open(os.path.join(d, "MLmodel"), "w").write("flavors: {}\n")
c.log_artifacts(run.info.run_id, d, "model")
model = "alice-model-" + next(tempfile._get_candidate_names())
c.create_registered_model(model)
v = c.create_model_version(model, f"runs:/{run.info.run_id}/model", run.info.run_id)
c.set_registered_model_alias(model, "prod", v.version)
print("alias ->", c.get_model_version_by_alias(model, "prod").version)
print("alice's grants:", [(p.experiment_id, p.permission) for p in auth.get_user("alice").experiment_permissions],
      [(p.name, p.permission) for p in auth.get_user("alice").registered_model_permissions])
auth.create_experiment_permission(exp, "outsider", "NO_PERMISSIONS")
auth.create_registered_model_permission(model, "outsider", "NO_PERMISSIONS")

as_user("reader")  # the default READ: reads, cannot write
c = MlflowClient()
print("reader sees run:", c.get_run(run.info.run_id).data.metrics)
try:
    c.log_metric(run.info.run_id, "loss", 0.1)
    print("reader wrote: WRONG")
except MlflowException as e:
    print("reader write refused:", e.error_code)
try:
    c.set_registered_model_alias(model, "prod", v.version)
    print("reader moved the alias: WRONG")
except MlflowException as e:
    print("reader alias refused:", e.error_code)

as_user("outsider")  # NO_PERMISSIONS: the objects are hidden
c = MlflowClient()
print("outsider experiments:", [e.name for e in c.search_experiments()])
print("outsider models:", [m.name for m in c.search_registered_models()])
try:
    c.get_run(run.info.run_id)
    print("outsider read the run: WRONG")
except MlflowException as e:
    print("outsider read refused:", e.error_code)

os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = admin
auth.update_user_admin("reader", True)
auth.delete_user("outsider")
print("ok")
