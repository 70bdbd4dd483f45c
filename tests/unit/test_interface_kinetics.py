"""The anode's interface law (physics/exchange.butler_volmer): bounded, smooth, and its derivatives
(what Newton's Jacobian uses) right, over the overpotentials a researcher will try.

Over eta from -3 V to +5 V, for ion charges 1-3 and 300 K and 600 K: no overflow or NaN; |J| never
exceeds the uptake limit; J is Butler-Volmer where A + C << limit; J = 0 where anodic and cathodic
terms balance; the UFL form (what the ion step assembles) equals the NumPy one; and its derivatives
with respect to the occupancy theta and the reduced overpotential f, taken by UFL as Newton does,
match central finite differences of the NumPy law.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.physics.exchange import butler_volmer
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE

RATE, LIMIT, ALPHA = 1.0, 25.0, 0.5  # the ratio of the default data at 300 K (j0/q : J_lim)
ETAS = np.linspace(-3.0, 5.0, 161)


def _f(eta, z, T):
    return z * eta / (BOLTZMANN * T / ELEMENTARY_CHARGE)


@pytest.mark.parametrize("z", [1, 2, 3])
@pytest.mark.parametrize("T", [300.0, 600.0])
def test_flux_is_finite_bounded_and_butler_volmer_near_equilibrium(z, T):
    f = _f(ETAS, z, T)
    for theta in (0.0, 0.3, 0.999):
        J = butler_volmer(theta, f, RATE, LIMIT, ALPHA, np)
        assert np.all(np.isfinite(J))
        assert np.all(np.abs(J) <= LIMIT * (1 + 1e-12))
        assert np.all(np.diff(J) >= -1e-12 * LIMIT)  # more drive, more dissolution
    small = np.abs(f) < 1.0  # A + C ~ 1 << 25
    theta = 0.3
    plain = RATE * ((1 - theta) * np.exp(ALPHA * f) - theta * np.exp(-(1 - ALPHA) * f))
    J = butler_volmer(theta, f, RATE, LIMIT, ALPHA, np)
    np.testing.assert_allclose(J[small], plain[small], rtol=0.1)
    # saturation: the free sites of the first layer at the hop rate, and the full limit back
    assert J[-1] == pytest.approx(LIMIT * (1 - theta), rel=1e-6)
    assert J[0] == pytest.approx(-LIMIT, rel=1e-6)


def test_oversaturated_interface_only_takes_ions_out():
    """theta > 1 (more ions at the interface than it can hold, e.g. brought there by drift):
    the flux is an outflow at any drive, bounded by the hop rate per excess occupancy. (The signed sum A + C in
    the denominator once flipped its sign here and flooded the wire with c > 1 per S site.)"""
    f = _f(ETAS, 1, 300.0)
    for theta in (1.0 + 1e-9, 1.5, 102.0):
        J = butler_volmer(theta, f, RATE, LIMIT, ALPHA, np)
        assert np.all(np.isfinite(J))
        # back into the metal at up to the hop rate per excess occupancy
        bound = LIMIT * max(1.0, theta - 1.0) * (1 + 1e-12)
        assert np.all(J < 0) and np.all(-J <= bound), (theta, J.max(), J.min())


def test_zero_flux_at_the_balance_of_the_two_terms():
    for f in (-30.0, -1.0, 0.0, 3.0, 15.0):  # theta = 1 - 3e-7 at f = 15: still representable
        theta = 1.0 / (1.0 + np.exp(-f))  # (1 - theta) e^(a f) = theta e^(-(1-a) f)
        term = RATE * theta * np.exp(-(1 - ALPHA) * f)
        # (1 - theta) carries the round-off of theta: 1e-16 / 3e-7 at f = 15
        assert abs(butler_volmer(theta, f, RATE, LIMIT, ALPHA, np)) < 1e-9 * term


def _ufl_values(theta_values, f_values):
    """J, dJ/dtheta, dJ/df from the UFL law (derivatives by UFL, as in the Jacobian)."""
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
    th = dolfinx.fem.Constant(mesh, 0.0)
    fc = dolfinx.fem.Constant(mesh, 0.0)
    tv, fv = ufl.variable(th), ufl.variable(fc)
    J = butler_volmer(tv, fv, RATE, LIMIT, ALPHA, ufl)
    exprs = [dolfinx.fem.Expression(e, np.array([[0.5]]))
             for e in (J, ufl.diff(J, tv), ufl.diff(J, fv))]
    out = []
    for t, f in zip(theta_values, f_values, strict=True):
        th.value, fc.value = t, f
        out.append([float(e.eval(mesh, np.array([0], dtype=np.int32)).ravel()[0])
                    for e in exprs])
    return np.array(out)


def test_ufl_law_and_its_derivatives_match_numpy_and_finite_differences():
    rng = np.random.default_rng(3)
    f = np.concatenate([_f(ETAS, z, T) for z in (1, 3) for T in (300.0, 600.0)])
    theta = rng.uniform(0.0, 1.0, len(f))
    values = _ufl_values(theta, f)
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(values[:, 0], butler_volmer(theta, f, RATE, LIMIT, ALPHA, np),
                               rtol=1e-12, atol=1e-12 * LIMIT)
    h_t, h_f = 1e-6, 1e-4 * np.maximum(1.0, np.abs(f))
    d_theta = (butler_volmer(theta + h_t, f, RATE, LIMIT, ALPHA, np)
               - butler_volmer(theta - h_t, f, RATE, LIMIT, ALPHA, np)) / (2 * h_t)
    d_f = (butler_volmer(theta, f + h_f, RATE, LIMIT, ALPHA, np)
           - butler_volmer(theta, f - h_f, RATE, LIMIT, ALPHA, np)) / (2 * h_f)
    np.testing.assert_allclose(values[:, 1], d_theta, rtol=1e-5, atol=1e-8 * LIMIT)
    np.testing.assert_allclose(values[:, 2], d_f, rtol=1e-4, atol=1e-8 * LIMIT)
