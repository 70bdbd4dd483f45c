"""Monolithic electro-thermal Newton against the fixed point (docs/model.md 5a.12).

Both solve the same discrete equations (carriers on the wire submesh with T restricted to it,
heat on the device with the cellwise carrier heat), so at convergence they must agree to the
solvers' tolerances, far below the discretisation error:

1. the exact coupled resistor of test_self_heating.py (mu_n ~ 1/T, theta = 0.8: the centre 44 %
   above the sinks), Galerkin carriers: T and the current agree to 1e-8; the T of both is the
   exact T_0 / cos(theta) at the centre to the discretisation error;
2. the self-heated silicon Schottky diode with the fitted (EAFE) edge fluxes
   (test_fitted_fluxes.py), forward and reverse: currents and T agree to 1e-8, and the monolithic
   solution keeps the energy balance (carrier + contact heat = V I);
3. quadratic convergence on a strongly coupled resistor (theta = 1.2: the centre at 2.8 T_0,
   dT_centre/dV large): the Newton updates fall as |dx_{k+1}| <= C |dx_k|^2. A Jacobian missing
   one coupling block (e.g. the carrier heat's dependence on T) converges only linearly (ratio
   ~0.05 per iteration was measured with it dropped) and fails this.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import box_domain, constant_material
from test_self_heating import (
    L_NM,
    SIGMA0,
    T0,
    THETA,
    V_EXACT,
    _ohmic_pair,
    _resistor,
    _schottky_contacts,
    _schottky_params,
    _wire_temperature,
)

from ecx_device.device.names import Region
from ecx_device.physics.base import Context
from ecx_device.physics.carriers import DriftDiffusion
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion
from ecx_device.physics.poisson import Poisson
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.electrothermal_newton import ElectroThermalNewton
from ecx_device.solvers.fixed_point import SelfHeatingProblem
from ecx_device.solvers.newton import CoupledProblem

SOLVER = {"snes_rtol": 0.0}
K = 4.0  # W/(m K), the resistor's of test_self_heating.py


def _build(cls, n: int, params_for, contacts, fitted: bool = False, k: float = K):
    """A 1D wire of n cells, carriers on the restricted wire and heat on the device, coupled
    by ``cls`` (fixed point or monolithic Newton)."""
    device = box_domain(n, "1d", L_NM)
    wire, cells = device.restrict(Region.WIRE)
    ctx = Context.create(wire, {})
    ctx.fields["T"] = _wire_temperature(wire)
    par = params_for(ctx.fields["T"])
    dd = FittedDriftDiffusion(par) if fitted else DriftDiffusion(par)
    modules = [Poisson(par, lumped=fitted), dd, *contacts(par)]
    carriers = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    hctx = Context.create(device, {Region.WIRE: constant_material(thermal_conductivity=k)},
                          heat_sink_temperature=T0)
    return cls.create(carriers, hctx, cells, degree=1, tolerance=1e-10, max_iterations=200,
                      petsc_options=SOLVER)


def _check_agreement(newton, fixed, label: str) -> dict:
    """Asserts that the Newton and fixed-point solutions agree to 1e-8 (device temperature in
    the max norm, current), prints both with the Newton residual history; returns the Newton
    problem's quantities."""
    Ta, Tb = newton.heat.u["T"].x.array, fixed.heat.u["T"].x.array
    q, qf = newton.quantities(), fixed.quantities()
    dT = float(np.max(np.abs(Ta - Tb)) / np.max(np.abs(Tb)))
    dI = abs(q["current [A]"] / qf["current [A]"] - 1)
    print(f"\n{label}: I = {q['current [A]']:.6e} A, T_max {q['wire_T_max [K]']:.3f} K; "
          f"differences T {dT:.2e}, I {dI:.2e}; {q['electrothermal_iterations [-]']:.0f} Newton "
          f"iterations, residuals {newton.history}")
    assert dT < 1e-8 and dI < 1e-8
    return q


def test_resistor_newton_agrees_with_fixed_point():
    problems = [_build(cls, 32, _resistor, _ohmic_pair)
                for cls in (SelfHeatingProblem, ElectroThermalNewton)]
    for p in problems:
        continue_bias(p, V_EXACT, max_step=0.25, min_step=1e-3)
    fixed, newton = problems
    q = _check_agreement(newton, fixed, f"resistor, theta = {THETA}")
    # both are the coupled solution (not the isothermal one) to the discretisation error
    assert q["wire_T_max [K]"] == pytest.approx(T0 / math.cos(THETA), rel=2e-3)
    assert q["power_balance_error [-]"] < 1e-9


def test_fitted_schottky_newton_agrees_with_fixed_point():
    # a poor conductor (1e-6 W/(m K)): the diode's ~1e-11 W heats the wire by tens of K
    problems = [_build(cls, 100, _schottky_params, _schottky_contacts, fitted=True, k=1e-6)
                for cls in (SelfHeatingProblem, ElectroThermalNewton)]
    for V in (0.3, -0.5):
        for p in problems:
            continue_bias(p, V, max_step=0.1, min_step=1e-4)
        fixed, newton = problems
        q = _check_agreement(newton, fixed, f"EAFE Schottky diode, V = {V:+.1f} V")
        if V > 0:  # forward: it heats (reverse: ~1e-16 A, nothing to heat)
            assert q["wire_T_max [K]"] > T0 + 10.0
        assert q["power_balance_error [-]"] < 1e-8


def test_newton_converges_quadratically_when_strongly_coupled():
    theta = 1.2  # centre at T_0 / cos(theta) = 2.8 T_0
    V = 2 * math.sqrt(T0 * K / SIGMA0) * math.tan(theta)
    p = _build(ElectroThermalNewton, 32, _resistor, _ohmic_pair)
    continue_bias(p, 0.97 * V, max_step=0.25, min_step=1e-3)
    p.ctx.constants["bias"].value = V
    result = p.solve()
    steps = [max(c, t / T0) for c, t in p.steps]  # V, and K relative to the sink temperature
    print(f"\ntheta = {theta}: {result.iterations} Newton iterations; residuals (carriers, "
          f"heat W) {p.history}; updates (V, K) {p.steps}")
    assert result.converged
    assert p.quantities()["wire_T_max [K]"] > 2.5 * T0
    # every pair of iterations whose second update is above round-off (~1e-16 of the ~1 V
    # potentials): three here, from a first update of 7 % of T_0
    tail = [(a, b) for a, b in itertools.pairwise(steps) if b > 1e-15]
    assert len(tail) >= 3
    for a, b in tail:
        print(f"  |dx| {a:.3e} -> {b:.3e}: log ratio {math.log(b) / math.log(a):.2f}, "
              f"b / a^2 = {b / a**2:.3g}")
        assert b <= 10.0 * a**2


def test_case_key_selects_the_coupling():
    """solver.electrothermal_coupling picks the coupling of a self-heated drift-diffusion wire
    (fixed point by default); the ohmic device is one Newton problem either way; a wrong value
    is one line naming the key."""
    import copy
    from pathlib import Path

    import yaml

    from ecx_device.case.loader import validate_case
    from ecx_device.errors import CaseError
    from ecx_device.models import choose

    data = yaml.safe_load((Path(__file__).parents[2] / "cases"
                           / "zhang2017_stage_d_dd.yaml").read_text())
    case = validate_case(copy.deepcopy(data))
    assert case.solver.electrothermal_coupling == "fixed_point"
    assert choose(case).coupling == "fixed_point"
    data["solver"]["electrothermal_coupling"] = "newton"
    assert choose(validate_case(copy.deepcopy(data))).coupling == "newton"
    data["electrical"]["wire_model"] = "ohmic"
    for key in ("newton", "fixed_point"):  # the ohmic device is one Newton problem either way
        data["solver"]["electrothermal_coupling"] = key
        assert choose(validate_case(copy.deepcopy(data))).coupling == "newton"
    data["solver"]["electrothermal_coupling"] = "anderson"
    with pytest.raises(CaseError, match=r"solver\.electrothermal_coupling") as err:
        validate_case(data)
    assert "\n" not in str(err.value)
