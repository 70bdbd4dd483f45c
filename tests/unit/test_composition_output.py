"""The composition output's metal density follows the exchanged sulfide's stoichiometry:
n_M = nu n_S X with nu = metal atoms per S atom (2 for Cu2S, 1 for PtS, 2/3 for Al2S3), the same
nu the exchange conserves (c + nu X)."""

from __future__ import annotations

import pytest

from ecx_device.materials.database import anode_metal
from ecx_device.physics.composition_output import CompositionOutput

N_S = 2.0e28  # S sites per m^3 (an invented round value; the output only multiplies it)
X = 0.25


class _Context:
    """What point_fields reads: the composition and the wire's S site density."""

    composition = X

    def property(self, region, name):
        assert name == "sulfur_site_density"
        return N_S


@pytest.mark.parametrize("metal, nu", [("Cu", 2.0), ("Pt", 1.0), ("Al", 2.0 / 3.0)])
def test_metal_density_is_nu_times_the_sulfur_sites_exchanged(metal, nu):
    fields = CompositionOutput(anode_metal(metal).metal_per_sulfur).point_fields(_Context())
    assert fields["Cu_density [m^-3]"] == pytest.approx(nu * N_S * X, rel=1e-12)
    assert fields["Cd_density [m^-3]"] == pytest.approx(N_S * (1 - X), rel=1e-12)
