"""Importing blender_session first sets BLENDER_USER_RESOURCES before anything imports bpy.
tests/pytest.ini uses --import-mode=importlib, which does not put this folder on sys.path; the test
modules import their helpers from blender_session, so it is added here."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blender_session import addon, bpy_module, built_zip, clean_data  # noqa: E402,F401  (pytest fixtures)
