"""Runs a Kubernetes container's process as the kubelet would, without a container runtime: bubblewrap builds a
read-only root from the host's filesystem, each emptyDir of the pod becomes a fresh writable tmpfs at its
mountPath, the working directory is `/` (not writable), the environment is exactly the container's `env` plus
what the image provides (PATH, HOSTNAME), and the process runs as the pod's runAsUser/runAsGroup with no
capabilities (setpriv). The network is the host's, so the process can reach a server on loopback.

Needs root (to build the mount namespace) and the bwrap and setpriv commands (scripts/install-deps.sh).
"""
import os
import shutil
import subprocess

IMAGE_PATH = "/usr/local/bin:/usr/bin:/bin"  # the ENV PATH of Tamga's images (deploy/docker/Dockerfile)


def available():
    """'' when the sandbox can run here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root to build a mount namespace"
    for tool in ("bwrap", "setpriv"):
        if not shutil.which(tool):
            return f"{tool} is not installed (scripts/install-deps.sh installs it)"
    return ""


def _root_args(targets):
    """bwrap arguments for a read-only copy of the host's root in which each target path can be mounted."""
    args = []

    def holds_target(path):
        return any(t.startswith(path.rstrip("/") + "/") for t in targets)

    def walk(path):
        for name in sorted(os.listdir(path)):
            child = os.path.join(path, name)
            if child in ("/proc", "/dev", "/sys") or child in targets:
                continue
            if os.path.islink(child):
                args.extend(["--symlink", os.readlink(child), child])
            elif os.path.isdir(child) and holds_target(child):
                args.extend(["--dir", child])
                walk(child)
            elif os.path.isdir(child) or os.path.isfile(child):
                args.extend(["--ro-bind", child, child])

    walk("/")
    return args


def pod_container(deployment):
    """(pod spec, first container) of an apps/v1 Deployment object."""
    pod = deployment["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def command_line(deployment, binary, tamga_path="/usr/local/bin/tamga", secrets=None):
    """The argv that runs the Deployment's container in the sandbox, with `binary` at `tamga_path` (where the
    image has it). `secrets` ({secret name: {key: value}}) fills `valueFrom.secretKeyRef` variables as the
    kubelet would (a missing optional one is left unset). Returns (argv, emptyDir mount paths)."""
    pod, c = pod_container(deployment)
    # emptyDirs, and PersistentVolumeClaims as a fresh empty volume.
    empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v or "persistentVolumeClaim" in v}
    mounts = [m["mountPath"] for m in c.get("volumeMounts", []) if m["name"] in empty_dirs]
    pod_sc = pod.get("securityContext", {})
    c_sc = c.get("securityContext", {})
    uid = c_sc.get("runAsUser", pod_sc.get("runAsUser"))
    gid = c_sc.get("runAsGroup", pod_sc.get("runAsGroup", uid))
    assert uid not in (None, 0), "the container must run as a non-root user"
    argv = ["bwrap", "--die-with-parent", "--unshare-pid", "--dev", "/dev", "--proc", "/proc"]
    argv += _root_args(set(mounts) | {tamga_path})
    for m in mounts:
        # An emptyDir: writable by the pod's user (fsGroup), empty at start.
        argv += ["--perms", "1777", "--tmpfs", m]
    argv += ["--ro-bind", os.path.realpath(binary), tamga_path]
    if c_sc.get("readOnlyRootFilesystem"):
        argv += ["--remount-ro", "/"]
    argv += ["--chdir", c.get("workingDir", "/"), "--clearenv", "--setenv", "PATH", IMAGE_PATH,
             "--setenv", "HOSTNAME", "tamga-test-pod"]
    for e in c.get("env", []):
        if "value" in e:
            argv += ["--setenv", e["name"], e["value"]]
            continue
        ref = e["valueFrom"]["secretKeyRef"]
        value = (secrets or {}).get(ref["name"], {}).get(ref["key"])
        if value is None:
            assert ref.get("optional"), f"secret {ref['name']}/{ref['key']} is required by the manifest"
            continue
        argv += ["--setenv", e["name"], value]
    drop = "-all" if "ALL" in c_sc.get("capabilities", {}).get("drop", []) else ""
    argv += ["--", "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    if drop:
        argv += ["--inh-caps=" + drop, "--bounding-set=" + drop]
    if c_sc.get("allowPrivilegeEscalation") is False:
        argv += ["--no-new-privs"]
    argv += ["--"] + list(c["command"]) + list(c.get("args", []))
    return argv, mounts


def start(deployment, binary, log_path, secrets=None):
    argv, _ = command_line(deployment, binary, secrets=secrets)
    log = open(log_path, "wb")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
