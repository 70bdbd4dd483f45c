"""Command line: ``ecx-device run|iv|mesh|check|sweep CASE`` and
``ecx-device paraview|eels|report RUN_DIR``.

Errors the user can fix (case file, solver failure) print one line and exit non-zero (2 for a bad
case, 3 for a solver failure); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ecx_device import __version__
from ecx_device.errors import CaseError as EcxCaseError
from ecx_device.errors import EcxError
from ecx_device.outputs.registry import CURRENT


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ecx-device", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"ecx-device {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("case", type=Path, help="case file (YAML)")
        sp.add_argument("--smoke", action="store_true",
                        help="coarse mesh and short protocol (the case's smoke section)")
        sp.add_argument("--debug", action="store_true", help="show tracebacks")

    run = sub.add_parser("run", help="solve a case and write its outputs")
    common(run)
    run.add_argument("--out", type=Path, help="output folder (default: results/<case name>)")
    run.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    run.add_argument("--restart", type=Path, metavar="DIR",
                     help="continue the interrupted or failed run in DIR from its checkpoint")
    run.add_argument("--verbose", action="store_true",
                     help="one line per step (default: a progress bar on a terminal, a line a "
                          "minute otherwise)")
    iv = sub.add_parser("iv", help="I-V sweep at frozen composition (the case's iv section)")
    common(iv)
    iv.add_argument("--out", type=Path, help="output folder (default: results/<case name>_iv)")
    iv.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    iv.add_argument("--verbose", action="store_true", help="one line per bias")
    mesh = sub.add_parser("mesh", help="mesh a case's geometry (.msh + PNG preview)")
    common(mesh)
    mesh.add_argument("--out", type=Path, default=Path("meshes"), help="folder (default meshes/)")
    check = sub.add_parser("check", help="validate a case file and print its bias points")
    common(check)
    pview = sub.add_parser("paraview", help="write a pvpython view script for a run folder")
    pview.add_argument("run_dir", type=Path, help="output folder of a run")
    pview.add_argument("--debug", action="store_true", help="show tracebacks")
    eels = sub.add_parser("eels", help="synthetic STEM-EELS maps (Cd, Cu) of a run's fields")
    eels.add_argument("run_dir", type=Path, help="output folder of a run with a composition")
    eels.add_argument("--time", help="time of the field step, e.g. '1 s' (default: the last)")
    eels.add_argument("--beam", default="x", choices=["x", "y", "z"],
                      help="beam direction (the wire axis is z)")
    eels.add_argument("--pixel", default="0.5 nm", help="pixel size with unit (default 0.5 nm)")
    eels.add_argument("--debug", action="store_true", help="show tracebacks")
    report = sub.add_parser("report", help="(re)build report.html, one page on a run folder")
    report.add_argument("run_dir", type=Path, help="output folder of a run")
    report.add_argument("--debug", action="store_true", help="show tracebacks")
    sweep = sub.add_parser("sweep", help="run the product of swept values as separate runs")
    common(sweep)
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2",
                       help="case key (dotted path, or 'bias') and values with units; repeatable")
    sweep.add_argument("--out", type=Path, help="sweep folder (default: results/<name>_sweep)")
    sweep.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1)),
                       help="runs at once (default: number of cores)")
    sweep.add_argument("--index", type=int, help="run only combination N (batch-array task)")
    sweep.add_argument("--collect", action="store_true",
                       help="only gather summary.csv/png from finished runs")
    sweep.add_argument("--plot-x", help="swept key on the plot's x axis (default: the first)")
    sweep.add_argument("--plot-y", default=CURRENT, help="output column to plot")
    return p


def _progress(args):
    """The progress of ``run``/``iv``: every step with --verbose, else the default policy."""
    from ecx_device.runs.progress import Progress

    return Progress(print, "steps" if args.verbose else "auto")


def _cmd_run(args) -> int:
    from ecx_device.case import load_case
    from ecx_device.runs.simulation import Simulation

    case = load_case(args.case)
    out = args.restart or args.out
    Simulation(case, out, smoke=args.smoke, overwrite=args.overwrite,
               restart=args.restart is not None, log=_progress(args)).run()
    return 0


def _cmd_iv(args) -> int:
    from ecx_device.case import load_case
    from ecx_device.runs.simulation import Simulation

    case = load_case(args.case)
    out = args.out or Path("results") / f"{case.name}_iv"
    Simulation(case, out, smoke=args.smoke, overwrite=args.overwrite,
               log=_progress(args)).run_iv()
    return 0


def _cmd_mesh(args) -> int:
    from ecx_device.case import load_case
    from ecx_device.commands.mesh import mesh_case

    case = load_case(args.case)
    for path in mesh_case(case, args.out, smoke=args.smoke):
        print(f"wrote {path}")
    return 0


def _cmd_check(args) -> int:
    from ecx_device.commands.check import check_case

    for line in check_case(args.case, smoke=args.smoke):
        print(line)
    return 0


def _cmd_paraview(args) -> int:
    from ecx_device.outputs.paraview import write_view_script

    path = write_view_script(args.run_dir)
    print(f"wrote {path}; run it with: pvpython {path}  (or ParaView: Python Shell > Run Script)")
    return 0


def _cmd_eels(args) -> int:
    from ecx_device.outputs.eels import eels_for_run
    from ecx_device.units import MESH_UNIT, to_si

    def quantity(option: str, value: str, unit: str) -> float:
        try:
            return to_si(value, unit)
        except ValueError as err:
            raise EcxCaseError(f"{option} {value!r}: {err}") from None

    time = None if args.time is None else quantity("--time", args.time, "s")
    pixel = quantity("--pixel", args.pixel, "nm") / MESH_UNIT
    for path in eels_for_run(args.run_dir, time, args.beam, pixel):
        print(f"wrote {path}")
    return 0


def _cmd_report(args) -> int:
    import time

    from ecx_device.outputs.report import write_report

    t0 = time.perf_counter()
    path = write_report(args.run_dir)
    print(f"wrote {path} ({time.perf_counter() - t0:.2f} s)")
    return 0


def _cmd_sweep(args) -> int:
    from ecx_device.commands import sweep

    sets = sweep.parse_sets(args.set)
    if not sets:
        raise EcxCaseError("sweep: give at least one --set KEY=V1,V2")
    base, runs = sweep.plan(args.case, sets)
    out = args.out or Path("results") / f"{base.get('name', 'case')}_sweep"
    print(f"sweep: {len(runs)} runs in {out}")
    if args.index is not None:
        if not 0 <= args.index < len(runs):
            raise EcxCaseError(f"--index {args.index}: expected 0..{len(runs) - 1}")
        runs_to_do = [runs[args.index]]
    else:
        runs_to_do = [] if args.collect else runs
    statuses = sweep.execute(args.case, out, runs_to_do, base, jobs=args.jobs, smoke=args.smoke)
    if args.index is None:
        summary = sweep.collect(out, runs, args.plot_x, args.plot_y)
        print(f"summary: {summary}")
    failed = [r for r, s in statuses.items() if s != "complete"]
    return 3 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ecx-device`` and ``python -m ecx_device``."""
    args = _parser().parse_args(argv)
    commands = {"run": _cmd_run, "iv": _cmd_iv, "mesh": _cmd_mesh, "check": _cmd_check, "sweep": _cmd_sweep,
                "paraview": _cmd_paraview, "eels": _cmd_eels, "report": _cmd_report}
    try:
        return commands[args.command](args)
    except EcxError as err:
        if args.debug:
            raise
        print(f"ecx-device: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("ecx-device: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: keep it to one line unless asked
        if args.debug:
            raise
        print(f"ecx-device: internal error: {type(err).__name__}: {err} (rerun with --debug)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
