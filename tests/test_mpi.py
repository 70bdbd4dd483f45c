"""MPI: a small 3D case on 1 and 2 ranks gives the same scalars to solver tolerance, prints its
progress once and writes one parallel field series; a run checkpointed on 1 rank continues on 2."""

from __future__ import annotations

import copy
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import pyvista as pv
import yaml

from ecx_device.case.loader import validate_case
from ecx_device.errors import Interrupted
from ecx_device.outputs.quantities import read_series
from ecx_device.runs import loop
from ecx_device.runs.simulation import Simulation

CASES = Path(__file__).parents[1] / "cases"
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent))


def _run(tmp_path: Path, case: Path, ranks: int) -> tuple[Path, str]:
    out = tmp_path / f"np{ranks}"
    proc = subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, "-m", "ecx_device", "run",
                           str(case), "--out", str(out), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def _serial_and_parallel(tmp_path: Path, data: dict) -> tuple[list, list, Path, str]:
    """Run the case ``data`` on 1 and 2 ranks: (serial rows, parallel rows, parallel run folder,
    parallel stdout)."""
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(data))
    serial, _ = _run(tmp_path, case, 1)
    parallel, stdout = _run(tmp_path, case, 2)
    return (read_series(serial / "timeseries.csv"), read_series(parallel / "timeseries.csv"),
            parallel, stdout)


@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec beside the Python interpreter")
def test_3d_case_serial_equals_two_ranks(tmp_path):
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["exchange"] = {"enabled": False}  # the electro-thermal path; exchange: the test below
    data["electrical"] = {"wire_model": "ohmic"}  # the 3D ohmic device; the coupled model below
    data["geometry"]["dimension"] = "3d"
    data["geometry"]["mesh"] = {"wire_size": "4 nm", "contact_size": "2 nm", "metal_size": "24 nm"}
    data["smoke"] = {"mesh_scale": 2.5, "element_degree": 1, "max_bias_points": 2}
    a, b, parallel, stdout = _serial_and_parallel(tmp_path, data)
    assert stdout.count("done in") == 1  # progress printed once, not per rank
    assert len(a) == len(b) == 2
    for key in ("current [A]", "joule_power [W]", "wire_T_max [K]", "wire_T_mean [K]"):
        assert b[-1][key] == pytest.approx(a[-1][key], rel=1e-8), key
    reader = pv.PVDReader(str(parallel / "fields" / "fields.pvd"))
    assert len(reader.time_values) == 2
    reader.set_active_time_value(reader.time_values[-1])
    grid = reader.read()[0]
    assert grid.n_cells > 0 and "temperature [K]" in grid.point_data
    assert (parallel / "fields" / "data" / "part1__p1_000001.vtu").is_file()  # rank 1's piece


@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec beside the Python interpreter")
def test_exchange_run_serial_equals_two_ranks(tmp_path):
    """The coupled model (the exchange on the self-heated drift-diffusion wire: carriers and ions
    on the wire submesh, heat on the device, adaptive steps, balances) gives the same history on
    1 and 2 ranks: same steps, same exchanged volume, Cu inflow, current and temperature. A Li
    anode, so that the wire exchanges."""
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["geometry"]["dimension"] = "1d"
    data["geometry"]["mesh"] = {"wire_size": "2 nm", "contact_size": "1 nm", "metal_size": "40 nm"}
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "1 V", "duration": "20 ms"}]
    data["exchange"].update({"snapshot_times": ["10 ms"], "stations": ["20 nm"], "anode": "Li"})
    data["smoke"] = {"mesh_scale": 1.0, "element_degree": 1, "max_simulated_time": "20 ms"}
    a, b, parallel, stdout = _serial_and_parallel(tmp_path, data)
    assert stdout.count("done in") == 1
    assert len(a) == len(b) > 3
    assert b[-1]["exchanged_volume [nm^3]"] > 0
    for key in ("exchanged_volume [nm^3]", "cu_in_total [-]", "cathode_current [A]",
                "wire_T_max [K]", "shell_thickness_z20nm [nm]"):
        assert b[-1][key] == pytest.approx(a[-1][key], rel=1e-8, abs=1e-12), key
    assert max(r["cu_balance_error [-]"] for r in b) < 1e-9
    assert (parallel / "snapshots" / "composition_t0.01s.npz").is_file()


@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec beside the Python interpreter")
def test_self_heated_drift_diffusion_serial_equals_two_ranks(tmp_path):
    """The self-heated drift-diffusion wire (carriers on the wire submesh, heat on the device,
    cellwise heat transfer, fixed-point iteration) gives the same state on 1 and 2 ranks: a 1D
    Cu2S wire (uniform X = 1, ohmic at both ends) heated by ~100 K."""
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1d.yaml").read_text()))
    data["composition"] = {"shape": "uniform", "fraction": 1}
    data["electrical"] = {"wire_model": "drift_diffusion"}
    data["bias"]["protocol"] = [{"type": "ramp", "start": "0 V", "stop": "0.2 V",
                                 "duration": "1 ms", "points": 3}]
    data["smoke"] = {"mesh_scale": 2.0, "element_degree": 1, "max_bias_points": 2}
    a, b, _, stdout = _serial_and_parallel(tmp_path, data)
    assert stdout.count("done in") == 1
    assert a[-1]["wire_T_max [K]"] > 350  # the coupling is exercised
    for key in ("current [A]", "cathode_current [A]", "carrier_heat [W]", "wire_T_max [K]",
                "wire_T_mean [K]"):
        assert b[-1][key] == pytest.approx(a[-1][key], rel=1e-8), key
    assert b[-1]["power_balance_error [-]"] < 1e-10


class _StopAfter:
    """Stands in for the run loop's signal flag: reads as SIGTERM from the ``n``-th check on
    (the loop checks once after the initial row, then after every step: n = 4 stops after the
    third step)."""

    n = 4

    def __init__(self):
        self.reads = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    @staticmethod
    def renew():
        return None

    @property
    def signal(self):
        self.reads += 1
        return signal.SIGTERM if self.reads >= self.n else None


@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec beside the Python interpreter")
def test_restart_on_two_ranks_from_one_rank_checkpoint(tmp_path, monkeypatch):
    """An exchange run (P2 electro-thermal device, P1 ions on the wire submesh, adaptive time
    steps) stopped after 3 steps on 1 rank and continued on 2 ranks ends where the uninterrupted
    1-rank run ends."""
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["geometry"]["mesh"] = {"wire_size": "8 nm", "contact_size": "4 nm", "metal_size": "60 nm"}
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "1 V", "duration": "20 ms"}]
    data["exchange"].update({"snapshot_times": [], "stations": ["20 nm"]})
    data["solver"] = {"element_degree": 2}
    data["outputs"] = {"plots": False}
    case = validate_case(data)
    reference = Simulation(case, tmp_path / "ref", log=None).run().rows

    out = tmp_path / "run"
    monkeypatch.setattr(loop, "StopOnSignal", _StopAfter)
    with pytest.raises(Interrupted):
        Simulation(case, out, log=None).run()
    monkeypatch.undo()
    meta = json.loads((out / "checkpoint" / "meta.json").read_text())
    assert meta["ranks"] == 1 and meta["rows"] == 4  # the initial row and 3 steps
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "ecx_device", "run",
                           str(path), "--restart", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "restart at" in proc.stdout
    rows = read_series(out / "timeseries.csv")
    assert len(rows) == len(reference) > 8
    assert rows[-1]["time [s]"] == pytest.approx(reference[-1]["time [s]"], rel=1e-12)
    for key in ("current [A]", "wire_T_max [K]", "exchanged_volume [nm^3]", "cu_in_total [-]"):
        assert rows[-1][key] == pytest.approx(reference[-1][key], rel=1e-8), key
    assert reference[-1]["exchanged_volume [nm^3]"] > 0
