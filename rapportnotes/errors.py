"""Exception hierarchy. Every error a user can cause derives from ``RapportNotesError``
so the CLI can turn it into one line and exit status 2 without a traceback."""

from __future__ import annotations


class RapportNotesError(Exception):
    """Base class for errors caused by input, configuration or plugins."""


class InputError(RapportNotesError):
    """A session/history file could not be read or did not validate.

    The message names the file and the field path or line, never the field's value
    (values may be protected health information).
    """


class PluginError(RapportNotesError):
    """An unknown plugin name, a duplicate registration or a plugin that failed to load."""


class TemplateError(RapportNotesError):
    """A user template could not be found, compiled or rendered."""


class ExportError(RapportNotesError):
    """The output could not be written (missing directory, permissions, ...)."""


class MeasureError(RapportNotesError):
    """A measure's items are missing or out of range."""
