"""A write that fails (here: a file-size limit standing in for a full disk) leaves the old file as it was and no
partial file beside it."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FULL_DISK = """
import resource, signal, sys
sys.path.insert(0, sys.argv[1])
from inference.atomic import write_atomic
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # the write then fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
try:
    write_atomic(sys.argv[2], b"x" * (1024 * 1024))
except OSError as exc:
    print("refused", exc.errno)
"""


def test_a_full_disk_keeps_the_old_file(tmp_path):
    target = tmp_path / "mesh.obj"
    target.write_bytes(b"the good file")
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(ROOT), str(target)], capture_output=True, text=True,
                         check=True)
    assert out.stdout.startswith("refused"), out.stdout + out.stderr
    assert target.read_bytes() == b"the good file"
    assert [p.name for p in tmp_path.iterdir()] == ["mesh.obj"]


def test_a_complete_write_replaces_the_file_with_normal_permissions(tmp_path):
    from inference.atomic import write_atomic
    target = tmp_path / "mesh.ply"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o044   # readable by others like any file the user writes, not 0600
    assert [p.name for p in tmp_path.iterdir()] == ["mesh.ply"]
