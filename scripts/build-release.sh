#!/usr/bin/env bash
# The one release build: what CI tests and what docker/Dockerfile ships. A statically linked
# Swift runtime (only libc, libstdc++ and zlib needed at run time), in its own scratch path so it
# never thrashes the debug build's. Builds `tollgate` and `tollgate-bench` (the in-process
# benchmarks bench/ runs, beside it; not shipped). Prints the path of `tollgate` on stdout.
#   scripts/build-release.sh            build (incrementally) and print the path
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${TOLLGATE_SCRATCH_PATH:-.build-static}
swift build -c release --static-swift-stdlib --scratch-path "$scratch" >&2
echo "$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/tollgate"
