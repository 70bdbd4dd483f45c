"""The registry of output quantities (ecx_device/outputs/registry.py): docs/outputs.md is generated
from it, and every name real runs write (exchange, ohmic, I-V sweep) is in it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import pyvista as pv

from ecx_device.outputs import registry
from ecx_device.outputs.registry import FIELD, RESULT, ROW, lookup

DOCS = Path(__file__).parents[1] / "docs" / "outputs.md"


def _columns(path: Path) -> list[str]:
    with path.open() as f:
        return next(csv.reader(f))


def _unregistered(folder: Path, table: str) -> list[str]:
    """Names in the run folder's table, results.json and field series that the registry lacks."""
    results = json.loads((folder / "results.json").read_text())
    missing = [f"{table}: {c}" for c in _columns(folder / table) if lookup(c, ROW) is None]
    missing += [f"results.json: {k}" for k in results if lookup(k, RESULT) is None]
    missing += [f"results.json final: {k}" for k in results["final"] if lookup(k, ROW) is None]
    for pvd in folder.glob("*/fields.pvd"):
        grid = pv.PVDReader(str(pvd)).read()[0]
        names = [*grid.point_data, *grid.cell_data]
        missing += [f"{pvd.parent.name}: {n}" for n in names
                    if not n.startswith("vtk") and lookup(n, FIELD) is None]
    return missing


def test_docs_outputs_md_is_generated_from_the_registry():
    made = subprocess.run([sys.executable, "-m", "ecx_device.outputs.registry"],
                          capture_output=True, text=True, check=True).stdout
    assert made == DOCS.read_text(), ("docs/outputs.md is stale: python -m "
                                      "ecx_device.outputs.registry > docs/outputs.md")
    assert "| `front_position [nm]` | nm |" in made


@pytest.mark.parametrize("which", ["exchange", "ohmic", "iv"])
def test_every_name_a_run_writes_is_registered(which, default_smoke_run, ohmic_run, ohmic_iv):
    folder, table = {"exchange": (default_smoke_run, "timeseries.csv"),
                     "ohmic": (ohmic_run.directory, "timeseries.csv"),
                     "iv": (ohmic_iv.directory, "iv.csv")}[which]
    assert _unregistered(folder, table) == []


def test_the_check_can_fail(tmp_path, ohmic_run):
    """A column the registry does not know is reported (the check is not vacuous)."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"case": "x", "final": {"bogus [A]": 1}}))
    (folder / "timeseries.csv").write_text("bias [V],current [A],bogus [A]\n0,0,0\n")
    assert _unregistered(folder, "timeseries.csv") == ["timeseries.csv: bogus [A]",
                                                       "results.json final: bogus [A]"]


def test_families_match_their_members_only():
    assert lookup("shell_thickness_z25nm [nm]").name == "shell_thickness_z{z}nm [nm]"
    assert lookup("shell_thickness_z2.5e+02nm [nm]") is not None
    assert lookup("cu_wire_emission_current [A]").unit == "A"
    assert lookup("w_sink_contact_heat [W]") is not None
    assert lookup("bogus_emission_current [A]") is None
    assert lookup("shell_thickness_z25nm [m]") is None
    assert lookup("current [A]", RESULT) is None  # groups are separate


def test_units_are_the_bracketed_ones_and_constants_are_registered():
    for q in registry.quantities():
        if q.name.endswith("]"):
            assert q.name.endswith(f"[{q.unit}]"), q
        assert q.description and q.when, q
    assert registry.CURRENT == "current [A]" and registry.unit_of(registry.CURRENT) == "A"
    assert registry.unit_of(registry.WIRE_T_MAX) == "K"
    with pytest.raises(ValueError, match="registered twice"):
        registry._q("current [A]", "again", "every run")
