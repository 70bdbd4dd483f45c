"""ecx_device: finite-element simulator of electrically driven cation exchange in nanowires.

Cheap to import: DOLFINx is loaded only by the modules that solve.
"""

__version__ = "0.1.0"


def load_case(path):
    """Read and validate a case file (see :mod:`ecx_device.case`)."""
    from ecx_device.case import load_case as _load

    return _load(path)


__all__ = ["__version__", "load_case"]
