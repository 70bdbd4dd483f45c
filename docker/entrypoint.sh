#!/bin/sh
# Entry point of the ecx-device image (docker/Dockerfile).
#
#   docker run IMAGE                                   -> ecx-device --help   (the image's CMD)
#   docker run IMAGE run cases/x.yaml --out ...        -> ecx-device run cases/x.yaml --out ...
#   docker run IMAGE ecx-device check cases/x.yaml     -> ecx-device check cases/x.yaml
#   docker run IMAGE mpiexec -n 4 ecx-device run ...   -> mpiexec -n 4 ecx-device run ...
#   docker run IMAGE python|python3|bash|sh ...        -> that program, as given
#
# `exec` replaces this shell, so signals from `docker stop` (SIGTERM) and Ctrl-C reach the program
# itself (ecx-device finishes the current bias point and writes a checkpoint) and its exit code is
# the container's.
set -eu

case "${1-}" in
    mpiexec | mpirun | ecx-device | python | python3 | bash | sh)
        exec "$@"
        ;;
    *)
        exec ecx-device "$@"
        ;;
esac
