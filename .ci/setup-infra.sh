#!/usr/bin/env bash
# Installs the Bicep CLI for the infra build and tests: the real binary from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 (restored by tools/bicep/bicep.csproj into the git-ignored .tools/),
# unless a `bicep` is already on PATH. Idempotent: a second run finds the binary and does nothing.
# Prints the path of the bicep it settled on; infra/build.sh and test/infra/run.sh look in the same places.
set -euo pipefail
cd "$(dirname "$0")/.."

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
package_dir=".tools/nuget/azure.bicep.commandline.linux-x64/${BICEP_VERSION}"
target=".tools/bin/bicep"

if command -v bicep >/dev/null 2>&1; then
  echo "bicep on PATH: $(command -v bicep) ($(bicep --version))"
  exit 0
fi

if [[ -x "$target" ]] && "$target" --version | grep -q "version ${BICEP_VERSION} "; then
  echo "bicep already installed: $PWD/$target ($("$target" --version))"
  exit 0
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup-infra: neither bicep nor dotnet is on PATH; cannot restore Azure.Bicep.CommandLine.linux-x64" >&2
  exit 1
fi

# The NuGet package ships the self-contained binary under tools/; restore only downloads it.
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
  dotnet restore tools/bicep/bicep.csproj --packages .tools/nuget -p:BicepVersion="$BICEP_VERSION" --verbosity quiet

mkdir -p .tools/bin
install -m 0755 "$package_dir/tools/bicep" "$target"
echo "bicep installed: $PWD/$target ($("$target" --version))"
