"""Zhang et al. 2017 stages with a prescribed composition in the drift-diffusion wire (smoke
meshes, two biases each): what the physics guarantees qualitatively.

- Stage (d), a Cu2S shell closed at both ends: both metals touch Cu2S only, both contacts are
  ohmic (no emission current reported), and the degenerate p-Cu2S shell conducts: at +-0.5 V the
  current is above 1e-8 A, while stage (a) (two Schottky barriers of 0.45-0.50 eV) stays below
  1e-11 A (asserted by test_stage_a.py at +-0.3 V; on the same smoke mesh at +-0.5 V it is
  +2.2e-13 / -8.2e-14 A, measured), so the two differ by more than three decades (measured:
  7.2e-6 A, over seven decades); and it is nearly symmetric (a resistor; the CdS core is fully
  depleted and does not matter). Stage (a) is not rerun here to keep the test within budget.
- Stage (b) rectification is not rerun here (its smoke sweep to +-1 V took 45 s of CPU); the
  Cu2S/CdS junction that makes (b), (c) rectify is tested in 1D
  (verification/test_heterojunction.py::test_heterojunction_rectifies), the 2D sweeps are in
  docs/validation.md.
- Current continuity: anode and cathode currents agree (relative mismatch below 1e-6 where the
  current is above the reported round-off resolution).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecx_device.case import load_case
from ecx_device.runs.simulation import Simulation

CASES = Path(__file__).parents[1] / "cases"


def _sweep(stage: str, tmp_path: Path, bias: float) -> dict[float, dict]:
    case = load_case(CASES / f"zhang2017_stage_{stage}_dd.yaml")
    iv = case.iv.model_copy(update={"start": -bias, "stop": bias, "step": 2 * bias,
                                    "field_biases": []})
    # larger bias steps than the case's 0.1 V keep the test short; continuation halves them
    # where Newton needs it
    solver = case.solver.model_copy(update={"max_bias_step": 0.5})
    rows = Simulation(case.model_copy(update={"iv": iv, "solver": solver}), tmp_path / stage,
                      smoke=True, log=None).run_iv().rows
    return {round(r["bias [V]"], 6): r for r in rows}


def test_closed_shell_conducts_both_ways(tmp_path):
    d = _sweep("d", tmp_path, 0.5)
    for v in (0.5, -0.5):
        print(f"V = {v:+.1f} V: stage d {d[v]['current [A]']:.3e} A")
        # the shell is an ohmic path of ~1e4 S/m (p = 1e20 cm^-3, 5 cm^2/(V s)); the pristine
        # wire is blocked by a reverse-biased Schottky barrier either way (< 1e-11 A)
        assert abs(d[v]["current [A]"]) > 1e-8
        assert d[v]["current_mismatch [-]"] < 1e-6
    # the contact phase follows X at the contact: both ohmic in (d)
    assert not any(k.endswith("_emission_current [A]") for k in d[0.5])
    assert d[0.5]["current [A]"] > 0 > d[-0.5]["current [A]"]
    assert d[0.5]["current [A]"] == pytest.approx(-d[-0.5]["current [A]"], rel=0.02)
