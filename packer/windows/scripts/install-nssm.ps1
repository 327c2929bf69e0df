# Installs NSSM (the service wrapper that makes AdoBootstrap a real Windows service) with Chocolatey at its pinned version and checks it runs.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnNssm {
    param([Parameter(Mandatory)] $Entry)
    # A community package: choco checks every file the package downloads against the checksums the
    # package carries, and --require-checksums makes a download without one fail the install.
    Install-ChocoPackage -Name $Entry.package -Version $Entry.version -RequireChecksums
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
    Add-KilnToolRecord -Name 'nssm' -Version $Entry.version -Requested $Entry.version -Source "https://community.chocolatey.org/packages/$($Entry.package)/$($Entry.version)" -VerifiedBy 'chocolatey-checksum'
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnNssm -Entry (Get-Toolset).nssm }
