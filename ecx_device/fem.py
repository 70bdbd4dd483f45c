"""Import DOLFINx and PETSc in the order the stack needs.

The ``dolfinx-solver-real`` wheel ships PETSc inside ``dolfinx_solver``, which must be imported
before ``dolfinx`` or ``petsc4py``; an official DOLFINx install (e.g. the Docker image) has no such
module, hence the guard. Every module that needs DOLFINx imports it from here.
"""

try:  # noqa: SIM105 - the import has side effects (library paths)
    import dolfinx_solver  # noqa: F401
except ImportError:
    pass

import dolfinx  # noqa: E402
import dolfinx.fem.petsc  # noqa: E402,F401
import dolfinx.io  # noqa: E402,F401
import ufl  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

__all__ = ["MPI", "PETSc", "dolfinx", "ufl"]
