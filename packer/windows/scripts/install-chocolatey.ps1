# Installs Chocolatey (toolset.json chocolatey: a line or a pin) from its feed's nupkg, SHA-512 checked before it runs, and checks `choco --version`.
<#
    Why the nupkg and not https://community.chocolatey.org/install.ps1: install.ps1 is Authenticode
    signed, but it then downloads the chocolatey nupkg and runs the package's own
    tools\chocolateyInstall.ps1 without checking that nupkg. Checking the nupkg itself against the
    SHA-512 the feed publishes for it (PackageHash) covers everything that runs, and resolving the
    version from the same feed lets the toolset name a line. After that check, this does what
    install.ps1 does: unpack the nupkg, run its tools\chocolateyInstall.ps1, keep the nupkg in
    lib\chocolatey. Packages installed with choco afterwards (nssm) are checked by choco against
    their own checksums.
#>
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Invoke-ChocolateyPackageInstall {
    # Runs the verified package's own installer script (what install.ps1 runs after its download).
    param([Parameter(Mandatory)] [string] $PackageFolder)
    & (Join-Path $PackageFolder 'tools\chocolateyInstall.ps1')
}

function Install-KilnChocolatey {
    param([Parameter(Mandatory)] $Entry)
    $line = [string] $Entry.version
    # A pin carries the nupkg's SHA-512 (hex), the digest the feed publishes.
    $pinned = $null
    if ((Get-KilnVersionLine $line).Kind -eq 'pin') {
        $pinned = ([string] (Get-KilnProperty $Entry 'sha512' '')).ToLowerInvariant()
        if ($pinned -notmatch '^[0-9a-f]{128}$') { throw "chocolatey is pinned to $line in toolset.json without its checksum: add `"sha512`": `"<SHA-512 of chocolatey.$line.nupkg, hex>`" beside the version, or use latest" }
    }
    $package = Resolve-KilnNuGetPackage -Name 'chocolatey' -FeedUrl $Entry.feedUrl -Id 'chocolatey' -Line $line
    if ($pinned -and $pinned -ne $package.Hash) { throw "chocolatey $line`: toolset.json pins SHA-512 $pinned but the feed publishes $($package.Hash): not installing it" }
    $tool = New-KilnTool -Name 'chocolatey' -Version $package.Version -Requested $line -Url $package.Url -FileName "chocolatey.$($package.Version).zip" `
        -Hash $package.Hash -HashAlgorithm 'SHA512' -HashSource "$($Entry.feedUrl) (PackageHash)" -Source $package.Url -VerifiedBy 'chocolatey-checksum'
    # A .zip name: Windows PowerShell's Expand-Archive refuses any other extension.
    $nupkg = Save-KilnVerifiedDownload -Tool $tool
    $folder = Join-Path (Get-KilnTempFolder) 'chocolatey-package'
    Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
    Expand-KilnZip -Path $nupkg -Destination $folder
    Invoke-ChocolateyPackageInstall -PackageFolder $folder
    $chocolateyPath = [Environment]::GetEnvironmentVariable('ChocolateyInstall', 'Machine')
    if (-not $chocolateyPath) { $chocolateyPath = Join-Path $env:ProgramData 'chocolatey' }
    $lib = Join-Path $chocolateyPath 'lib\chocolatey'
    New-Item -ItemType Directory -Path $lib -Force | Out-Null
    Copy-Item -LiteralPath $nupkg -Destination (Join-Path $lib 'chocolatey.nupkg') -Force
    Remove-Item -LiteralPath $nupkg, $folder -Recurse -Force
    Update-SessionPath
    & choco feature enable --name=allowGlobalConfirmation --limit-output
    & choco feature disable --name=showDownloadProgress --limit-output
    Assert-ToolOutput -Command 'choco' -Arguments @('--version') -Pattern ('^' + [regex]::Escape($tool.Version) + '$')
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnChocolatey -Entry (Get-Toolset).chocolatey }
