"""Makes the serving test models at test time (Debian python3-torch / python3-xgboost) with expected outputs.

  mlp/      MLflow pytorch flavor, TorchScript MLP 16 -> 64 -> 4, tensor signature
  mlp2/     the same architecture with other weights (a "new version" for hot reload)
  bare.pt   the MLP as a bare TorchScript file (no MLmodel, no signature)
  xgb/      MLflow xgboost flavor (XGBClassifier), 8 features, 50 trees, column signature f0..f7
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
    np.savez(f"{out}/expected.npz", x=x.numpy(), y1=y1, y2=y2, xq=xq, p=p)


if __name__ == "__main__":
    main(sys.argv[1])
