"""Output of the composition: X and the Cd and Cu densities it implies.

    n_Cd = n_S (1 - X),   n_Cu = nu n_S X        [m^-3]

with n_S the sulfur site density of the wire, mixed linearly between CdS and Cu2S (the S
sublattice does not move, model.md 3.8, so this is a small lattice-parameter effect), and nu the
exchanged metal's atoms per S atom of its sulfide (2 for Cu2S; 1 for PtS, 2/3 for Al2S3: the
``metal_per_sulfur`` of materials/data/anodes.yaml). With another anode metal than Cu, "Cu"
stands for that metal. No equation is solved here; the fields feed ParaView and the synthetic
EELS maps.
"""

from __future__ import annotations

from ecx_device.device.names import Region
from ecx_device.physics.base import Context


class CompositionOutput:
    """Derived fields of the exchanged fraction (no unknowns).

    Args:
        metal_per_sulfur: nu, metal atoms per S atom of the exchanged sulfide (-).
    """

    name = "composition"
    unknowns = ()

    def __init__(self, metal_per_sulfur: float):
        self.metal_per_sulfur = metal_per_sulfur

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """No equation."""
        return {}

    def point_fields(self, ctx: Context) -> dict:
        """X (-), Cd and Cu densities (m^-3) as continuous (P1) fields.

        They describe the wire; at points of the electrodes they carry no meaning (mask them with
        the ``region`` cell data, as the EELS maps and the ParaView script do).
        """
        X = ctx.composition
        n_s = ctx.property(Region.WIRE, "sulfur_site_density")  # mixes CdS and Cu2S
        return {"exchanged_fraction [-]": X, "Cd_density [m^-3]": n_s * (1 - X),
                "Cu_density [m^-3]": self.metal_per_sulfur * n_s * X}
