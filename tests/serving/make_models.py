"""Makes the serving test models at test time (Debian python3-torch / python3-xgboost) with expected outputs.

  mlp/      MLflow pytorch flavor, TorchScript MLP 16 -> 64 -> 4, tensor signature
  mlp2/     the same architecture with other weights (a "new version" for hot reload)
  bare.pt   the MLP as a bare TorchScript file (no MLmodel, no signature)
  xgb/      MLflow xgboost flavor (XGBClassifier), 8 features, 50 trees, column signature f0..f7
  pyfunc/   python_function flavor served by the Python worker through the minimal loader protocol
            (code/tamga_test_pyfunc.py, _load_pyfunc(data)): y = x @ W, tensor signature [-1, 4] -> [-1, 2];
            an input of -999 makes the worker die (os._exit), -777 makes it hang (crash/timeout tests)
  pyfunc_df/  python_function flavor with a mixed-type column signature (name: string, a: double, b: long)
  pyfunc_mlp/ the mlp's TorchScript weights behind the Python worker (native-vs-Python benchmark)
  expected.npz  inputs and the outputs Python computed
"""
import json
import os
import sys

import numpy as np
import torch
import xgboost as xgb


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(16, 64)
        self.l2 = torch.nn.Linear(64, 4)

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x)))


def save_torch(out, name, seed):
    torch.manual_seed(seed)
    m = torch.jit.script(MLP().eval())
    os.makedirs(f"{out}/{name}/data", exist_ok=True)
    m.save(f"{out}/{name}/data/model.pth")
    sig_in = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 16]}}])
    sig_out = json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}])
    with open(f"{out}/{name}/MLmodel", "w") as f:
        f.write("flavors:\n  pytorch:\n    model_data: data\n    pytorch_version: '%s'\n"
                "  python_function:\n    loader_module: mlflow.pytorch\n    data: data\n"
                "signature:\n  inputs: '%s'\n  outputs: '%s'\n" % (torch.__version__, sig_in, sig_out))
    return m


PYFUNC_MODULE = """
import os
import time

import numpy as np


class Linear:
    def __init__(self, w):
        self.w = w

    def predict(self, x):
        x = np.asarray(x, dtype=np.float64)
        if (x == -999).any():
            os._exit(3)
        if (x == -777).any():
            time.sleep(120)
        return x @ self.w


class Table:
    def predict(self, df):
        a = np.asarray(df["a"], dtype=np.float64)
        if (a < -1e300).any():
            raise ValueError("a is too small")
        b = np.asarray(df["b"], dtype=np.int64)
        n = np.array([len(s) for s in np.asarray(df["name"])])
        return {"score": a * 2 + b + n, "label": np.array(["n:" + str(s) for s in np.asarray(df["name"])], dtype=object)}


class Torch:
    def __init__(self, path):
        import torch
        torch.set_num_threads(1)
        self.torch = torch
        self.m = torch.jit.load(path)

    def predict(self, x):
        with self.torch.no_grad():
            return self.m(self.torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def _load_pyfunc(path):
    if path.endswith(".npy"):
        return Linear(np.load(path))
    if path.endswith(".pth"):
        return Torch(path)
    return Table()
"""


def save_pyfunc(out, name, data_name, sig_in, sig_out):
    d = f"{out}/{name}"
    os.makedirs(f"{d}/code", exist_ok=True)
    with open(f"{d}/code/tamga_test_pyfunc.py", "w") as f:
        f.write(PYFUNC_MODULE)
    sig = "signature:\n  inputs: '%s'\n" % json.dumps(sig_in)
    if sig_out:
        sig += "  outputs: '%s'\n" % json.dumps(sig_out)
    with open(f"{d}/MLmodel", "w") as f:
        f.write("flavors:\n  python_function:\n    loader_module: tamga_test_pyfunc\n    code: code\n"
                "    data: %s\n%s" % (data_name, sig))
    return d


def main(out):
    os.makedirs(out, exist_ok=True)
    m1 = save_torch(out, "mlp", 0)
    m2 = save_torch(out, "mlp2", 1)
    m1.save(f"{out}/bare.pt")
    x = torch.randn(64, 16, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y1 = m1(x).numpy()
        y2 = m2(x).numpy()

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.float32)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3},
                        xgb.DMatrix(X, label=y), num_boost_round=50)
    os.makedirs(f"{out}/xgb", exist_ok=True)
    booster.save_model(f"{out}/xgb/model.xgb")
    cols = [{"type": "float", "name": f"f{i}", "required": True} for i in range(8)]
    with open(f"{out}/xgb/MLmodel", "w") as f:
        f.write("flavors:\n  xgboost:\n    data: model.xgb\n    model_class: xgboost.sklearn.XGBClassifier\n"
                "    model_format: xgb\n  python_function:\n    loader_module: mlflow.xgboost\n    data: model.xgb\n"
                "signature:\n  inputs: '%s'\n  outputs: '[{\"type\": \"long\"}]'\n" % json.dumps(cols))
    xq = X[:32]
    p = booster.predict(xgb.DMatrix(xq))

    w = rng.normal(size=(4, 2))
    d = save_pyfunc(out, "pyfunc", "weights.npy",
                    [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}],
                    [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}])
    np.save(f"{d}/weights.npy", w)
    save_pyfunc(out, "pyfunc_df", "table", [{"type": "string", "name": "name"}, {"type": "double", "name": "a"},
                                             {"type": "long", "name": "b"}], None)
    os.makedirs(f"{out}/pyfunc_df/table", exist_ok=True)
    d = save_pyfunc(out, "pyfunc_mlp", "model.pth",
                    [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 16]}}],
                    [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}])
    m1.save(f"{d}/model.pth")
    pq = rng.normal(size=(16, 4))
    np.savez(f"{out}/expected.npz", x=x.numpy(), y1=y1, y2=y2, xq=xq, p=p, pw=w, pq=pq, py=pq @ w)


if __name__ == "__main__":
    main(sys.argv[1])
