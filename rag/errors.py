"""Typed errors raised by the library.

Only the edges (rag/cli.py, rag/web/handlers.py and app.py, eval/run.py) turn these into messages for
people; the library never prints or exits.
"""

# What the edges let through. Every other BaseException is a native library's panic
# (the tokenizers library raises pyo3's PanicException, which derives from
# BaseException so that `except Exception` misses it): the edges answer it as any
# unexpected error, so that it ends neither a chat worker nor a one-shot command.
EXITS = (KeyboardInterrupt, SystemExit, GeneratorExit)


class RagError(Exception):
    """Base class: every error a user may meet carries a readable message."""


class IssueReadError(RagError):
    """An issue file could not be read or decoded."""


class DataDirError(RagError):
    """The data folder is missing or holds no readable issue."""


class ModelError(RagError):
    """The embedding model could not be provisioned or loaded."""


class IndexError_(RagError):
    """The index folder is missing, stale or inconsistent with its manifest."""


class BadQuestion(RagError):
    """The question is empty, too long or otherwise unusable."""


class PublishError(RagError):
    """An issue cannot be published, replaced or removed (the message says why)."""


class AccountError(RagError):
    """A staff account cannot be added, removed or read (the message says why)."""
