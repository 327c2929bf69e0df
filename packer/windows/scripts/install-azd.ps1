# Installs the Azure Developer CLI (toolset.json azd: a line or a pin) from its GitHub release MSI, digest and Microsoft signature checked before it runs, and checks `azd version`.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnAzd {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnGitHubTool -Name 'azd' -Entry $Entry
    $msi = Save-KilnVerifiedDownload -Tool $tool
    Invoke-KilnInstaller -FilePath $msi -ArgumentList @('ALLUSERS=1') -What "azd $($tool.Version)"
    Remove-Item -LiteralPath $msi -Force
    # azd asks about telemetry and update checks on first run; neither belongs on a CI agent.
    [Environment]::SetEnvironmentVariable('AZURE_DEV_COLLECT_TELEMETRY', 'no', 'Machine')
    $env:AZURE_DEV_COLLECT_TELEMETRY = 'no'
    Assert-ToolOutput -Command 'azd' -Arguments @('version') -Pattern ('^azd version ' + [regex]::Escape($tool.Version) + ' ')
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnAzd -Entry (Get-Toolset).azd }
