"""The one device model (issue 11): the exchange on the self-heated drift-diffusion wire.

- Kinetics off (no Cu source, no sublimation): an exchange run of stage (a) and of stage (d)
  reproduces ``ecx-device iv`` of the same case at that bias to 1e-6 in current and peak
  temperature: the run's electrical model is the I-V model.
- A shell prescribed to reach W raises the current of the run model by >= 1e5 over the pristine
  wire (stage (d) against stage (a) at +1 V).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ecx_device.case.loader import validate_case
from ecx_device.runs.simulation import Simulation

CASES = Path(__file__).parents[1] / "cases"
BIAS = 0.6  # V


def _stage(name: str, exchange: bool) -> dict:
    """A stage case at the smoke mesh, held at BIAS for 2 ms; with ``exchange`` an exchange run
    whose kinetics are off (no Cu source, no sublimation)."""
    data = copy.deepcopy(yaml.safe_load((CASES / f"zhang2017_stage_{name}_dd.yaml").read_text()))
    data["name"] = f"stage_{name}_{'run' if exchange else 'iv'}"
    data["geometry"]["mesh"] = {"wire_size": "4 nm", "contact_size": "1 nm", "metal_size": "40 nm"}
    data["bias"] = {"protocol": [{"type": "hold", "voltage": f"{BIAS} V", "duration": "2 ms"}]}
    data["iv"] = {"start": "0 V", "stop": f"{BIAS} V", "step": f"{BIAS / 3} V"}
    data["outputs"] = {"fields": False, "plots": False}
    data["solver"] = {**data.get("solver", {}), "max_bias_step": "0.2 V"}
    if exchange:
        data["exchange"] = {"enabled": True, "cu_source": "none", "sublimation": False,
                            "initial_time_step": "1 ms", "max_time_step": "1 ms"}
    return data


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """Final rows of the exchange run and of the I-V sweep of stages (a) and (d)."""
    out = {}
    for name in ("a", "d"):
        tmp = tmp_path_factory.mktemp(name)
        run = Simulation(validate_case(_stage(name, True)), tmp / "run", log=None).run()
        iv = Simulation(validate_case(_stage(name, False)), tmp / "iv", log=None).run_iv()
        out[name] = (run.rows, iv.rows)
    return out


@pytest.mark.parametrize("name", ["a", "d"])
def test_kinetics_off_run_reproduces_the_iv_sweep(stages, name):
    run, iv = stages[name]
    at_bias = next(r for r in iv if r["bias [V]"] == pytest.approx(BIAS))
    final = run[-1]
    assert final["exchanged_volume [nm^3]"] == pytest.approx(run[0]["exchanged_volume [nm^3]"],
                                                              rel=1e-12, abs=1e-9)
    for key in ("cathode_current [A]", "wire_T_max [K]"):
        assert final[key] == pytest.approx(at_bias[key], rel=1e-6, abs=0.0), key
    # no Cu source: nothing enters (exactly 0 until the contact conductance made (d) 5 K
    # hotter; since then 8e-41 A, 1e-35 of the electronic current)
    assert abs(final["ionic_current [A]"]) < 1e-24 * final["cathode_current [A]"]


def test_shell_reaching_w_raises_the_current_by_five_decades(stages):
    pristine = stages["a"][0][-1]["cathode_current [A]"]
    shell = stages["d"][0][-1]["cathode_current [A]"]
    print(f"\nat {BIAS} V: stage (a) {pristine:.3e} A, stage (d) {shell:.3e} A, "
          f"ratio {shell / pristine:.3e}")
    assert shell > 1e5 * pristine > 0
