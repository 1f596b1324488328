"""inference/threads.py: OpenMP told to wait passively before torch loads, unless the user said otherwise; and
the entry points that call it import no torch before they do."""
import subprocess
import sys
from pathlib import Path

from inference.threads import wait_passively

ROOT = Path(__file__).resolve().parents[2]


def test_passive_waiting_is_a_default_the_user_can_override():
    env = {}
    wait_passively(env)
    assert env == {"OMP_WAIT_POLICY": "PASSIVE"}
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    wait_passively(env)
    assert env == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_the_entry_points_load_no_torch_before_they_set_it():
    code = ("import sys, inference.__main__, inference.worker, inference.threads; "
            "print('torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"
