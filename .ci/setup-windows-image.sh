#!/usr/bin/env bash
# Installs what the Windows image tests need on a fresh Debian 12 machine (run as root after
# apt-get update; safe to run again): packer from apt, Pester 5.7.1 from NuGet, and, when no pwsh is
# on PATH, real PowerShell 7.6.9 hosted by tools/pwsh-host (NuGet Microsoft.PowerShell.SDK).
# Everything built lands in the git-ignored .tools/ folder; NuGet's own cache makes reruns fast.
set -euo pipefail
cd "$(dirname "$0")/.."

PESTER_VERSION=5.7.1
TOOLS=.tools/windows-image

if ! command -v packer >/dev/null 2>&1; then
  echo "setup-windows-image: installing packer from apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq packer >/dev/null
fi
packer version

if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-windows-image: installing python3 from apt (the fake IMDS / Key Vault server)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
fi

# Restore brings Pester (a PackageDownload) and the PowerShell SDK into the NuGet cache; the build
# is incremental, so a second run costs a few seconds.
echo "setup-windows-image: restoring tools/pwsh-host (PowerShell SDK 7.6.9, Pester $PESTER_VERSION)"
dotnet restore tools/pwsh-host/PwshHost.csproj --verbosity quiet
if command -v pwsh >/dev/null 2>&1; then
  echo "setup-windows-image: using pwsh from PATH: $(command -v pwsh)"
else
  echo "setup-windows-image: building the PowerShell host"
  dotnet build tools/pwsh-host/PwshHost.csproj -c Release --no-restore --nologo --verbosity quiet
fi

# Pester is a plain module folder inside its NuGet package: copy it to a fixed place the tests
# import from (module path layout <root>/Pester/<version>/Pester.psd1).
nuget_root="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
pester_src="$nuget_root/pester/$PESTER_VERSION/tools"
pester_dst="$TOOLS/modules/Pester/$PESTER_VERSION"
if [ ! -f "$pester_dst/Pester.psd1" ]; then
  [ -f "$pester_src/Pester.psd1" ] || { echo "setup-windows-image: Pester not found in $pester_src" >&2; exit 1; }
  mkdir -p "$pester_dst"
  cp -R "$pester_src/." "$pester_dst/"
fi
echo "setup-windows-image: Pester $PESTER_VERSION ready in $pester_dst"
