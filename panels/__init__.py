"""Preferences, sidebar panels and menu entries; each module ends with its `classes` tuple and register/unregister."""
from . import preferences, sidebar, menu, sheet

_MODULES = (preferences, sidebar, menu, sheet)


def register():
    for module in _MODULES:
        module.register()


def unregister():
    for module in reversed(_MODULES):
        module.unregister()
