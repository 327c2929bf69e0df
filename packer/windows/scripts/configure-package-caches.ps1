# Installs yarn and pnpm globally with npm and upgrades pip from its verified wheel, each on its toolset.json line.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnNodePackage {
    # npm checks the package against the registry's integrity hash (sha512) as it installs.
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnNpmPackage -Entry $Entry
    & npm install --global --no-fund --no-audit "$($tool.Name)@$($tool.Version)"
    if ($LASTEXITCODE -ne 0) { throw "npm install -g $($tool.Name)@$($tool.Version) failed ($LASTEXITCODE)" }
    Assert-ToolOutput -Command $tool.Name -Arguments @('--version') -Pattern ('^' + [regex]::Escape($tool.Version) + '$')
    Add-KilnToolRecord -Tool $tool
}

function Install-KilnPip {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnPipWheel -Entry $Entry
    $wheel = Save-KilnVerifiedDownload -Tool $tool
    & python -m pip install --upgrade --no-warn-script-location --no-index $wheel
    if ($LASTEXITCODE -ne 0) { throw "pip upgrade to $($tool.Version) failed ($LASTEXITCODE)" }
    Remove-Item -LiteralPath $wheel -Force
    Assert-ToolOutput -Command 'python' -Arguments @('-m', 'pip', '--version') -Pattern ('^pip ' + [regex]::Escape($tool.Version) + ' ')
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') {
    $toolset = Get-Toolset
    foreach ($package in $toolset.nodePackages) { Install-KilnNodePackage -Entry $package }
    Install-KilnPip -Entry $toolset.pip
}
