"""Preferences, sidebar panels and menu entries; each module ends with its `classes` tuple and register/unregister."""
from . import preferences, sidebar, menu

_MODULES = (preferences, sidebar, menu)


def register():
    for module in _MODULES:
        module.register()


def unregister():
    for module in reversed(_MODULES):
        module.unregister()
