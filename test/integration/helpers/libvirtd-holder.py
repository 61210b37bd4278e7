"""Holder for a private libvirtd, run inside `unshare --mount --net --propagation private`.

It becomes a child subreaper (so daemonized libvirtd, virtlogd and QEMU stay its children and are reaped at once),
bind-mounts the scratch directories over libvirt's paths in this private mount namespace, starts virtlogd and
libvirtd, and then reaps children until SIGTERM or until its parent goes away. On the way out it kills, by PID, every
process that is its child.

argv: SCRATCH_DIR
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36

scratch = sys.argv[1]
parent = os.getppid()
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")

for source, target in (
    ("run", "/run"),
    ("lib", "/var/lib/libvirt"),
    ("cache", "/var/cache/libvirt"),
    ("log", "/var/log/libvirt"),
    ("etc", "/etc/libvirt"),
):
    subprocess.run(["mount", "--bind", os.path.join(scratch, source), target], check=True)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["virtlogd", "-d"], check=True)
subprocess.run(["libvirtd", "-d"], check=True)


def children():
    own = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == own:
            found.append(int(entry))
    return found


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def shutdown(*_):
    # QEMU first (a SIGTERM'd libvirtd leaves its guests running), then the daemons.
    qemu_dir = "/run/libvirt/qemu"
    if os.path.isdir(qemu_dir):
        for name in os.listdir(qemu_dir):
            if name.endswith(".pid"):
                try:
                    with open(os.path.join(qemu_dir, name)) as f:
                        os.kill(int(f.read().strip()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
    for pid in children():
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + 5
    while children() and time.time() < deadline:
        reap()
        time.sleep(0.05)
    for pid in children():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    reap()
    sys.exit(0)


signal.signal(signal.SIGTERM, shutdown)
signal.signal(signal.SIGINT, shutdown)
print("ready", flush=True)
while True:
    reap()
    if os.getppid() != parent:
        shutdown()
    time.sleep(0.1)
