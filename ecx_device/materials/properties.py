"""Temperature-dependent property models.

Each model is written once against a tiny backend (:class:`Ops`) so the same code gives a UFL
expression for the weak forms and a NumPy value for tests and tables. Parameters are stored in SI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ecx_device.units import BOLTZMANN, to_si, ureg

#: SI unit of every property the database knows, by property name.
PROPERTY_UNITS: dict[str, str] = {
    "electrical_conductivity": "S/m",
    "thermal_conductivity": "W/(m K)",
    "density": "kg/m^3",
    "specific_heat": "J/(kg K)",
    "sulfur_site_density": "m^-3",  # anion (S or Se) sites of the host lattice
    # semiconductor data (drift-diffusion wire model)
    "relative_permittivity": "",
    "electron_mobility": "m^2/(V s)",
    "hole_mobility": "m^2/(V s)",
    "conduction_band_dos": "m^-3",
    "valence_band_dos": "m^-3",
    "band_gap": "eV",
    "donor_density": "m^-3",
    "acceptor_density": "m^-3",
    "carrier_lifetime": "s",
    "richardson_constant_electrons": "A/(m^2 K^2)",
    "richardson_constant_holes": "A/(m^2 K^2)",
    # ion transport and cation exchange (model.md 3.5-3.8; parameters.md 2-4, 7)
    "cu_ion_diffusivity": "m^2/s",
    "vacancy_diffusivity": "m^2/s",
    "cd_equilibrium_pressure": "Pa",
    "cd_equilibrium_pressure_cu_assisted": "Pa",
    "evaporation_coefficient": "",
    "exchange_attempt_frequency": "1/s",
    "kick_out_barrier": "eV",
    "vacancy_filling_barrier": "eV",
    "interstitial_formation_barrier": "eV",
    "interstitial_hop_barrier": "eV",
    "interstitial_hop_distance": "m",
    "cu_solubility_limit": "",
    "cd_release_enthalpy": "J/mol",
    "cd_release_enthalpy_cu_assisted": "J/mol",
    # --- displaced Cd (issue 12; physics/exchange.py): its diffusivity, the displaced Cd per S
    # site in equilibrium with Cd metal (s_Cd, a_Cd = cd / s_Cd) and Cd metal's vapour pressure ---
    "cd_diffusivity": "m^2/s",
    "cd_metal_solubility": "",
    "cd_metal_vapour_pressure": "Pa",
    # --- heterostructure of the drift-diffusion wire (issue 3): band alignment by affinity ---
    "electron_affinity": "eV",
    # --- front kinetics (issue 13; physics/front_kinetics.py, docs/model.md 8.8) ---
    "exchange_driving_energy": "eV",  # -Delta g_x per exchange event, > 0 when it runs
    "surface_exchange_velocity": "m/s",  # bath -> surface entry law
    "bath_partition_coefficient": "",  # guest per volume in the surface layer / in the bath
    # --- sub-surface layer (issue 12 item 2; physics/ion_transport.py, docs/model.md 8.9):
    # diffusivity in the layer / bulk diffusivity, along the layer (axial) and across it (normal)
    "cu_subsurface_enhancement_axial": "",
    "cu_subsurface_enhancement_normal": "",
    "vacancy_subsurface_enhancement_axial": "",
    "vacancy_subsurface_enhancement_normal": "",
}

#: Mass of a Cd atom (kg), for the Hertz-Knudsen-Langmuir flux of model.md 3.7: standard atomic
#: weight 112.414 u (IUPAC; parameters.md section 4 uses 112.41 u). A module constant rather than a
#: material property because the evaporating species is Cd whatever the host (CdS or CdSe).
CD_ATOMIC_MASS: float = ureg.Quantity(112.414, "dalton").to("kg").magnitude



class Ops:
    """NumPy backend; :class:`UflOps` swaps in UFL functions."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)

    @staticmethod
    def where_less(a, b, x, y):
        """x where a < b, else y."""
        return np.where(a < b, x, y)


class UflOps(Ops):
    """UFL backend (imported lazily so the materials layer does not need UFL to load data)."""

    @staticmethod
    def exp(x):  # noqa: D102
        import ufl

        return ufl.exp(x)

    @staticmethod
    def log(x):  # noqa: D102
        import ufl

        return ufl.ln(x)

    @staticmethod
    def where_less(a, b, x, y):  # noqa: D102
        import ufl

        return ufl.conditional(ufl.lt(a, b), x, y)


@dataclass(frozen=True)
class PropertyModel:
    """Base of the property models; subclasses name their parameters and units."""

    unit: str
    source: tuple[str, ...] = ()
    kind: ClassVar[str] = ""

    def __call__(self, T: Any, ops: type[Ops] = Ops) -> Any:
        """Property value at temperature ``T`` (K), in SI units of :attr:`unit`."""
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(PropertyModel):
    """Temperature-independent value."""

    value: float = 0.0
    kind: ClassVar[str] = "constant"

    def __call__(self, T, ops=Ops):  # noqa: D102
        return self.value + 0.0 * T


@dataclass(frozen=True)
class LinearResistivity(PropertyModel):
    """Metal conductivity sigma = 1 / (rho_ref (1 + alpha (T - T_ref)))."""

    resistivity: float = 0.0  # ohm m
    reference_temperature: float = 293.0  # K
    temperature_coefficient: float = 0.0  # 1/K
    kind: ClassVar[str] = "linear_resistivity"

    def __call__(self, T, ops=Ops):  # noqa: D102
        rho = self.resistivity * (1 + self.temperature_coefficient
                                  * (T - self.reference_temperature))
        return 1.0 / rho


@dataclass(frozen=True)
class Arrhenius(PropertyModel):
    """value(T) = value_ref exp(-Ea/k_B (1/T - 1/T_ref)) (thermally activated)."""

    value: float = 0.0
    activation_energy: float = 0.0  # J
    reference_temperature: float = 300.0  # K
    kind: ClassVar[str] = "arrhenius"

    def __call__(self, T, ops=Ops):  # noqa: D102
        return self.value * ops.exp(-self.activation_energy / BOLTZMANN
                                    * (1.0 / T - 1.0 / self.reference_temperature))


@dataclass(frozen=True)
class Table(PropertyModel):
    """Piecewise-linear interpolation of tabulated values, held constant outside the table."""

    temperature: tuple[float, ...] = ()  # K, increasing
    values: tuple[float, ...] = ()
    kind: ClassVar[str] = "table"

    def __call__(self, T, ops=Ops):  # noqa: D102
        Ts, vs = self.temperature, self.values
        # Build from the top: above the last knot hold the last value, then each interval.
        expr = vs[-1] + 0.0 * T
        for i in range(len(Ts) - 2, -1, -1):
            slope = (vs[i + 1] - vs[i]) / (Ts[i + 1] - Ts[i])
            expr = ops.where_less(T, Ts[i + 1], vs[i] + slope * (T - Ts[i]), expr)
        return ops.where_less(T, Ts[0], vs[0] + 0.0 * T, expr)


@dataclass(frozen=True)
class ArrheniusPrefactor(PropertyModel):
    """value(T) = prefactor exp(-Ea / (k_B T)), for data given as (D0, Ea) or log10 p = A - B/T
    (prefactor 10^A, Ea = B ln(10) k_B)."""

    prefactor: float = 0.0
    activation_energy: float = 0.0  # J
    kind: ClassVar[str] = "arrhenius_prefactor"

    def __call__(self, T, ops=Ops):
        return self.prefactor * ops.exp(-self.activation_energy / (BOLTZMANN * T))


@dataclass(frozen=True)
class PiecewiseArrhenius(PropertyModel):
    """Arrhenius branches prefactor_i exp(-Ea_i / (k_B T)) joined at transition temperatures.

    Branch ``i`` applies for ``transition_temperature[i-1] <= T < transition_temperature[i]``;
    the first branch extends below the first transition and the last above the last one. The
    value jumps at a transition unless the data make it continuous (a phase change such as low to
    high chalcocite at 376 K does change D abruptly; the size of the jump comes from the data).
    """

    prefactor: tuple[float, ...] = ()
    activation_energy: tuple[float, ...] = ()  # J
    transition_temperature: tuple[float, ...] = ()  # K, increasing, one fewer than branches
    kind: ClassVar[str] = "piecewise_arrhenius"

    def branch(self, i: int, T, ops=Ops):
        """Value of branch ``i`` at ``T`` (whether or not it applies there)."""
        return self.prefactor[i] * ops.exp(-self.activation_energy[i] / (BOLTZMANN * T))

    def __call__(self, T, ops=Ops):
        n = len(self.prefactor)
        expr = self.branch(n - 1, T, ops)
        for i in range(n - 2, -1, -1):
            expr = ops.where_less(T, self.transition_temperature[i], self.branch(i, T, ops), expr)
        return expr


@dataclass(frozen=True)
class PowerLaw(PropertyModel):
    """value(T) = value_ref (T / T_ref)^exponent, e.g. an effective density of states (T^1.5)."""

    value: float = 0.0
    reference_temperature: float = 300.0  # K
    exponent: float = 0.0
    kind: ClassVar[str] = "power_law"

    def __call__(self, T, ops=Ops):
        return self.value * ops.exp(self.exponent * ops.log(T / self.reference_temperature))


@dataclass(frozen=True)
class Matthiessen(PropertyModel):
    """Mobility from Matthiessen's rule with a power-law lattice (phonon) part:

    1/mu(T) = (1/value - 1/lattice_value) + 1/(lattice_value (T/T_ref)^exponent).

    The first bracket is the temperature-independent defect/surface part, fixed so that
    mu(T_ref) = value; the lattice part is the bulk mobility lattice_value at T_ref scaled by the
    power law. Written as value / (1 + (value/lattice_value) ((T/T_ref)^-exponent - 1)), which gives
    ``value`` exactly at T_ref.
    """

    value: float = 0.0
    lattice_value: float = 0.0
    reference_temperature: float = 300.0  # K
    exponent: float = 0.0
    kind: ClassVar[str] = "matthiessen"

    def __call__(self, T, ops=Ops):
        lattice_factor = ops.exp(-self.exponent * ops.log(T / self.reference_temperature))
        return self.value / (1.0 + self.value / self.lattice_value * (lattice_factor - 1.0))


@dataclass(frozen=True)
class Varshni(PropertyModel):
    """Band gap of Varshni shape anchored at a reference value:

    E_g(T) = value - alpha (T^2/(T + beta) - T_ref^2/(T_ref + beta)).
    """

    value: float = 0.0
    alpha: float = 0.0  # property unit per K (J/K for a band gap)
    beta: float = 0.0  # K
    reference_temperature: float = 300.0  # K
    kind: ClassVar[str] = "varshni"

    def _shape(self, T):
        return T * T / (T + self.beta)

    def __call__(self, T, ops=Ops):
        return self.value - self.alpha * (self._shape(T) - self._shape(self.reference_temperature))


MODELS: dict[str, type[PropertyModel]] = {
    m.kind: m for m in (Constant, LinearResistivity, Arrhenius, Table, ArrheniusPrefactor,
                        PiecewiseArrhenius, PowerLaw, Matthiessen, Varshni)}

#: Parameters that are lists (one entry per table knot or Arrhenius branch); all others are scalars.
_LIST_PARAMS: dict[str, set[str]] = {
    "table": {"temperature", "values"},
    "piecewise_arrhenius": {"prefactor", "activation_energy", "transition_temperature"},
}


def _params(kind: str, unit: str) -> dict[str, str]:
    """Expected parameters of a model and their units."""
    return {
        "constant": {"value": unit},
        "linear_resistivity": {"resistivity": "ohm m", "reference_temperature": "K",
                               "temperature_coefficient": "1/K"},
        "arrhenius": {"value": unit, "activation_energy": "eV", "reference_temperature": "K"},
        "table": {"temperature": "K", "values": unit},
        "arrhenius_prefactor": {"prefactor": unit, "activation_energy": "eV"},
        "piecewise_arrhenius": {"prefactor": unit, "activation_energy": "eV",
                                "transition_temperature": "K"},
        "power_law": {"value": unit, "reference_temperature": "K", "exponent": ""},
        "matthiessen": {"value": unit, "lattice_value": unit, "reference_temperature": "K",
                        "exponent": ""},
        # alpha is the property per kelvin (eV/K for a band gap, stored as J/K like the gap)
        "varshni": {"value": unit, "alpha": f"{unit}/K" if unit else "1/K", "beta": "K",
                    "reference_temperature": "K"},
    }[kind]


def parse_property(name: str, spec: dict | str, where: str) -> PropertyModel:
    """Build a property model from its data-file (or case-override) entry.

    Args:
        name: Property name, a key of :data:`PROPERTY_UNITS`.
        spec: A mapping with ``model``, its parameters (unit strings) and ``source``;
            or a plain unit string, meaning a constant (case overrides).
        where: Key path used in error messages.

    Raises:
        ValueError: one-line message naming the key path.
    """
    if name not in PROPERTY_UNITS:
        raise ValueError(f"{where}: unknown property {name!r}; known: {', '.join(PROPERTY_UNITS)}")
    unit = PROPERTY_UNITS[name]
    if not isinstance(spec, dict):
        spec = {"model": "constant", "value": spec, "source": ["case_override"]}
    kind = spec.get("model")
    if kind not in MODELS:
        raise ValueError(f"{where}.model = {kind!r}: expected one of {', '.join(MODELS)}")
    expected = _params(kind, unit)
    extra = set(spec) - set(expected) - {"model", "source", "note"}
    if extra:
        raise ValueError(f"{where}: unknown key(s) {sorted(extra)} for model {kind!r}")
    values: dict[str, Any] = {}
    for key, punit in expected.items():
        if key not in spec:
            raise ValueError(f"{where}.{key}: missing (model {kind!r} needs {list(expected)})")
        raw = spec[key]
        is_list = key in _LIST_PARAMS.get(kind, ())
        if isinstance(raw, list) != is_list:
            want = "a list" if is_list else "a single quantity, not a list"
            raise ValueError(f"{where}.{key} = {raw!r}: expected {want} (model {kind!r})")
        try:
            if isinstance(raw, list):
                values[key] = tuple(to_si(x, punit) for x in raw)
            else:
                values[key] = to_si(raw, punit)
        except ValueError as err:
            raise ValueError(f"{where}.{key} = {raw!r}: {err}") from None
    if kind == "table":
        T = values["temperature"]
        if len(T) < 2 or len(T) != len(values["values"]) or any(np.diff(T) <= 0):
            raise ValueError(f"{where}: a table needs >= 2 increasing temperatures and as many "
                             "values")
    if kind == "piecewise_arrhenius":
        n = len(values["prefactor"])
        Tt = values["transition_temperature"]
        if n < 1 or len(values["activation_energy"]) != n or len(Tt) != n - 1 \
                or any(np.diff(Tt) <= 0):
            raise ValueError(f"{where}: piecewise_arrhenius needs as many prefactors as activation "
                             "energies and one fewer increasing transition temperatures")
    if kind in ("arrhenius_prefactor", "piecewise_arrhenius") and not all(
            np.isfinite(e) and e >= 0 for e in np.atleast_1d(values["activation_energy"])):
        raise ValueError(f"{where}.activation_energy = {spec['activation_energy']!r}: must be "
                         ">= 0")
    if "exponent" in values and not np.isfinite(values["exponent"]):
        raise ValueError(f"{where}.exponent = {spec['exponent']!r}: must be finite")
    if kind == "matthiessen" and not values["lattice_value"] > values["value"]:
        raise ValueError(f"{where}.lattice_value = {spec['lattice_value']!r}: must exceed value = "
                         f"{spec['value']!r} (the defect-limited part 1/value - 1/lattice_value "
                         "must be positive)")
    if kind == "varshni":
        if not (np.isfinite(values["alpha"]) and values["alpha"] >= 0):
            raise ValueError(f"{where}.alpha = {spec['alpha']!r}: must be >= 0")
        if not (np.isfinite(values["beta"]) and values["beta"] > 0):
            raise ValueError(f"{where}.beta = {spec['beta']!r}: must be positive (K)")
    # Every property in the database is a positive physical quantity.
    for key in ("value", "values", "resistivity", "prefactor", "lattice_value"):
        vals = values.get(key)
        if vals is not None and not all(np.isfinite(v) and v > 0 for v in np.atleast_1d(vals)):
            raise ValueError(f"{where}.{key} = {spec[key]!r}: must be positive")
    temperatures = [values.get(k, ()) for k in ("temperature", "reference_temperature",
                                                 "transition_temperature")]
    if any(t <= 0 for ts in temperatures for t in np.atleast_1d(ts)):
        raise ValueError(f"{where}: temperatures must be positive (K)")
    source = spec.get("source", ())
    source = (source,) if isinstance(source, str) else tuple(source)
    return MODELS[kind](unit=unit, source=source, **values)


#: How a property of a partly exchanged region follows X (model.md 3.9): the electrical
#: conductivity mixes log-linearly (it spans decades between CdS and Cu2S); thermal conductivity,
#: density, heat capacity and site density, which differ by less than a decade, linearly.
MIXING_RULES: dict[str, str] = {
    "electrical_conductivity": "log_linear",
    "thermal_conductivity": "linear",
    "density": "linear",
    "specific_heat": "linear",
    "sulfur_site_density": "linear",
    "relative_permittivity": "linear",
    "electron_mobility": "log_linear",
    "hole_mobility": "log_linear",
    "conduction_band_dos": "log_linear",
    "valence_band_dos": "log_linear",
    "band_gap": "linear",
    # the dopant count follows the volume fraction, and a log-linear rule cannot mix with a zero
    "donor_density": "linear",
    "acceptor_density": "linear",
    "carrier_lifetime": "log_linear",
    "richardson_constant_electrons": "linear",
    "richardson_constant_holes": "linear",
    # Diffusivities, vapour pressures and the attempt frequency span decades: log-linear. Barriers
    # (energies), the evaporation coefficient and the solubility fraction: linear.
    "cu_ion_diffusivity": "log_linear",
    "vacancy_diffusivity": "log_linear",
    "cd_equilibrium_pressure": "log_linear",
    "cd_equilibrium_pressure_cu_assisted": "log_linear",
    "evaporation_coefficient": "linear",
    "exchange_attempt_frequency": "log_linear",
    "kick_out_barrier": "linear",
    "vacancy_filling_barrier": "linear",
    "interstitial_formation_barrier": "linear",
    "interstitial_hop_barrier": "linear",
    # a lattice length: linear (read unmixed from the host by physics/exchange.py)
    "interstitial_hop_distance": "linear",
    "cu_solubility_limit": "linear",
    # enhancement ratios multiply a diffusivity and may span decades, like it: log-linear
    "cu_subsurface_enhancement_axial": "log_linear",
    "cu_subsurface_enhancement_normal": "log_linear",
    "vacancy_subsurface_enhancement_axial": "log_linear",
    "vacancy_subsurface_enhancement_normal": "log_linear",
    "cd_release_enthalpy": "linear",
    "cd_release_enthalpy_cu_assisted": "linear",
    # --- displaced Cd: a diffusivity and a vapour pressure span decades, a site fraction not.
    # (The vapour pressure is Cd metal's: the exchange module reads it from the host unmixed.) ---
    "cd_diffusivity": "log_linear",
    "cd_metal_solubility": "linear",
    "cd_metal_vapour_pressure": "log_linear",
    # --- heterostructure of the drift-diffusion wire (issue 3): the affinity, like the band
    # gap, is an energy that a composition average shifts linearly (virtual-crystal rule) ---
    "electron_affinity": "linear",
    # --- front kinetics (issue 13): an energy mixes linearly, a rate constant log-linearly ---
    "exchange_driving_energy": "linear",
    "surface_exchange_velocity": "log_linear",
    "bath_partition_coefficient": "linear",
}


def mix(a, b, X, rule: str, ops: type[Ops] = Ops):
    """Property of a mixture with fraction X of phase b: linear or log-linear in X."""
    if rule == "log_linear":
        return a * ops.exp(X * ops.log(b / a))
    return a + X * (b - a)


__all__ = ["CD_ATOMIC_MASS", "MIXING_RULES", "MODELS", "PROPERTY_UNITS", "ArrheniusPrefactor",
           "Matthiessen", "Ops", "PiecewiseArrhenius", "PowerLaw", "PropertyModel", "UflOps",
           "Varshni", "mix", "parse_property"]
