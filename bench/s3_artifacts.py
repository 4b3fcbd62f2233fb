#!/usr/bin/env python3
"""Artifact throughput through Tamga's proxy to S3 (a real Ceph RGW on this machine) and to the local folder,
side by side, with the server's memory growth; boto3 straight to RGW as the reference (docs/performance.md).

    /usr/bin/python3 bench/s3_artifacts.py [build_dir] [size_mib]

Uploads and downloads use curl (streaming a file; the body never sits whole in the client).
"""
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from ceph_rgw import CephRgw  # noqa: E402
from tamga_harness import TamgaServer  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PeakRss:
    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, False
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop = True
        self.t.join()


def timed(cmd):
    t = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.time() - t


def median(xs):
    return sorted(xs)[len(xs) // 2]


def measure(name, srv, src, size, reps):
    url = srv.url + "/api/2.0/mlflow-artifacts/artifacts/bench/big.bin"
    base = rss_kib(srv.proc.pid)
    ups, downs, peak_up, peak_down = [], [], 0, 0
    for _ in range(reps):
        with PeakRss(srv.proc.pid) as up:
            ups.append(timed(["curl", "-sSf", "-T", src, url]))
        with PeakRss(srv.proc.pid) as down:
            downs.append(timed(["curl", "-sSf", "-o", "/dev/null", url]))
        subprocess.run(["curl", "-sSf", "-X", "DELETE", url], check=True, stdout=subprocess.DEVNULL)
        peak_up, peak_down = max(peak_up, up.peak), max(peak_down, down.peak)
    mb = size / 1e6
    print("%-28s upload %7.1f MB/s  download %7.1f MB/s  RSS growth up %5.1f MiB / down %5.1f MiB  (median of %d)" % (
        name, mb / median(ups), mb / median(downs), (peak_up - base) / 1024, (peak_down - base) / 1024, reps))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    size = size_mib << 20
    reps = int(os.environ.get("BENCH_REPS", "3"))
    tamga = os.path.join(build, "tamga")
    work = tempfile.mkdtemp(prefix="tamga-s3bench-")
    src = os.path.join(work, "big.bin")
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size_mib):
            f.write(block)
    print("== artifacts: %d MiB through the proxy (%d cores)" % (size_mib, os.cpu_count()))
    rgw = CephRgw(memstore_mib=size_mib * 4 + 1024).start()
    try:
        rgw.make_bucket("bench")
        s3 = rgw.client()
        from boto3.s3.transfer import TransferConfig
        cfg = TransferConfig(multipart_chunksize=8 << 20, max_concurrency=4)
        t = time.time()
        s3.upload_file(src, "bench", "direct/big.bin", Config=cfg)
        t_up = time.time() - t
        t = time.time()
        s3.download_file("bench", "direct/big.bin", os.path.join(work, "back.bin"), Config=cfg)
        t_down = time.time() - t
        os.remove(os.path.join(work, "back.bin"))
        s3.delete_object(Bucket="bench", Key="direct/big.bin")
        print("%-28s upload %7.1f MB/s  download %7.1f MB/s" % ("boto3 -> RGW (reference)", size / 1e6 / t_up,
                                                              size / 1e6 / t_down))
        for name, args, env in (
                ("tamga proxy -> S3 (RGW)", ["--artifacts-destination", "s3://bench/tamga"], {}),
                ("  same, unsigned payload", ["--artifacts-destination", "s3://bench/unsigned"],
                 {"TAMGA_S3_SIGN_PAYLOAD": "off"}),
                ("tamga proxy -> local folder", [], {})):
            srv = TamgaServer(tamga, extra_args=args, env=dict(rgw.env_for_clients(), **env)).start()
            try:
                measure(name, srv, src, size, reps)
            finally:
                srv.cleanup()
    finally:
        rgw.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
