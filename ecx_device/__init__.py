"""ecx_device: finite-element simulator of electrically driven cation exchange in nanowires.

The Python API (see the README and :mod:`ecx_device.api`)::

    import ecx_device as ecx
    case = ecx.load_case("cases/zhang2017_1V.yaml").replace({"bias": "0.5 V"})
    result = ecx.run(case, out="results/my_run", smoke=True)
    result.timeseries, result.final, result.fields(time=1.0)
    ecx.Result.open("results/my_run")

Cheap to import: DOLFINx is loaded only when something is solved.
"""

__version__ = "0.1.0"

from ecx_device.api import Result, run, run_iv  # noqa: E402 (after __version__)
from ecx_device.errors import CaseError, EcxError, SolverError  # noqa: E402


def load_case(path):
    """Read and validate a case file (see :mod:`ecx_device.case`); change it with
    :meth:`Case.replace <ecx_device.case.schema.Case.replace>`.

    Raises:
        CaseError: one line naming the key path, the value and what is expected.
    """
    from ecx_device.case import load_case as _load

    return _load(path)


__all__ = ["__version__", "CaseError", "EcxError", "Result", "SolverError", "load_case", "run",
           "run_iv"]
