"""Run-level tests of exchange runs on the coupled model (the exchange on the self-heated
drift-diffusion wire).

A small 1D copy of the default case (+1 V held for 3 ms, no fields or plots) is run a few times:
with a Li anode uninterrupted and stopped by a real SIGTERM and restarted; with Cu and Au anodes
and reversed polarity, whose anode kinetics see the local drop at the Cu contact. Every anode
metal's interface is now in equilibrium with its interstitial ion (c = c_s at zero drop); the
metals differ in the bulk exchange's Delta G_r (detailed balance). The default case itself runs
once in its --smoke form for the balances.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_reliability import _cli, _write

from ecx_device.case import load_case
from ecx_device.errors import CaseError, SolverError
from ecx_device.materials import load_material
from ecx_device.outputs.quantities import read_series
from ecx_device.runs.simulation import Simulation
from ecx_device.units import AVOGADRO, BOLTZMANN, ELEMENTARY_CHARGE

CASES = Path(__file__).parents[1] / "cases"
DEFAULT_CASE = CASES / "zhang2017_1V.yaml"
BALANCE_TOLERANCE = 1e-9
BALANCE_KEYS = ("cu_balance_error [-]", "cd_balance_error [-]")


def _case_1d(polarity: str = "cu_positive", duration: str = "3 ms", **exchange) -> dict:
    """The default case on the 1D mesh, +1 V held for ``duration`` from t = 0 (so every anode
    metal sees a constant bias throughout), no fields, plots or snapshots."""
    data = copy.deepcopy(yaml.safe_load(DEFAULT_CASE.read_text()))
    assert data.get("exchange", {}).get("enabled"), "the default case must be an exchange run"
    data["geometry"]["dimension"] = "1d"
    data["bias"] = {"polarity": polarity,
                    "protocol": [{"type": "hold", "voltage": "1.0 V", "duration": duration}]}
    data["outputs"] = {"fields": False, "plots": False}
    data["exchange"] = {**data["exchange"], "snapshot_times": [], **exchange}
    return data


def _run(tmp_path: Path, data: dict, name: str = "run") -> tuple[list[dict], dict]:
    """Run a case written to ``tmp_path/case.yaml``; (rows, results.json)."""
    case = load_case(_write(tmp_path, data))
    result = Simulation(case, tmp_path / name, log=None).run()
    return result.rows, json.loads((tmp_path / name / "results.json").read_text())


@pytest.fixture(scope="module")
def li_run(tmp_path_factory):
    """The uninterrupted Li-anode, Cu-positive 1D run (run A), shared by several tests."""
    return _run(tmp_path_factory.mktemp("li"), _case_1d(anode="Li"))


@pytest.fixture(scope="module")
def cu_run(tmp_path_factory):
    """The Cu-anode, Cu-positive 1D run."""
    return _run(tmp_path_factory.mktemp("cu"), _case_1d())


@pytest.fixture(scope="module")
def au_run(tmp_path_factory):
    """The same 1D run with a gold anode."""
    return _run(tmp_path_factory.mktemp("au"), _case_1d(anode="Au"))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """The default case as is, in its --smoke form (1 ms of the ramp); (rows, wall time)."""
    case = load_case(DEFAULT_CASE)
    assert case.exchange.enabled, "the default case must be an exchange run"
    t0 = time.perf_counter()
    rows = Simulation(case, tmp_path_factory.mktemp("smoke") / "run", smoke=True,
                      log=None).run().rows
    return rows, time.perf_counter() - t0


@pytest.fixture(scope="module")
def restarted_run(tmp_path_factory):
    """Run B: the 1D case as a CLI subprocess stopped by a real SIGTERM after two accepted steps,
    then continued in-process with ``restart=True``. Returns what was seen at each stage."""
    tmp_path = tmp_path_factory.mktemp("restart")
    case = _write(tmp_path, _case_1d(anode="Li"))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ecx_device", "run", str(case), "--out",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    csv = out / "timeseries.csv"
    deadline = time.time() + 120
    while time.time() < deadline:  # header + the t = 0 row + two accepted steps
        if csv.exists() and len(csv.read_text().splitlines()) > 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    stopped = {"returncode": proc.returncode, "stderr": err, "rows": read_series(csv),
               "meta": json.loads((out / "checkpoint" / "meta.json").read_text()),
               "results": json.loads((out / "results.json").read_text())}
    Simulation(load_case(case), out, restart=True, log=None).run()
    return stopped, read_series(csv), json.loads((out / "results.json").read_text())


def test_sigterm_then_restart_reproduces_uninterrupted_run(restarted_run, li_run):
    ref_rows, ref_results = li_run
    stopped, rows, results = restarted_run
    assert stopped["returncode"] == 128 + signal.SIGTERM, stopped["stderr"]
    err = stopped["stderr"]
    assert "--restart" in err and len(err.strip().splitlines()) == 1, err
    n = len(stopped["rows"])
    assert 3 <= n < len(ref_rows), "the run was not stopped part-way"
    assert stopped["meta"]["rows"] == n and stopped["meta"]["steps"] == n - 1
    assert stopped["meta"]["time [s]"] == stopped["rows"][-1]["time [s]"]
    assert stopped["results"]["complete"] is False

    # rows: the whole history in timeseries.csv, written once (full-precision floats)
    assert results["complete"] is True
    assert results["steps"] == ref_results["steps"] and len(rows) == len(ref_rows)
    assert results["rejected_steps"] == ref_results["rejected_steps"]
    # every row, not only the last: the restarted part follows the same steps
    for key in ("time [s]", "exchanged_volume [nm^3]", "cu_in_total [-]", "cu_mobile [-]",
                "cathode_current [A]"):
        assert [r[key] for r in rows] == pytest.approx([r[key] for r in ref_rows], rel=1e-10,
                                                       abs=0.0), key
    assert rows[-1]["exchanged_volume [nm^3]"] > 0
    print(f"stopped after {n - 1} of {ref_results['steps']} steps; restarted run: "
          f"{results['steps']} steps, X volume {rows[-1]['exchanged_volume [nm^3]']:.6g} nm^3 "
          f"(uninterrupted {ref_rows[-1]['exchanged_volume [nm^3]']:.6g})")




def test_restart_reproduces_current(restarted_run, li_run):
    ref_rows, _ = li_run
    _, rows, _ = restarted_run
    assert len(rows) == len(ref_rows)
    for key in ("current [A]", "current_mismatch [-]"):
        assert [r[key] for r in rows] == pytest.approx([r[key] for r in ref_rows], rel=1e-10,
                                                       abs=1e-13), key


def _assert_balances(rows: list[dict]) -> dict[str, float]:
    worst = {k: max(r[k] for r in rows) for k in BALANCE_KEYS}
    assert all(math.isfinite(r[k]) for r in rows for k in BALANCE_KEYS)
    assert max(worst.values()) < BALANCE_TOLERANCE, worst
    return worst


def _cu_balance_vs_inflow(rows: list[dict]) -> float:
    """Worst |Cu gained by the wire - (Cu in - Cu out)| / Cu that entered, from the columns.
    Unlike ``cu_balance_error [-]``, whose scale is at least one atom, this stays meaningful
    when far less than an atom of Cu has entered (a gold anode, the start of a ramp)."""
    start = rows[0]["cu_mobile [-]"] + rows[0]["cu_lattice [-]"]
    worst = 0.0
    for r in rows[1:]:
        gain = r["cu_mobile [-]"] + r["cu_lattice [-]"] - start
        net_in = r["cu_in_total [-]"] - r["cu_out_total [-]"]
        worst = max(worst, abs(gain - net_in) / max(abs(net_in), abs(gain)))
    return worst


def test_mass_balance_of_1d_run(li_run):
    rows, results = li_run
    worst = _assert_balances(rows)
    relative = _cu_balance_vs_inflow(rows)
    print(f"1D: {results['steps']} steps, worst balance errors {worst}, Cu balance against the "
          f"Cu that entered {relative:.3g}")
    assert relative < BALANCE_TOLERANCE
    # the balances close on something: Cu went in and part of it displaced Cd, held in the wire
    assert rows[-1]["cu_in_total [-]"] > 0 and rows[-1]["cd_displaced [-]"] > 0
    assert results["max_cu_balance_error [-]"] == worst["cu_balance_error [-]"]


def test_mass_balance_of_default_case_smoke(smoke_run):
    rows, wall = smoke_run
    worst = _assert_balances(rows)
    print(f"default case --smoke: {len(rows) - 1} steps to t = {rows[-1]['time [s]']:g} s in "
          f"{wall:.1f} s wall (fields and plots included); worst balance errors {worst}")
    assert rows[-1]["time [s]"] == pytest.approx(load_case(DEFAULT_CASE).smoke.max_simulated_time,
                                                 rel=1e-12)
    assert rows[-1]["cu_in_total [-]"] > 0




def test_cu_balance_closes_with_little_cu(cu_run):
    """Cu anode at +1 V: the anode contact's drop is a few V_T, so the interface holds a few
    c_s (~1e-8 per site) and ~1e-4 Cu atoms enter. Every step must still advance the state: X
    grows while Cu+ kicks out Cd (far from detailed balance in 3 ms at 300 K), and the Cu that
    entered is what the wire holds."""
    rows, _ = cu_run
    relative = _cu_balance_vs_inflow(rows)
    print(f"Cu: Cu balance against the Cu that entered {relative:.3g}, ion Newton iterations "
          f"{[int(r['ion_newton_iterations [-]']) for r in rows[1:]]}")
    assert all(b["exchanged_volume [nm^3]"] > a["exchanged_volume [nm^3]"]
               for a, b in itertools.pairwise(rows))
    assert relative < BALANCE_TOLERANCE


def test_cu_balance_closes_at_start_of_ramp_default_case_smoke(smoke_run):
    """The default case starts at 0 V: the first steps hold ~1e-3 Cu atoms."""
    rows, _ = smoke_run
    relative = _cu_balance_vs_inflow(rows)
    print(f"default case --smoke: Cu balance against the Cu that entered {relative:.3g}")
    assert relative < BALANCE_TOLERANCE


def _interstitial_equilibrium_voltage(temperature: float) -> float:
    """E_eq (V) of an anode in equilibrium with its interstitial ion at c = c_s: the drop at
    which the Butler-Volmer terms cancel, (1 - theta) e^(a eta/V_T) = theta e^(-(1-a) eta/V_T)
    at theta_s = c_s / c_lim = exp(-E_form / k T), E_form = 0.4 eV (CdS_nanowire), z = 1:
    E_eq = V_T ln((1 - theta_s) / theta_s)."""
    vt = BOLTZMANN * temperature / ELEMENTARY_CHARGE
    theta_s = math.exp(-0.4 / vt)
    return vt * math.log((1 - theta_s) / theta_s)


def test_anode_kinetics_see_the_local_drop(tmp_path, cu_run, li_run):
    """The drop across the Cu|wire interface itself, V_m - phi_n at the interface, is a few
    V_T: at +1 V the Cu contact is forward biased and the reverse-biased W contact takes the
    bias; at -1 V the Cu contact is reverse biased, but thermionic emission keeps the electrons
    at the interface within ~V_T ln 2 of the metal (n_s ~ n_B / 2) and the quasi-Fermi level
    drops across the depletion layer inside the wire. The overpotential is that drop less the
    interstitial equilibrium E_eq(T) (~0.4 V, the same for every metal: c_lim and E_form are
    the host's Cu+ data): Cu and Li take in the same Cu in 3 ms (both forward-limited, far from
    their detailed balance; Li+'s estimated transport equals Cu+'s, its radius being no larger
    and its charge the same), less at -1 V."""
    rev, _ = _run(tmp_path, _case_1d(polarity="w_positive"))
    cu, _ = cu_run
    li, _ = li_run
    fwd_drop, rev_drop = cu[-1]["anode_drop [V]"], rev[-1]["anode_drop [V]"]
    print(f"anode drop: {fwd_drop:.4f} V at +1 V, {rev_drop:.4f} V at -1 V; Cu in "
          f"{cu[-1]['cu_in_total [-]']:.3g} (+1 V), {rev[-1]['cu_in_total [-]']:.3g} (-1 V); "
          f"Li in {li[-1]['cu_in_total [-]']:.3g}")
    assert -0.1 < rev_drop < 0.0 < fwd_drop < 0.1
    assert li[-1]["anode_drop [V]"] == pytest.approx(fwd_drop, abs=2e-3)  # same electrical state
    for rows in (cu, li, rev):
        T = rows[-1]["wire_T_max [K]"]  # the 1D wire stays within 0.1 K of 300 K at +-1 V
        assert rows[-1]["anode_overpotential [V]"] == pytest.approx(
            rows[-1]["anode_drop [V]"] - _interstitial_equilibrium_voltage(T), abs=1e-4)
    assert li[-1]["cu_in_total [-]"] == pytest.approx(cu[-1]["cu_in_total [-]"], rel=1e-3)
    assert 0 < rev[-1]["cu_in_total [-]"] < cu[-1]["cu_in_total [-]"] < 1e-2  # atoms


def test_gold_anode_exchange_is_blocked_by_detailed_balance(au_run, cu_run):
    """Same interface, same Cu+ at the anode; but Au2S's Delta G_r (0.811 V x 2e, against
    Cu2S's 0.364 V) makes K_Au / K_Cu = exp(-2e (0.811 - 0.364) V / kT) ~ 1e-15 at 300 K. Cu's
    exchange runs forward (its detailed balance is not reached in 3 ms); Au's reaches its
    detailed balance at once, X ~ sqrt(K_Au s_Cd) a, and stops: its net exchange rate at the
    end is ~0 and it exchanged orders of magnitude less."""
    au_rows, _ = au_run
    cu_rows, _ = cu_run
    assert au_rows[-1]["time [s]"] == cu_rows[-1]["time [s]"]
    au, cu = au_rows[-1], cu_rows[-1]
    print(f"Au/Cu: exchanged {au['exchanged_volume [nm^3]'] / cu['exchanged_volume [nm^3]']:.3g}"
          f", net exchange rate {au['cd_kickout_rate [1/s]'] / cu['cd_kickout_rate [1/s]']:.3g}"
          f", Cu taken in {au['cu_in_total [-]'] / cu['cu_in_total [-]']:.4g}")
    assert 0 < au["exchanged_volume [nm^3]"] < 1e-3 * cu["exchanged_volume [nm^3]"]
    assert abs(au["cd_kickout_rate [1/s]"]) < 1e-6 * cu["cd_kickout_rate [1/s]"]
    # the mobile ions are the same: at 300 K the interface sits at its equilibrium c_s, which
    # does not know the metal (Au+'s slower hop only lowers an uptake limit far above the flux)
    assert au["cu_mobile [-]"] == pytest.approx(cu["cu_mobile [-]"], rel=1e-3)


def test_failure_report_says_which_ion_equation_broke_and_where(tmp_path):
    """A step that cannot be made (an absurd limit of 1e-24 on the change of X per step, and a
    smallest step of 0.25 us) stops the run; failure_report.json then names the ion equations
    with their largest residuals, points in the wire and local values, and the anode's
    overpotential (the drop less the interstitial equilibrium, about -0.36 V)."""
    data = _case_1d(anode="Li", max_fraction_change=1e-24, initial_time_step="1 us",
                    min_time_step="0.25 us")
    with pytest.raises(SolverError):
        Simulation(load_case(_write(tmp_path, data)), tmp_path / "run", log=None).run()
    report = json.loads((tmp_path / "run" / "failure_report.json").read_text())
    assert report["failed_part"] == "ions" and "changed by" in report["attempt_message"]
    entries = report["largest_residuals"]
    # the monolithic ion step solves Poisson and the carriers with the ions: all seven
    unknowns = {"c", "v", "X", "cd", "psi", "phi_n", "phi_p"}
    assert {e["equation"] for e in entries} == unknowns
    length = float(data["geometry"]["wire"]["free_length"].split()[0])  # the 1D wire (nm)
    for e in entries:
        assert e["region"] == "wire" and len(e["point [nm]"]) == 1
        assert 0.0 <= e["point [nm]"][0] <= length
        assert set(e["values"]) == unknowns | {"T"} and 299.0 < e["values"]["T"] < 400.0
    assert -0.4 < report["anode_overpotential [V]"] < -0.3
    # and it is the reported drop less E_eq, which at theta_s ~ 1e-7 is E_form = 0.4 V to
    # V_T ln(1 - theta_s) ~ 1e-8 V, whatever the interface temperature
    assert report["anode_overpotential [V]"] == pytest.approx(report["anode_drop [V]"] - 0.4,
                                                              abs=1e-6)


def test_steady_trickle_is_not_cut_to_picosecond_steps(tmp_path):
    """Regression (issue 16): the ladder case at 0 V holds a steady trickle of Cu whose ion
    residual is ~1e-31; the VI Newton stalled at its round-off floor and ran to its iteration
    limit, so the step was halved down to 1.6e-12 s and the run failed at t = 4.75 us. With the
    stall test (solvers/newton.StallAtRoundoff) the smoke run completes with sensible steps."""
    case = load_case(CASES / "zhang2017_ladder.yaml")
    result = Simulation(case, tmp_path / "ladder", smoke=True, log=None).run()
    steps = [r["time_step [s]"] for r in result.rows[1:]]
    assert result.rows[-1]["time [s]"] == pytest.approx(case.smoke.max_simulated_time)
    assert min(steps) > 1e-7, min(steps)
    assert max(r["ion_newton_iterations [-]"] for r in result.rows[1:]) < 10


def test_unknown_anode_is_a_one_line_case_error(tmp_path):
    data = _case_1d(anode="Cuu")
    with pytest.raises(CaseError, match=r"exchange\.anode = 'Cuu'.*did you mean Cu") as err:
        Simulation(load_case(_write(tmp_path, data)), tmp_path / "lib", log=None).run()
    assert "\n" not in str(err.value)
    proc = _cli("run", str(tmp_path / "case.yaml"), "--out", str(tmp_path / "cli"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "exchange.anode" in lines[0] and "Cuu" in lines[0], proc.stderr


def test_sublimation_cooling_carries_the_release_enthalpy(tmp_path):
    """A wire heated to ~770 K (conductivity overridden to 150 S/cm) sublimates Cd; the heat sink
    in the electro-thermal problem equals the release enthalpy per atom (CdS: 320 kJ/mol, where
    no Cu has arrived) times the Cd flux the exchange step counts."""
    from ecx_device.case.loader import validate_case

    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["geometry"]["dimension"] = "1d"
    data["electrical"] = {"wire_model": "ohmic"}  # the cheap option: heat from a given sigma
    data["materials"]["overrides"] = {"wire": {"electrical_conductivity": "150 S/cm"}}
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "1 V", "duration": "1 ms"}]
    data["outputs"] = {"fields": False, "plots": False}
    data["exchange"] = {"enabled": True}
    rows = Simulation(validate_case(data), tmp_path / "hot", log=None).run().rows
    last = rows[-1]
    assert last["wire_T_max [K]"] > 700
    assert last["cd_sublimation_rate [1/s]"] > 1e3
    per_atom = last["sublimation_cooling [W]"] / last["cd_sublimation_rate [1/s]"]
    congruent = load_material("CdS_nanowire")("cd_release_enthalpy", 300.0)  # J/mol, constant
    assert per_atom == pytest.approx(congruent / AVOGADRO, rel=1e-3)
    # the Cd balance closes on a real loss (sublimation of the hot mid-wire; the displaced Cd
    # sits at the cold anode end and barely evaporates)
    worst = _assert_balances(rows)
    print(f"hot ohmic wire: {last['wire_T_max [K]']:.0f} K, Cd lost {last['cd_lost [-]']:.4g} "
          f"(evaporated {last['cd_evaporated_total [-]']:.3g}), displaced "
          f"{last['cd_displaced [-]']:.3g}; worst balance errors {worst}")
    assert last["cd_lost [-]"] > 1.0 and last["cd_displaced [-]"] > 0


def test_stage_iv_sweeps_come_out_of_the_run(tmp_path):
    """exchange.iv_at_snapshots: after the run, each snapshot's composition table is swept with
    the drift-diffusion wire; the sweep reads that very table, and its terminal currents agree."""
    from ecx_device.case.loader import validate_case

    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["geometry"]["dimension"] = "1d"
    data["geometry"]["mesh"] = {"wire_size": "2 nm", "contact_size": "0.5 nm", "metal_size": "40 nm"}
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "0.5 V", "duration": "2 s"}]
    data["outputs"] = {"fields": False, "plots": False}
    data["iv"] = {"start": "-0.5 V", "stop": "0.5 V", "step": "0.5 V"}
    data["exchange"] = {"enabled": True, "max_time_step": "0.5 s", "snapshot_times": ["2 s"],
                        "iv_at_snapshots": True}
    out = tmp_path / "run"
    Simulation(validate_case(data), out, log=None).run()
    rows = read_series(out / "iv_t2s" / "iv.csv")
    assert [r["bias [V]"] for r in rows] == pytest.approx([-0.5, 0.0, 0.5])
    resolved = yaml.safe_load((out / "iv_t2s" / "case.resolved.yaml").read_text())
    assert resolved["electrical"]["wire_model"] == "drift_diffusion"
    assert resolved["composition"]["file"] == str(out / "snapshots" / "composition_t2s.npz")
    biased = [r for r in rows if r["bias [V]"] != 0.0]
    assert all(abs(r["current [A]"] - r["cathode_current [A]"])
               <= max(r["current_resolution [A]"], 1e-6 * abs(r["current [A]"])) for r in biased)
