#!/usr/bin/env bash
# Build docker/Dockerfile on a Debian trixie minbase with podman, run the image, check the outputs.
#
#   bash docker/verify.sh       (from anywhere; as root: debootstrap and `podman import` need it)
#
# For machines with podman, runc and debootstrap (Debian's packages) but no Docker engine and no
# registry that serves base images. Steps, each timed (summary at the end and in $WORK/times.txt):
#   1. base   debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates trixie,
#             imported with `podman import` as $BASE_TAG (Python 3.13; the dolfinx wheel is abi3)
#   2. image  podman build of docker/Dockerfile with BASE_IMAGE=$BASE_TAG and
#             PYTHON_DEV_PACKAGE=python3-dev; pip's CA bundle (pip's `cert` setting) goes in as the
#             build secret pip_cert. The Dockerfile's own self-test (a smoke run) runs in the build.
#   3. smoke  `ecx-device run cases/zhang2017_1V.yaml --smoke` in the image as UID:GID 4321:4321
#             (non-root, and not the image's own 1000) into a mounted host folder; on the host:
#             every JSON file strict, results.json complete, timeseries.csv rows, PNG files, every
#             file owned by 4321; then `ecx-device report` in the image and report.html checked
#   4. mpi    `mpiexec -n 2 ecx-device run ... --smoke` in the image as its user 1000; on the host:
#             provenance.json says 2 ranks, results.json complete
#
# podman runs with --runtime runc (crun fails under this machine's hybrid cgroups), --ulimit
# nofile=1024:1024 --ulimit nproc=1000:1000 and --network host.
#
# Environment:
#   ECX_VERIFY_WORK=DIR      work folder (default: a new /var/tmp/ecx-verify.XXXXXX)
#   ECX_VERIFY_REUSE_BASE=1  keep an existing $BASE_TAG image instead of running debootstrap again
#   ECX_DEBIAN_MIRROR=URL    Debian mirror for debootstrap (default http://deb.debian.org/debian)
# Exit code 0 when every check passed; the first failing step prints one line and exits 1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE_TAG=localhost/ecx-base:trixie-minbase
IMAGE_TAG=localhost/ecx-device:verify
SMOKE_UID=4321
IMAGE_UID=1000
MIRROR=${ECX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000 --network host)

fail() { echo "verify: FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap and podman import need it); now UID $(id -u)"
for tool in podman runc debootstrap python3; do
    command -v "$tool" >/dev/null \
        || fail "$tool not found (apt-get install podman runc debootstrap)"
done

WORK=${ECX_VERIFY_WORK:-$(mktemp -d /var/tmp/ecx-verify.XXXXXX)}
mkdir -p "$WORK"
TIMES="$WORK/times.txt"
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ]; then commit="$commit+changes"; fi
{ echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "commit: $commit"; } > "$TIMES"
record() { echo "$1: $2" | tee -a "$TIMES"; }
echo "verify: work folder $WORK"

# ----------------------------------------------------------------------------------- 1. base
t0=$(now)
if [ "${ECX_VERIFY_REUSE_BASE:-0}" = 1 ] && podman image exists "$BASE_TAG"; then
    echo "verify: reusing $BASE_TAG"
    record base "reused"
else
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        trixie "$WORK/rootfs" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
        || fail "debootstrap (log: $WORK/debootstrap.log)"
    # an imported rootfs has no image configuration: give it the PATH Debian's images set
    tar -C "$WORK/rootfs" -c . | podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' - "$BASE_TAG" > /dev/null || fail "podman import"
    rm -rf "$WORK/rootfs"
    record base "$(since "$t0") s"
fi
"${PODMAN[@]}" run --rm "${LIMITS[@]}" "$BASE_TAG" python3 --version > "$WORK/base-python.txt" \
    2>&1 || fail "the base image does not run python3 (log: $WORK/base-python.txt)"
echo "verify: base $(cat "$WORK/base-python.txt")"

# ---------------------------------------------------------------------------------- 2. image
cert=${PIP_CERT:-}
if [ -z "$cert" ]; then
    cert=$(python3 -m pip config get global.cert 2>/dev/null || true)
fi
secret=()
if [ -n "$cert" ] && [ -s "$cert" ]; then
    secret=(--secret "id=pip_cert,src=$cert")
    echo "verify: pip's CA bundle $cert goes in as the build secret pip_cert"
fi
t0=$(now)
# --no-cache: the recorded time is that of a whole build, whatever an earlier run left behind
"${PODMAN[@]}" build --no-cache "${LIMITS[@]}" "${secret[@]}" \
    --build-arg BASE_IMAGE="$BASE_TAG" --build-arg PYTHON_DEV_PACKAGE=python3-dev \
    -f "$ROOT/docker/Dockerfile" -t "$IMAGE_TAG" "$ROOT" > "$WORK/build.log" 2>&1 \
    || fail "podman build (log: $WORK/build.log)"
record image "$(since "$t0") s"
echo "verify: image $IMAGE_TAG, $(podman image inspect --format '{{.Size}}' "$IMAGE_TAG" \
    | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# ---------------------------------------------------------------------------------- 3. smoke
RESULTS="$WORK/results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
chown "$SMOKE_UID:$SMOKE_UID" "$RESULTS"
t0=$(now)
"${PODMAN[@]}" run --rm "${LIMITS[@]}" --user "$SMOKE_UID:$SMOKE_UID" \
    -v "$ROOT/cases:/work/cases:ro" -v "$RESULTS:/work/results" "$IMAGE_TAG" \
    run cases/zhang2017_1V.yaml --smoke --out /work/results/smoke > "$WORK/smoke.log" 2>&1 \
    || fail "smoke run in the image (log: $WORK/smoke.log)"
record smoke "$(since "$t0") s"
"${PODMAN[@]}" run --rm "${LIMITS[@]}" --user "$SMOKE_UID:$SMOKE_UID" \
    -v "$RESULTS:/work/results" "$IMAGE_TAG" report /work/results/smoke \
    > "$WORK/report.log" 2>&1 || fail "ecx-device report in the image (log: $WORK/report.log)"

# checks on the host, with the host's python3 (standard library only)
python3 - "$RESULTS/smoke" "$SMOKE_UID" <<'EOF' || fail "outputs of the smoke run (above)"
import base64, csv, json, re, sys
from pathlib import Path

run, uid = Path(sys.argv[1]), int(sys.argv[2])
problems = []

def no_constant(name):
    raise ValueError(f"non-strict JSON constant {name}")

for path in sorted(run.rglob("*.json")):
    try:
        json.loads(path.read_text(), parse_constant=no_constant)
    except ValueError as err:
        problems.append(f"{path}: {err}")
results = json.loads((run / "results.json").read_text())
if results.get("complete") is not True or results.get("kind") != "exchange":
    problems.append(f"results.json: complete={results.get('complete')}, kind={results.get('kind')}")
with (run / "timeseries.csv").open() as f:
    rows = list(csv.DictReader(f))
if len(rows) < 2 or float(rows[-1]["time [s]"]) != results["final"]["time [s]"]:
    problems.append(f"timeseries.csv: {len(rows)} rows, last time does not match results.json")
for png in [run / "exchange_history.png"]:
    if not png.is_file() or png.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        problems.append(f"{png}: missing or not a PNG")
html = (run / "report.html").read_text()
images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
if not images or any(base64.b64decode(i)[:8] != b"\x89PNG\r\n\x1a\n" for i in images):
    problems.append(f"report.html: {len(images)} inlined images, not all PNG")
foreign = [str(p) for p in [run, *run.rglob("*")] if p.stat().st_uid != uid]
if foreign:
    problems.append(f"{len(foreign)} files not owned by UID {uid}, e.g. {foreign[0]}")
for p in problems:
    print(f"  {p}", file=sys.stderr)
print(f"verify: smoke outputs OK ({len(rows)} rows, {len(list(run.rglob('*.json')))} JSON files "
      f"strict, report with {len(images)} images, all files owned by {uid})")
sys.exit(1 if problems else 0)
EOF

# ------------------------------------------------------------------------------------ 4. mpi
chown "$IMAGE_UID:$IMAGE_UID" "$RESULTS"
t0=$(now)
"${PODMAN[@]}" run --rm "${LIMITS[@]}" --shm-size=1g \
    -v "$ROOT/cases:/work/cases:ro" -v "$RESULTS:/work/results" "$IMAGE_TAG" \
    mpiexec -n 2 ecx-device run cases/zhang2017_1V.yaml --smoke --out /work/results/np2 \
    > "$WORK/mpi.log" 2>&1 || fail "mpiexec -n 2 in the image (log: $WORK/mpi.log)"
record mpi "$(since "$t0") s"
python3 - "$RESULTS/np2" "$IMAGE_UID" <<'EOF' || fail "outputs of the MPI run (above)"
import json, sys
from pathlib import Path

run, uid = Path(sys.argv[1]), int(sys.argv[2])
results = json.loads((run / "results.json").read_text())
ranks = json.loads((run / "provenance.json").read_text())["mpi_ranks"]
ok = results.get("complete") is True and ranks == 2 and run.stat().st_uid == uid
print(f"verify: MPI outputs {'OK' if ok else 'WRONG'} (complete={results.get('complete')}, "
      f"mpi_ranks={ranks}, owner UID {run.stat().st_uid})")
sys.exit(0 if ok else 1)
EOF

echo "verify: PASSED ($(tr '\n' ';' < "$TIMES" | sed 's/;$//; s/;/; /g'))"
