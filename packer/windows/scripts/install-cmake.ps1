# Installs CMake (toolset.json cmake: a line or a pin) on the system PATH from Kitware's MSI, checked against its SHA-256 list before it runs, and checks `cmake --version`.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnCMake {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnGitHubTool -Name 'cmake' -Entry $Entry
    $msi = Save-KilnVerifiedDownload -Tool $tool
    Invoke-KilnInstaller -FilePath $msi -ArgumentList @($Entry.installArguments) -What "CMake $($tool.Version)"
    Remove-Item -LiteralPath $msi -Force
    Assert-ToolOutput -Command 'cmake' -Arguments @('--version') -Pattern ('^cmake version ' + [regex]::Escape($tool.Version) + '$')
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnCMake -Entry (Get-Toolset).cmake }
