# Manual cross-check with the real MLflow 2.12.2 Python client (not run by CTest: the client is not a
# Debian package). See tests/manual/README.md.
import os, json, tempfile
import mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000"))
mlflow.set_experiment("real-client")
with mlflow.start_run(run_name="r1") as run:
    rid = run.info.run_id
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({"epochs": 3, "opt": "adam"})
    for s in range(5):
        mlflow.log_metric("loss", 1.0 / (s + 1), step=s)
    mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
    mlflow.set_tag("stage", "dev")
    mlflow.set_tags({"a": "1", "b": "2"})
    with open("a.txt", "w") as f: f.write("hello")
    mlflow.log_artifact("a.txt", "d")
    mlflow.log_artifacts(".", "all")
    mlflow.log_dict({"x": [1, 2]}, "cfg/d.json")
    mlflow.log_text("some text", "notes/t.txt")
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas
    ds = from_pandas(pd.DataFrame({"x": [1, 2, 3]}), source="/data/x.csv", name="xs")
    mlflow.log_input(ds, context="training")
c = MlflowClient()
from mlflow.entities import Metric, Param, RunTag
import time
c.log_batch(rid, metrics=[Metric("b", i * 1.0, int(time.time()*1000), i) for i in range(1500)], params=[Param("bp", "v")], tags=[RunTag("bt", "x")])
r = c.get_run(rid)
print("status", r.info.status, "params", sorted(r.data.params.items()))
print("metrics", sorted(r.data.metrics.items()))
print("inputs", [(d.dataset.name, [t.value for t in d.tags]) for d in r.inputs.dataset_inputs])
print("history", [(m.step, m.value) for m in c.get_metric_history(rid, "loss")])
print("len b", len(c.get_metric_history(rid, "b")))
print("list d", [(f.path, f.is_dir, f.file_size) for f in c.list_artifacts(rid, "d")])
print("list root", [(f.path, f.is_dir) for f in c.list_artifacts(rid)])
out = tempfile.mkdtemp()
p = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="cfg", dst_path=out)
print("download", p, open(os.path.join(p, "d.json")).read())
print("load_dict", mlflow.artifacts.load_dict(f"runs:/{rid}/cfg/d.json"))
with mlflow.start_run(run_name="r2") as run2:
    mlflow.log_metric("acc", 0.95)
df = mlflow.search_runs(experiment_names=["real-client"], filter_string="metrics.acc > 0.5", order_by=["metrics.acc DESC"])
print("search", list(df["tags.mlflow.runName"]))
runs = c.search_runs([r.info.experiment_id], "params.opt = 'adam'", order_by=["attributes.start_time DESC"])
print("search2", [x.info.run_name for x in runs])
c.delete_run(run2.info.run_id)
print("after delete", len(mlflow.search_runs(experiment_names=["real-client"])))
c.restore_run(run2.info.run_id)
print("after restore", len(mlflow.search_runs(experiment_names=["real-client"])))
print("exp by name", mlflow.get_experiment_by_name("real-client").experiment_id, mlflow.get_experiment_by_name("nope"))
print("search exps", [e.name for e in mlflow.search_experiments(filter_string="name LIKE 'real%'")])
try:
    mlflow.log_param("lr", 0.5, ) if False else c.log_param(rid, "lr", 0.5)
except Exception as e:
    print("param change error:", type(e).__name__, str(e)[:100])
try:
    c.get_run("0123456789abcdef0123456789abcdef")
except Exception as e:
    print("missing run:", str(e)[:80])
