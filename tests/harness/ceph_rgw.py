"""A throwaway Ceph cluster with a RADOS Gateway (a real S3 server) for tests: one monitor, one memstore OSD and
radosgw on loopback, every file in a temp dir, no cephx. Starts in ~3 s (settings: shared/notes/ceph-rgw.md,
docs/scale-out.md). Debian's ceph-mon, ceph-osd, radosgw and ceph-common (scripts/install-deps.sh).

As a library:   rgw = CephRgw().start(); rgw.endpoint, rgw.access_key, rgw.secret_key; rgw.stop()
As a wrapper:   python3 ceph_rgw.py [--bucket NAME] -- COMMAND ARGS...
                runs COMMAND with TAMGA_TEST_S3_ENDPOINT, TAMGA_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID,
                AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION set, then tears the cluster down; exits with
                COMMAND's status.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CephRgw:
    def __init__(self, memstore_mib=3072):
        self.dir = tempfile.mkdtemp(prefix="tamga-rgw-")
        self.memstore_bytes = memstore_mib << 20
        self.procs = []
        self.access_key = "TAMGATESTACCESSKEY01"
        self.secret_key = "tamga-test-secret-" + uuid.uuid4().hex
        self.region = "us-east-1"
        self.endpoint = None

    def _conf(self, mon_port, rgw_port):
        d = self.dir
        return "\n".join([
            "[global]",
            "fsid = %s" % uuid.uuid4(),
            "mon host = v2:127.0.0.1:%d" % mon_port,
            "public addr = 127.0.0.1",
            "cluster addr = 127.0.0.1",
            "auth cluster required = none",
            "auth service required = none",
            "auth client required = none",
            "ms mon client mode = crc",
            "paxos propose interval = 0.1",
            "run dir = %s/run" % d,
            "log file = %s/log/$name.log" % d,
            "mon cluster log file = %s/log/cluster.log" % d,
            "mon data = %s/mon/$cluster-$id" % d,
            "osd data = %s/osd/$cluster-$id" % d,
            "osd objectstore = memstore",
            "memstore device bytes = %d" % self.memstore_bytes,
            "osd pool default size = 1",
            "osd pool default min size = 1",
            "osd pool default pg num = 8",
            "osd pool default pgp num = 8",
            "mon allow pool size one = true",
            "mon warn on pool no redundancy = false",
            "rgw gc obj min wait = 0",
            "rgw gc processor period = 2",
            "admin socket = %s/run/$name.asok" % d,
            "",
            # The monitor finds itself in the monmap by address: it must bind the port `mon host` names.
            "[mon.a]",
            "public addr = v2:127.0.0.1:%d" % mon_port,
            "",
            "[client.rgw.a]",
            "rgw frontends = beast endpoint=127.0.0.1:%d" % rgw_port,
            "rgw data = %s/rgw" % d,
            "",
        ])

    def _run(self, args, timeout=60):
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=timeout, check=True)

    def _spawn(self, args):
        log = open(os.path.join(self.dir, "log", os.path.basename(args[0]) + ".out"), "ab")
        p = subprocess.Popen(args, env=self.env, stdout=log, stderr=log, start_new_session=True)
        self.procs.append((p, log))
        return p

    def start(self, timeout=60):
        for sub in ("run", "log", "mon", "osd", "rgw"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        mon_port, rgw_port = free_port(), free_port()
        conf = os.path.join(self.dir, "ceph.conf")
        with open(conf, "w") as f:
            f.write(self._conf(mon_port, rgw_port))
        self.env = dict(os.environ, CEPH_CONF=conf)
        try:
            self._run(["ceph-mon", "-i", "a", "--mkfs"])
            self._spawn(["ceph-mon", "-i", "a", "-f"])
            osd_uuid = str(uuid.uuid4())
            osd_id = self._run(["ceph", "--connect-timeout", "30", "osd", "new", osd_uuid]).stdout.strip()
            os.makedirs(os.path.join(self.dir, "osd", "ceph-" + osd_id), exist_ok=True)
            self._run(["ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid])
            self._spawn(["ceph-osd", "-i", osd_id, "-f"])
            rgw = self._spawn(["radosgw", "-n", "client.rgw.a", "-f"])
            deadline = time.time() + timeout
            while True:
                if rgw.poll() is not None:
                    raise RuntimeError("radosgw exited: " + self.logs())
                try:
                    socket.create_connection(("127.0.0.1", rgw_port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError("radosgw did not open its port: " + self.logs())
                    time.sleep(0.1)
            self._run(["radosgw-admin", "-n", "client.rgw.a", "user", "create", "--uid=tamga",
                       "--display-name=tamga tests", "--access-key=" + self.access_key,
                       "--secret=" + self.secret_key])
        except Exception:
            self.stop()
            raise
        self.endpoint = "http://127.0.0.1:%d" % rgw_port
        return self

    def logs(self):
        out = []
        logdir = os.path.join(self.dir, "log")
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            with open(os.path.join(logdir, name), "rb") as f:
                out.append("== %s\n%s" % (name, f.read()[-1500:].decode(errors="replace")))
        return "\n".join(out)

    def client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name=self.region,
                            config=Config(s3={"addressing_style": "path"}))

    def make_bucket(self, name):
        self.client().create_bucket(Bucket=name)
        return name

    def env_for_clients(self, bucket=None):
        env = {
            "TAMGA_TEST_S3_ENDPOINT": self.endpoint,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }
        if bucket:
            env["TAMGA_TEST_S3_BUCKET"] = bucket
        return env

    def stop(self):
        # Gateway first, then the OSD, then the monitor; SIGKILL is enough (memstore: nothing to keep).
        for p, log in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
            log.close()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    bucket = "tamga-test"
    if argv[:1] == ["--bucket"]:
        bucket, argv = argv[1], argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__)
        return 2
    rgw = CephRgw().start()
    try:
        rgw.make_bucket(bucket)
        return subprocess.call(argv, env=dict(os.environ, **rgw.env_for_clients(bucket)))
    finally:
        rgw.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
