# Installs NSSM (the service wrapper that makes AdoBootstrap a real Windows service) and checks it runs.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.nssm.package -Version $toolset.nssm.version
$nssm = Get-Command 'nssm.exe' -ErrorAction SilentlyContinue
if (-not $nssm) { throw 'nssm.exe is not on PATH after its install' }
# NSSM has no version switch: without arguments it prints its usage and exits non-zero. Its text may
# come back as UTF-16, hence the NULs stripped before matching.
$ErrorActionPreference = 'Continue'
$usage = ((& nssm.exe 2>&1 | ForEach-Object { [string] $_ }) -join "`n") -replace "`0", ''
$ErrorActionPreference = 'Stop'
# Packer's powershell provisioner exits with the last native exit code: do not leak nssm's.
$global:LASTEXITCODE = 0
if ($usage -notmatch 'nssm install') { throw "nssm.exe does not answer with its usage: $usage" }
Write-Host "verified: nssm.exe at $($nssm.Source) answers"
