"""Operators of the add-on; each module ends with its `classes` tuple and register/unregister pair."""
from . import reconstruct, runtime

_MODULES = (reconstruct, runtime)


def register():
    for module in _MODULES:
        module.register()


def unregister():
    for module in reversed(_MODULES):
        module.unregister()
