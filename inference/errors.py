"""Errors the engine raises on purpose. Their messages are shown to artists as they are,
so each one says what went wrong and what to do about it."""


class MeshFromImageError(Exception):
    """Base of every error the engine raises deliberately (as opposed to a bug)."""


class InputError(MeshFromImageError):
    """The input (file, array or mask) cannot be used; the message says how to fix it."""


class NoObjectError(InputError):
    """No single foreground object could be separated from the background."""


class DependencyError(MeshFromImageError):
    """A library the engine needs is missing or unusable."""


class Cancelled(MeshFromImageError):
    """Raised from a progress callback to stop a running reconstruction."""
