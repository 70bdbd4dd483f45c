"""Exceptions that the CLI turns into one-line messages and exit codes."""


class EcxError(Exception):
    """Base class of every error ecx_device reports without a traceback."""

    exit_code = 1


class CaseError(EcxError):
    """The case file (or a command-line override) is wrong; nothing was solved.

    The message names the key path, the bad value and what is expected.
    """

    exit_code = 2


class SolverError(EcxError):
    """A solve could not be completed (Newton divergence, thermal runaway, ...)."""

    exit_code = 3
