"""Operators of the add-on; each module ends with its `classes` tuple and register/unregister pair."""
from . import reconstruct, runtime, sheet

_MODULES = (reconstruct, runtime, sheet)


def register():
    for module in _MODULES:
        module.register()


def unregister():
    for module in reversed(_MODULES):
        module.unregister()
