# Installs Node.js (toolset.json nodejs: active LTS, a line or a pin) from nodejs.org's MSI, SHA-256 checked before it runs, and checks node and npm.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnNode {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnNodeRelease -Entry $Entry
    $msi = Save-KilnVerifiedDownload -Tool $tool
    Invoke-KilnInstaller -FilePath $msi -What "Node.js $($tool.Version)"
    Remove-Item -LiteralPath $msi -Force
    Assert-ToolOutput -Command 'node' -Arguments @('--version') -Pattern ('^v' + [regex]::Escape($tool.Version) + '$')
    Assert-ToolOutput -Command 'npm' -Arguments @('--version') -Pattern '^\d+\.\d+\.\d+$'
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnNode -Entry (Get-Toolset).nodejs }
