"""Thermal variant after Casu et al. 2023 (issue 4), smoke-sized: the two shipped cases
(cases/casu2023_wurtzite.yaml, casu2023_zincblende.yaml) at 400 degC, cut to a 1D wire (coarse
10 nm cells, P1) and 50 us of the 0 V hold so both phases run in a few seconds.

Asserts physics consequences, no recorded numbers:
(a) zinc-blende exchanges more than wurtzite in the same time (Casu's zb step energies sum to
    0.87 eV against 1.39 eV for wz); 50 us is short enough that the wurtzite wire is far from
    converted, so the comparison is not between two saturated wires;
(b) at 0 V there is no electronic current and the wire sits at the set temperature (no Joule
    heat; both heat sinks and the radiation sink at the set value);
(c) the Cu mass balance closes to 1e-6 relative at every step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecx_device.case.loader import read_yaml, validate_case
from ecx_device.runs.simulation import Simulation

CASES = Path(__file__).resolve().parents[1] / "cases"
T_SET = 673.15  # K, the cases' 400 degC
DURATION = "50 us"


def smoke_1d(phase: str) -> object:
    """The shipped case of ``phase`` as a 1D wire over DURATION (everything else unchanged)."""
    data = read_yaml(CASES / f"casu2023_{phase}.yaml")
    data["name"] = f"casu2023_{phase}_1d_test"
    data["geometry"]["dimension"] = "1d"
    data["geometry"]["mesh"] = {"wire_size": "10 nm", "contact_size": "10 nm",
                                "metal_size": "40 nm"}
    data["bias"]["protocol"][0]["duration"] = DURATION
    data["exchange"].update({"snapshot_times": [], "stations": [], "max_time_step": DURATION,
                             "checkpoint_interval": DURATION})
    data["outputs"] = {"fields": False, "plots": False}
    return validate_case(data, source=f"1D test variant of casu2023_{phase}.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("casu")
    result = {}
    for phase in ("wurtzite", "zincblende"):
        case = smoke_1d(phase)
        assert case.thermal.heat_sink_temperature == pytest.approx(T_SET, abs=1e-9)
        result[phase] = Simulation(case, out / phase, log=None).run().rows
    return result


def test_zincblende_exchanges_more_than_wurtzite(runs):
    wz = runs["wurtzite"][-1]["exchanged_volume [nm^3]"]
    zb = runs["zincblende"][-1]["exchanged_volume [nm^3]"]
    assert runs["wurtzite"][-1]["time [s]"] == pytest.approx(runs["zincblende"][-1]["time [s]"])
    assert wz > 0.0  # the exchange has started in both
    assert runs["wurtzite"][-1]["exchanged_fraction [-]"] < 0.5  # wz not saturated
    assert zb > wz, (zb, wz)


@pytest.mark.parametrize("phase", ["wurtzite", "zincblende"])
def test_zero_bias_no_current_uniform_temperature(runs, phase):
    for row in runs[phase]:
        assert row["bias [V]"] == 0.0
        assert abs(row["current [A]"]) < 1e-18, row["current [A]"]
        # T_max = T_mean = T_set means T = T_set everywhere in the wire
        assert abs(row["wire_T_max [K]"] - T_SET) < 1e-6
        assert abs(row["wire_T_mean [K]"] - T_SET) < 1e-6


@pytest.mark.parametrize("phase", ["wurtzite", "zincblende"])
def test_cu_mass_balance(runs, phase):
    worst = max(row["cu_balance_error [-]"] for row in runs[phase])
    assert worst < 1e-6, worst
