# Tamga's Python worker: loads one MLflow python_function model and answers predict calls from the Tamga
# server over an inherited socket, in binary frames (no JSON on the data path). Embedded in the tamga binary
# and run as `python3 -c <this> <fd> <config-json>`; see docs/serving.md ("Python worker") for the protocol.
#
# Frame: u32 payload length, u8 kind, payload.  Kinds: 1 READY (JSON), 2 PREDICT (tensors), 3 RESULT
# (tensors), 4 ERROR (UTF-8 message).  Tensors: u32 count, then per tensor: u16 name length, name, u8 dtype
# length, dtype (OIP name), u8 rank, rank x i64 dims, u64 byte length, bytes (row-major little-endian; BYTES
# elements are u32 length + bytes).  All integers little-endian.
import importlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback

READY, PREDICT, RESULT, ERROR = 1, 2, 3, 4


def main():
    fd = int(sys.argv[1])
    cfg = json.loads(sys.argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server owns Ctrl-C; we exit when it closes the socket
    sys.stdout = sys.stderr  # model code printing must not matter to anyone
    sock = socket.socket(fileno=fd)
    parent = os.getppid()

    def watch_parent():  # a worker stuck in predict still goes when the server does
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        import numpy as np
        globals()["np"] = np
        model, loader = load(cfg)
    except BaseException as e:  # noqa: B902 - report every load failure to the server
        send(sock, READY, json.dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e)}).encode())
        traceback.print_exc()
        return
    send(sock, READY, json.dumps({"ok": True, "loader": loader, "python": sys.version.split()[0]}).encode())
    while True:
        frame = recv_frame(sock)
        if frame is None:
            return
        kind, payload = frame
        if kind != PREDICT:
            send(sock, ERROR, b"unexpected frame kind %d" % kind)
            continue
        try:
            inputs = decode_tensors(payload)
            out = model.predict(model_input(inputs, cfg))
            send(sock, RESULT, encode_tensors(outputs_of(out, cfg)))
        except Exception as e:  # noqa: BLE001 - a predict failure is the caller's answer, not our death
            send(sock, ERROR, ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")[:4000])


def load(cfg):
    model_dir = cfg["model_dir"]
    mode = cfg.get("loader", "auto")
    if mode in ("auto", "mlflow"):
        try:
            import mlflow.pyfunc
            return mlflow.pyfunc.load_model(model_dir), "mlflow"
        except ImportError:
            if mode == "mlflow":
                raise
    # Minimal loader protocol: `code` on sys.path, then loader_module._load_pyfunc(<model_dir>/<data>).
    if cfg.get("code"):
        sys.path.insert(0, os.path.join(model_dir, cfg["code"]))
    sys.path.insert(0, model_dir)
    module = importlib.import_module(cfg["loader_module"])
    if not hasattr(module, "_load_pyfunc"):
        raise ImportError("loader_module %s has no _load_pyfunc(path)" % cfg["loader_module"])
    data = os.path.join(model_dir, cfg["data"]) if cfg.get("data") else model_dir
    model = module._load_pyfunc(data)
    if not hasattr(model, "predict"):
        raise TypeError("_load_pyfunc returned an object without predict()")
    return model, "minimal"


def model_input(inputs, cfg):
    columns = cfg.get("columns") or []
    if cfg.get("column_tensors") and columns:
        values = {name: arr for name, arr in inputs}
        try:
            import pandas as pd
            return pd.DataFrame({c: values[c] for c in columns})
        except ImportError:
            return values
    if len(inputs) == 1:
        arr = inputs[0][1]
        if columns and arr.ndim == 2:
            try:
                import pandas as pd
                return pd.DataFrame(arr, columns=columns)
            except ImportError:
                pass
        return arr
    return {name: arr for name, arr in inputs}


def outputs_of(out, cfg):
    names = cfg.get("output_names") or []
    if hasattr(out, "to_dict") and hasattr(out, "columns"):  # pandas DataFrame: one tensor per column
        return [(str(c), np.asarray(out[c].values)) for c in out.columns]
    if hasattr(out, "to_numpy"):  # pandas Series
        out = out.to_numpy()
    if isinstance(out, dict):
        return [(str(k), np.asarray(v)) for k, v in out.items()]
    if isinstance(out, (list, tuple)) and out and all(hasattr(o, "shape") for o in out) and len(names) == len(out) > 1:
        return [(names[i], np.asarray(o)) for i, o in enumerate(out)]
    arr = np.asarray(out)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return [(names[0] if names else "output-0", arr)]


DTYPES = {"BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "<i1",
          "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}


def oip_dtype(arr):
    k = arr.dtype.kind
    if k in "OUSa":
        return "BYTES"
    for name, code in DTYPES.items():
        if np.dtype(code) == arr.dtype.newbyteorder("<") or np.dtype(code) == arr.dtype:
            return name
    raise TypeError("cannot return numpy dtype %s" % arr.dtype)


def decode_tensors(payload):
    buf = memoryview(payload)
    (count,) = struct.unpack_from("<I", buf, 0)
    off = 4
    out = []
    for _ in range(count):
        (nlen,) = struct.unpack_from("<H", buf, off)
        off += 2
        name = bytes(buf[off:off + nlen]).decode()
        off += nlen
        dlen = buf[off]
        off += 1
        dtype = bytes(buf[off:off + dlen]).decode()
        off += dlen
        rank = buf[off]
        off += 1
        shape = struct.unpack_from("<%dq" % rank, buf, off)
        off += 8 * rank
        (nbytes,) = struct.unpack_from("<Q", buf, off)
        off += 8
        data = buf[off:off + nbytes]
        off += nbytes
        if dtype == "BYTES":
            items, p = [], 0
            while p < len(data):
                (ln,) = struct.unpack_from("<I", data, p)
                raw = bytes(data[p + 4:p + 4 + ln])
                p += 4 + ln
                try:
                    items.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    items.append(raw)
            arr = np.empty(len(items), dtype=object)
            arr[:] = items
            arr = arr.reshape(shape)
        else:
            arr = np.frombuffer(data, dtype=DTYPES[dtype]).reshape(shape)
        out.append((name, arr))
    return out


def encode_tensors(tensors):
    parts = [struct.pack("<I", len(tensors))]
    for name, arr in tensors:
        dtype = oip_dtype(arr)
        if dtype == "BYTES":
            chunks = []
            for v in arr.reshape(-1):
                b = v if isinstance(v, bytes) else str(v).encode("utf-8")
                chunks.append(struct.pack("<I", len(b)) + b)
            data = b"".join(chunks)
        else:
            data = np.ascontiguousarray(arr, dtype=DTYPES[dtype]).tobytes()
        n, d = name.encode(), dtype.encode()
        parts.append(struct.pack("<H", len(n)) + n + struct.pack("<B", len(d)) + d + struct.pack("<B", arr.ndim))
        parts.append(struct.pack("<%dq" % arr.ndim, *arr.shape) + struct.pack("<Q", len(data)))
        parts.append(data)
    return b"".join(parts)


def send(sock, kind, payload):
    sock.sendall(struct.pack("<IB", len(payload), kind) + payload)


def recv_exact(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            return None
        got += k
    return buf


def recv_frame(sock):
    head = recv_exact(sock, 5)
    if head is None:
        return None
    length, kind = struct.unpack("<IB", head)
    payload = recv_exact(sock, length) if length else bytearray()
    if payload is None:
        return None
    return kind, payload  # a bytearray: numpy views of it are writable (torch.from_numpy wants that)


main()
