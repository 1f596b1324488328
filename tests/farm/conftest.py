"""tests/pytest.ini uses --import-mode=importlib, which does not put this folder on sys.path; the tests
import their helpers from flamenco.py, so it is added here (first, so no other `flamenco` module wins)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
