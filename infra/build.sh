#!/usr/bin/env bash
# Compiles infra/main.bicep to dist/infra/main.json (the ARM template azd and the infra tests use);
# with --update-generated (npm run build:infra) also refreshes the committed infra/generated/main.json.
# with the real Bicep CLI: a `bicep` on PATH, else the one .ci/setup-infra.sh put in .tools/bin.
# Fails on any compiler or linter diagnostic, so a warning cannot slip into a deployment.
set -euo pipefail
cd "$(dirname "$0")/.."

find_bicep() {
  if command -v bicep >/dev/null 2>&1; then
    command -v bicep
  elif [[ -x .tools/bin/bicep ]]; then
    echo "$PWD/.tools/bin/bicep"
  else
    echo "infra/build.sh: no bicep CLI; run bash .ci/setup-infra.sh first" >&2
    return 1
  fi
}

bicep=$(find_bicep)
mkdir -p dist/infra
# Bicep exits 0 on warnings; its diagnostics are the signal, so capture and judge them.
output=$("$bicep" build infra/main.bicep --outfile dist/infra/main.json 2>&1) || {
  echo "$output" >&2
  exit 1
}
if [[ -n "$output" ]]; then
  echo "$output" >&2
  echo "infra/build.sh: bicep reported diagnostics (treated as errors)" >&2
  exit 1
fi
echo "compiled infra/main.bicep -> dist/infra/main.json ($("$bicep" --version))"
# The fake cloud enforces the role assignments of this template (kiln simulate): the repo keeps a
# copy, so a clone without the Bicep CLI simulates with the real roles. The infra tests prove the
# copy equal to a fresh build.
if [[ "${1:-}" == "--update-generated" ]]; then
  mkdir -p infra/generated
  cp dist/infra/main.json infra/generated/main.json
  echo "updated infra/generated/main.json"
fi
