"""One exception hierarchy for the whole package.

Every error names what was wrong (the parameter, the file and field, the AWS call) and, where there is one,
the fix. The CLI turns :class:`ParameterError` into exit status 2 and every other :class:`RtAnalyticsError`
into exit status 1 with the message, never a bare traceback.
"""

from __future__ import annotations


class RtAnalyticsError(Exception):
    """Base class of every error this package raises on purpose."""


class ParameterError(RtAnalyticsError, ValueError):
    """A report or function parameter is unknown, of the wrong type, or impossible.

    Carries ``name`` (the parameter) and ``accepts`` (what it accepts) so a CLI or a notebook can show both.
    """

    def __init__(self, name: str, problem: str, accepts: str | None = None):
        self.name = name
        self.problem = problem
        self.accepts = accepts
        msg = f"parameter {name!r}: {problem}"
        if accepts:
            msg += f" (accepts: {accepts})"
        super().__init__(msg)


class CatalogError(RtAnalyticsError, ValueError):
    """A file under ``parameters/`` does not load or does not validate.

    ``path`` is the file, ``field`` the dotted location of the bad value inside it, ``fix`` (optional) what to
    do about it.
    """

    def __init__(self, path: str, field: str | None, problem: str, fix: str | None = None):
        self.path = path
        self.field = field
        self.problem = problem
        self.fix = fix
        where = f"{path}: {field}" if field else str(path)
        super().__init__(f"{where}: {problem}" + (f" (fix: {fix})" if fix else ""))


class SourceError(RtAnalyticsError):
    """A data source could not answer (an AWS call failed after retries, a file is unreadable, ...)."""


class AuthError(SourceError):
    """AWS refused the credentials or the permission (AccessDenied, ExpiredToken, no credentials ...): retrying
    cannot help, so the fetch stops at the first one and the message says how to fix it."""


class ReportError(RtAnalyticsError):
    """A report run failed: the notebook raised, timed out, or could not be rendered or published."""

    def __init__(self, message: str, run_dir: str | None = None):
        self.run_dir = run_dir
        super().__init__(message if run_dir is None else f"{message} (run folder: {run_dir})")
