"""Thermal runaway is reported, not crashed on.

A thermally activated wire (0.5 eV) has no steady state above a critical bias (the
Frank-Kamenetskii limit of the Bratu problem); continuation must stop with a SolverError that
says so, leave the last converged state in place, and reach every bias below the limit.
"""

from __future__ import annotations

import pytest

from conftest import box_domain
from ecx_device.device.names import Region
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.errors import SolverError
from ecx_device.materials import Material
from ecx_device.materials.properties import Arrhenius, Constant
from ecx_device.physics.base import Context
from ecx_device.physics.heat import HeatConduction
from ecx_device.physics.ohmic import OhmicConduction
from ecx_device.solvers.continuation import continue_bias
from ecx_device.units import ELEMENTARY_CHARGE


def _problem():
    sigma = Arrhenius(unit="S/m", value=1e3, activation_energy=0.5 * ELEMENTARY_CHARGE,
                      reference_temperature=300.0)
    wire = Material("activated", "", {"electrical_conductivity": sigma,
                                      "thermal_conductivity": Constant(unit="W/(m K)", value=4.0)})
    ctx = Context.create(box_domain(60, "1d", 300.0), {Region.WIRE: wire})
    return CoupledProblem(ctx, [OhmicConduction(), HeatConduction()], degree=1)


def test_runaway_is_a_clear_error():
    prob = _problem()
    continue_bias(prob, 0.5, max_step=0.25, min_step=1e-3, bounds={"T": (0, 5000)})
    t_low = prob.u["T"].x.array.max()
    assert 300.0 < t_low < 400.0
    with pytest.raises(SolverError, match="thermal runaway") as err:
        continue_bias(prob, 20.0, max_step=0.25, min_step=1e-3, bounds={"T": (0, 5000)})
    assert "\n" not in str(err.value)
    stuck = float(prob.ctx.constants["bias"].value)
    assert 0.5 < stuck < 20.0
    # the state left behind is the last converged one, at the bias it reports
    assert prob.solve().converged
    assert prob.solve().iterations <= 2


def test_failed_factorisation_does_not_poison_later_solves():
    """A solve from a state with zero conductivity breaks the LU factorisation; restoring the good
    state must let the next solve succeed (MUMPS otherwise refuses every later solve)."""
    prob = _problem()
    continue_bias(prob, 0.3, max_step=0.3, min_step=1e-3)
    good = prob.state()
    prob.u["T"].x.array[:] = 1e-3  # sigma(T) underflows to 0: a singular Jacobian
    assert not prob.solve().converged
    prob.restore(good)
    result = prob.solve()
    assert result.converged and result.iterations <= 2
