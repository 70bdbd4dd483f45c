"""Exceptions that the CLI turns into one-line messages and exit codes."""


class EcxError(Exception):
    """Base class of every error ecx_device reports without a traceback."""

    exit_code = 1


class CaseError(EcxError):
    """The case file (or a command-line override) is wrong; nothing was solved.

    The message names the key path, the bad value and what is expected; it is always one line
    (messages quoted from YAML or pint may contain line breaks, which are folded here).
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class SolverError(EcxError):
    """A solve could not be completed (Newton divergence, thermal runaway, ...).

    Attributes:
        details: Machine-readable facts about the failure (bias reached, residual norms, ...).
    """

    exit_code = 3

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


class Interrupted(EcxError):
    """The run was stopped by a signal after writing a checkpoint."""

    def __init__(self, message: str, signal_number: int):
        super().__init__(message)
        self.exit_code = 128 + signal_number
