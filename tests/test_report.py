"""report.html: one self-contained page per run, built from the run folder's files.

Three real runs are reported on: the default case with --smoke (exchange, no snapshot reached), a
1D copy of it whose snapshots fall inside the run and that asks for the I-V of each snapshot, and
the steady shell case (temperature map, bias sweep). Checked: every section; every PNG of the run
inlined and decoding as a PNG; every number of results.json shown with its exact value; nothing
to fetch; the warnings the files imply; the CLI's one-line error for a folder that is not a run;
and, where Debian's chromium is installed, the page as a real headless browser loads it.
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import math
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from ecx_device.outputs.report import BALANCE_LIMIT, SECTIONS, result_warnings, write_report

CASES = Path(__file__).parents[1] / "cases"
PNG = b"\x89PNG\r\n\x1a\n"
NOT_REPORTED = {"fields", "device_fields", "checkpoint"}  # ParaView data and restart state
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecx_device", *args], capture_output=True,
                          text=True, timeout=600, **kw)


class Page(HTMLParser):
    """What a test needs from the page: section ids, images, numbers, every URL-bearing
    attribute and every element name."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: list[str] = []
        self.images: dict[str, str] = {}  # alt -> src
        self.numbers: dict[str, list[tuple[str, str]]] = {}  # data-key -> [(data-value, text)]
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self._open: tuple[str, str] | None = None
        self._text = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "data")]
        if tag == "section":
            self.sections.append(a.get("id", ""))
        elif tag == "img":
            self.images[a.get("alt", "")] = a.get("src", "")
        elif "data-key" in a:
            self._open, self._text = (a["data-key"], a["data-value"]), ""

    def handle_data(self, data):
        if self._open:
            self._text += data

    def handle_endtag(self, tag):
        if self._open and tag == "span":
            key, value = self._open
            self.numbers.setdefault(key, []).append((value, self._text))
            self._open = None


def read_page(run: Path) -> Page:
    return Page((run / "report.html").read_text())


def decodes_as_png(data: bytes) -> bool:
    """A whole PNG: PIL's verify when Pillow is installed, else the signature, an IHDR chunk with
    a nonzero size and intact CRC, and IEND as the last chunk."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.verify()
                return im.format == "PNG" and im.size[0] > 0 and im.size[1] > 0
        except Exception:
            return False
    if not data.startswith(PNG) or data[12:16] != b"IHDR":
        return False
    length, = struct.unpack(">I", data[8:12])
    w, h = struct.unpack(">II", data[16:24])
    crc, = struct.unpack(">I", data[16 + length:20 + length])
    return w > 0 and h > 0 and crc == zlib.crc32(data[12:16 + length]) and \
        data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"


def run_pngs(run: Path) -> set[str]:
    """Every PNG of a run folder (relative names) except those in ParaView/restart folders."""
    return {p.relative_to(run).as_posix() for p in run.rglob("*.png")
            if p.relative_to(run).parts[0] not in NOT_REPORTED}


def shown(text: str, value) -> bool:
    """Whether the page text of a number shows ``value`` (6 significant digits)."""
    if value is None:
        return text == "\u2014"
    if isinstance(value, str):
        return text == value
    if isinstance(value, bool):
        return text == ("yes" if value else "no")
    if isinstance(value, int):
        return text == str(value)
    return math.isclose(float(text), value, rel_tol=5e-6, abs_tol=0.0)


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def smoke_run(default_smoke_run) -> Path:
    write_report(default_smoke_run)
    return default_smoke_run


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory) -> Path:
    """The default case in 1D, held at 1 V, snapshots at 0.5 and 1 ms, each swept for its I-V
    at -0.5, 0, 0.5 V, run with --smoke."""
    data = copy.deepcopy(yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text()))
    data["name"] = "report_stages"
    data["geometry"]["dimension"] = "1d"
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "1.0 V", "duration": "1 ms"}]
    data["iv"] = {"start": "-0.5 V", "stop": "0.5 V", "step": "0.5 V"}
    data["exchange"].update({"snapshot_times": ["0.5 ms", "1 ms"], "iv_at_snapshots": True})
    folder = tmp_path_factory.mktemp("stages")
    (folder / "case.yaml").write_text(yaml.safe_dump(data))
    out = folder / "run"
    proc = _cli("run", str(folder / "case.yaml"), "--smoke", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    write_report(out)
    return out


@pytest.fixture(scope="module")
def steady_run(tmp_path_factory) -> Path:
    """The shell case (steady, axisymmetric) with the ohmic wire, which draws the temperature
    map and the bias sweep, run with --smoke."""
    data = yaml.safe_load((CASES / "zhang2017_1V_shell.yaml").read_text())
    data["electrical"] = {"wire_model": "ohmic"}
    folder = tmp_path_factory.mktemp("steady")
    (folder / "case.yaml").write_text(yaml.safe_dump(data))
    out = folder / "run"
    proc = _cli("run", str(folder / "case.yaml"), "--smoke", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    write_report(out)
    return out


@pytest.fixture(params=["smoke_run", "stage_run", "steady_run"])
def any_run(request) -> Path:
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------------------- tests


def test_every_section_in_order(any_run):
    assert read_page(any_run).sections == list(SECTIONS)


def test_every_image_inlined_and_decodes(any_run):
    page = read_page(any_run)
    assert set(page.images) == run_pngs(any_run)
    assert page.images, "the run drew no PNG: nothing was checked"
    for name, src in page.images.items():
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix), name
        data = base64.b64decode(src[len(prefix):], validate=True)
        assert data == (any_run / name).read_bytes(), name
        assert decodes_as_png(data), name


def test_png_check_can_fail(smoke_run):
    good = (smoke_run / "exchange_history.png").read_bytes()
    assert decodes_as_png(good)
    assert not decodes_as_png(good[: len(good) // 2])
    assert not decodes_as_png(b"GIF89a" + good[6:])


def test_numbers_equal_results_json(any_run):
    results = json.loads((any_run / "results.json").read_text())
    flat = {k: v for k, v in results.items() if not isinstance(v, (dict, list))}
    flat |= {f"final.{k}": v for k, v in (results.get("final") or {}).items()}
    page = read_page(any_run)
    on_page = {k[len("results.json:"):]: v for k, v in page.numbers.items()
               if k.startswith("results.json:")}
    assert set(on_page) == set(flat)
    for key, value in flat.items():
        for exact, text in on_page[key]:
            assert json.loads(exact) == value, key
            assert shown(text, value), (key, text, value)


def test_time_series_table_ends_with_the_final_row(any_run):
    results = json.loads((any_run / "results.json").read_text())
    final = results.get("final")
    if final is None:
        pytest.skip("an I-V sweep has no final row")
    page = read_page(any_run)
    for key, value in final.items():
        (exact, _), = page.numbers[f"timeseries.csv:{key}:last"]
        assert json.loads(exact) == value, key


def test_nothing_to_fetch(any_run):
    page = read_page(any_run)
    assert not page.tags & {"script", "link", "iframe", "object", "embed", "base"}
    assert page.urls and all(u.startswith(("data:", "#")) for u in page.urls), \
        [u[:60] for u in page.urls if not u.startswith(("data:", "#"))]
    assert "url(" not in (any_run / "report.html").read_text().split("</style>")[0]


def test_iv_and_snapshots_of_the_stages(stage_run):
    page = read_page(stage_run)
    folders = sorted(p.name for p in stage_run.glob("iv_t*s"))
    assert folders == ["iv_t0.0005s", "iv_t0.001s"]
    assert {f"{f}/iv.png" for f in folders} | {"snapshots/composition_t0.0005s.png",
                                               "snapshots/composition_t0.001s.png"} \
        <= set(page.images)
    for folder in folders:
        with (stage_run / folder / "iv.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 3
        for i, row in enumerate(rows):
            for col in ("bias [V]", "current [A]"):
                (exact, _), = page.numbers[f"{folder}/iv.csv:{col}:{i}"]
                assert json.loads(exact) == float(row[col])


def test_sections_hold_their_figures(stage_run, steady_run):
    html = (stage_run / "report.html").read_text()
    for section, figure in (("timeseries", "exchange_history.png"), ("iv", "iv_t0.001s/iv.png"),
                            ("maps", "snapshots/composition_t0.001s.png")):
        part = html.split(f'<section id="{section}">')[1].split("</section>")[0]
        assert f'alt="{figure}"' in part, (section, figure)
    html = (steady_run / "report.html").read_text()
    maps = html.split('<section id="maps">')[1].split("</section>")[0]
    assert 'alt="temperature_map.png"' in maps
    balances = html.split('<section id="balances">')[1].split("</section>")[0]
    assert "no exchange dynamics" in balances


def _warnings(run: Path) -> list[str]:
    html = (run / "report.html").read_text()
    part = html.split('<section id="warnings">')[1].split("</section>")[0]
    return [w.split(">", 1)[1] for w in part.split("</li>")[:-1]]


def test_a_clean_smoke_run_warns_only_that_it_is_a_smoke_run(any_run):
    warnings = _warnings(any_run)
    assert len(warnings) == 1 and "smoke run" in warnings[0], warnings


def test_warnings_read_from_the_files(smoke_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run)
    results = json.loads((run / "results.json").read_text())
    results.update({"complete": False, "simulated_time [s]": 0.0005,
                    "max_cu_balance_error [-]": 100 * BALANCE_LIMIT})
    (run / "results.json").write_text(json.dumps(results))
    (run / "failure_report.json").write_text(json.dumps({"message": "it broke at t = 5e-4 s"}))
    with (run / "timeseries.csv").open() as f:
        rows = list(csv.DictReader(f))
    rows[3]["current_mismatch [-]"] = "0.001"
    rows[3]["cathode_current [A]"] = str(0.999 * float(rows[3]["current [A]"]))
    with (run / "timeseries.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    write_report(run)
    text = " | ".join(_warnings(run))
    for expected in ("incomplete run: simulated 0.0005 s of 0.001 s", "it broke at t = 5e-4 s",
                     "--restart", "max_cu_balance_error [-] = 1e-07 exceeds 1e-09",
                     "timeseries.csv: anode and cathode currents differ", "in 1 of 17 rows",
                     "smoke run"):
        assert expected in text, (expected, text)
    assert '<span class="status failed">' in (run / "report.html").read_text()


def test_legacy_nan_and_missing_results(smoke_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run)
    text = (run / "results.json").read_text()
    (run / "results.json").write_text(text.replace('"front_position [nm]": null',
                                                   '"front_position [nm]": NaN'))
    write_report(run)
    assert any("results.json is not strict JSON" in w for w in _warnings(run))
    (run / "results.json").unlink()
    write_report(run)
    assert any("no results.json" in w for w in _warnings(run))
    assert read_page(run).sections == list(SECTIONS)


def test_cli_rebuilds_the_report(smoke_run):
    before = (smoke_run / "report.html").stat().st_mtime_ns
    proc = _cli("report", str(smoke_run))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {smoke_run / 'report.html'}")
    assert (smoke_run / "report.html").stat().st_mtime_ns > before


@pytest.mark.parametrize("make, words", [
    (lambda d: d, "not a run folder"),
    (lambda d: d / "missing", "no such folder"),
    (lambda d: (d / "runs").mkdir() or d, "a sweep folder?"),
])
def test_cli_one_line_error_for_a_folder_that_is_not_a_run(tmp_path, make, words):
    folder = make(tmp_path)
    proc = _cli("report", str(folder))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecx-device: error: report") and \
        words in lines[0], proc.stderr
    assert not (tmp_path / "report.html").exists()


def _chromium() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                        else None)


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (Debian: apt-get "
                    "install chromium; .ci/setup does it as root); the HTML is still parsed and "
                    "every image decoded by the tests above")
def test_headless_chromium_loads_the_page(stage_run, tmp_path):
    """The DOM after a real browser loaded the file: every section and every image is there,
    with nothing fetched from the network (all flags that make Chromium phone home are off)."""
    proc = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path}",
                           "--dump-dom", (stage_run / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Page(proc.stdout)
    assert dom.sections == list(SECTIONS)
    assert set(dom.images) == run_pngs(stage_run)
    results = json.loads((stage_run / "results.json").read_text())
    (exact, _), = dom.numbers["results.json:final.current [A]"]
    assert json.loads(exact) == results["final"]["current [A]"]


def test_result_warnings_flag_an_open_balance_only(smoke_run, tmp_path):
    """What benchmarks/stress_matrix.py reads to call a finished run 'flagged': the balance and
    current checks, not the smoke-run or checkpoint notes."""
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run)
    results = json.loads((run / "results.json").read_text())
    results["max_cu_balance_error [-]"] = 100 * BALANCE_LIMIT
    (run / "results.json").write_text(json.dumps(results))
    assert result_warnings(smoke_run) == []
    flagged = result_warnings(run)
    assert len(flagged) == 1 and flagged[0].startswith("max_cu_balance_error"), flagged
