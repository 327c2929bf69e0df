# Pre-caches yarn and pnpm (global npm installs) and upgrades pip, at the versions in toolset.json.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

foreach ($package in $toolset.nodePackages) {
    & npm install --global --no-fund --no-audit "$($package.name)@$($package.version)"
    if ($LASTEXITCODE -ne 0) { throw "npm install -g $($package.name)@$($package.version) failed ($LASTEXITCODE)" }
    Assert-ToolOutput -Command $package.name -Arguments @('--version') -Pattern ('^' + [regex]::Escape($package.version) + '$')
}
& python -m pip install --upgrade --no-warn-script-location "pip==$($toolset.pip.version)"
if ($LASTEXITCODE -ne 0) { throw "pip upgrade failed ($LASTEXITCODE)" }
Assert-ToolOutput -Command 'python' -Arguments @('-m', 'pip', '--version') -Pattern ('^pip ' + [regex]::Escape($toolset.pip.version) + ' ')
