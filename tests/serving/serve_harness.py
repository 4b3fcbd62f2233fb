"""A `tamga serve` process for the serving tests: ephemeral HTTP and gRPC ports, its log kept for failures."""
import os
import shutil
import subprocess
import tempfile
import time

import grpc
import requests

SERVICE = "/inference.GRPCInferenceService/"


class Serve:
    def __init__(self, binary, model, *args):
        self.dir = tempfile.mkdtemp(prefix="tamga-serve-")
        port_file = os.path.join(self.dir, "port")
        grpc_port_file = os.path.join(self.dir, "grpc-port")
        self.log = open(os.path.join(self.dir, "serve.log"), "wb")
        self.proc = subprocess.Popen([binary, "serve", model, "--port", "0", "--port-file", port_file,
                                      "--cache-dir", os.path.join(self.dir, "cache"),
                                      "--grpc-port", "0", "--grpc-port-file", grpc_port_file] + list(args),
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            assert self.proc.poll() is None, self.read_log()
            assert time.time() < deadline, self.read_log()
            time.sleep(0.02)
        self.url = "http://127.0.0.1:%d" % int(open(port_file).read())
        self.grpc_target = "127.0.0.1:%d" % int(open(grpc_port_file).read())

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if requests.get(self.url + "/v2/health/ready").status_code == 200:
                return self
            time.sleep(0.05)
        raise AssertionError("not ready: " + self.read_log())

    def read_log(self):
        with open(os.path.join(self.dir, "serve.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    def __init__(self, pb, target):
        self.pb = pb
        self.channel = grpc.insecure_channel(target)

    def call(self, method, request, response_cls):
        fn = self.channel.unary_unary(SERVICE + method, request_serializer=lambda m: m.SerializeToString(),
                                      response_deserializer=response_cls.FromString)
        return fn(request, timeout=10)

    def infer(self, request):
        return self.call("ModelInfer", request, self.pb.ModelInferResponse)
