"""Physical units: one pint registry, used only at the edges (case files, material data).

Everything inside the solver is SI (m, s, K, V, A, W, S/m) except mesh coordinates, which are
in nanometres (``MESH_UNIT``); :mod:`ecx_device.mesh` owns that one length scale.
"""

from __future__ import annotations

import functools

import pint

#: Metres per mesh coordinate unit (meshes are built and stored in nm).
MESH_UNIT = 1e-9

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
ureg.formatter.default_format = "~P"

#: Physical constants in SI, from pint's CODATA set so there is one source.
BOLTZMANN = ureg.Quantity(1, "boltzmann_constant").to("J/K").magnitude
ELEMENTARY_CHARGE = ureg.Quantity(1, "elementary_charge").to("C").magnitude
STEFAN_BOLTZMANN = ureg.Quantity(1, "stefan_boltzmann_constant").to("W/(m^2 K^4)").magnitude
AVOGADRO = ureg.Quantity(1, "avogadro_constant").to("1/mol").magnitude
FARADAY = ureg.Quantity(1, "faraday_constant").to("C/mol").magnitude
VACUUM_PERMITTIVITY = ureg.Quantity(1, "vacuum_permittivity").to("F/m").magnitude
HBAR = ureg.Quantity(1, "hbar").to("J s").magnitude


@functools.cache
def si_unit(unit: str) -> pint.Unit:
    """Return the SI base unit equivalent of ``unit`` (e.g. ``"nm"`` -> metre)."""
    return ureg.Quantity(1, unit).to_base_units().units


def to_si(value: object, unit: str, *, allow_bare: bool = False) -> float:
    """Convert ``value`` (a string like ``"40 nm"``) to a float in SI units of ``unit``'s dimension.

    Args:
        value: The quantity as written in a case or data file: ``"40 nm"``, ``"5 W/(m K)"``.
            A bare number is accepted only if ``allow_bare`` (dimensionless inputs).
        unit: A unit of the expected dimension (``"m"``, ``"K"``, ``"W/(m K)"``).
        allow_bare: Accept numbers without a unit (only for dimensionless quantities).

    Returns:
        The magnitude in SI base units.

    Raises:
        ValueError: One-line message saying what was expected.
    """
    expected = ureg.Quantity(1, unit)
    dimensionless = expected.dimensionless
    if isinstance(value, bool):
        raise ValueError(f"expected a quantity in {unit}, got a boolean")
    if isinstance(value, (int, float)):
        if allow_bare or dimensionless:
            return float(value)
        raise ValueError(f"missing unit: write it with a unit, e.g. '{value} {unit}'")
    if not isinstance(value, str):
        raise ValueError(f"expected a quantity such as '1 {unit}', got {type(value).__name__}")
    try:
        q = ureg.Quantity(value.strip())
    except Exception:  # pint raises several unrelated types for unparsable text
        raise ValueError(f"cannot read {value!r} as a quantity in {unit}") from None
    if not isinstance(q, pint.Quantity):
        q = ureg.Quantity(q)
    if q.dimensionless and not dimensionless:
        raise ValueError(f"missing unit: expected a quantity in {unit}, e.g. '{q.magnitude} {unit}'")
    if q.dimensionality != expected.dimensionality:
        raise ValueError(f"wrong unit in {value!r}: expected a quantity in {unit}")
    return float(q.to(si_unit(unit)).magnitude)
