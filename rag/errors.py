"""Typed errors raised by the library.

Only the edges (rag/cli.py, rag/web/handlers.py and app.py, eval/run.py) turn these into messages for
people; the library never prints or exits.
"""


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
