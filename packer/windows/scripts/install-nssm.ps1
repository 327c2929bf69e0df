# Installs NSSM (the service wrapper that makes AdoBootstrap a real Windows service) and checks it runs.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.nssm.package -Version $toolset.nssm.version
$nssm = Get-Command 'nssm.exe' -ErrorAction SilentlyContinue
if (-not $nssm) { throw 'nssm.exe is not on PATH after its install' }
# `nssm version` prints its banner and exits 0 on 2.24-101.
Assert-ToolOutput -Command 'nssm.exe' -Arguments @('version') -Pattern 'NSSM'
