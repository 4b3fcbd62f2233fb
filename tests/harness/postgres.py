"""A throwaway PostgreSQL 15 for tests (docs/scale-out.md): `initdb` into a temp dir, the server on a Unix
socket only (no TCP), trust authentication, torn down after. Debian's postgresql-15 (scripts/install-deps.sh).
PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` system user Debian creates.

As a library:  pg = PgServer().start(); uri = pg.create_db("tamga"); ...; pg.stop()
As a wrapper:  python3 postgres.py [--db NAME] [--durable] -- COMMAND ARGS...
               runs COMMAND with TAMGA_TEST_PG_URI=postgresql://postgres@/NAME?host=<socket dir>&port=<port>
               (a fresh database), then stops the server; exits with COMMAND's status.
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs postgresql)")
    return found[-1]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, durable=False):
        # durable=False: fsync off (tests only ever kill Tamga, never the database); benchmarks pass True.
        self.durable = durable
        self.dir = tempfile.mkdtemp(prefix="tamga-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.port = free_port()
        self.proc = None
        self.as_root = os.geteuid() == 0

    def _cmd(self, args):
        if self.as_root:
            return ["runuser", "-u", "postgres", "--"] + args
        return args

    def start(self, timeout=60):
        os.makedirs(self.sock)
        if self.as_root:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sock, "postgres")
        subprocess.run(self._cmd([pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        opts = ["-c", "listen_addresses=", "-c", "unix_socket_directories=" + self.sock, "-p", str(self.port),
                "-c", "max_connections=200", "-c", "shared_buffers=128MB"]
        if not self.durable:
            opts += ["-c", "fsync=off", "-c", "full_page_writes=off"]
        self.log = open(os.path.join(self.dir, "postgres.log"), "ab")
        self.proc = subprocess.Popen(self._cmd([pg_bin("postgres"), "-D", self.data] + opts),
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: " + self.read_log())
            r = subprocess.run([pg_bin("pg_isready"), "-h", self.sock, "-p", str(self.port)], capture_output=True)
            if r.returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError("postgres did not start: " + self.read_log())

    def read_log(self):
        try:
            with open(os.path.join(self.dir, "postgres.log"), "rb") as f:
                return f.read().decode(errors="replace")[-3000:]
        except OSError:
            return ""

    def psql(self, sql, db="postgres"):
        r = subprocess.run([pg_bin("psql"), "-h", self.sock, "-p", str(self.port), "-U", "postgres", "-d", db,
                            "-v", "ON_ERROR_STOP=1", "-Atc", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr)
        return r.stdout.strip()

    def uri(self, db):
        return "postgresql://postgres@/%s?host=%s&port=%d" % (db, self.sock, self.port)

    def create_db(self, name):
        self.psql('CREATE DATABASE "%s"' % name)
        return self.uri(name)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    db, durable = "tamga_test", False
    while argv[:1] in (["--db"], ["--durable"]):
        if argv[0] == "--durable":  # fsync on, as a deployment runs it (benchmarks)
            durable, argv = True, argv[1:]
        else:
            db, argv = argv[1], argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__)
        return 2
    pg = PgServer(durable=durable).start()
    try:
        uri = pg.create_db(db)
        env = dict(os.environ, TAMGA_TEST_PG_URI=uri, TAMGA_TEST_PG_ADMIN_URI=pg.uri("postgres"))
        return subprocess.call(argv, env=env)
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
