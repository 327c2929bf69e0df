# Installs the Azure CLI (toolset.json azureCli: a line or a pin) from its GitHub release MSI, digest and Microsoft signature checked before it runs, and checks `az --version`.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnAzureCli {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnGitHubTool -Name 'azure-cli' -Entry $Entry
    $msi = Save-KilnVerifiedDownload -Tool $tool
    Invoke-KilnInstaller -FilePath $msi -What "Azure CLI $($tool.Version)"
    Remove-Item -LiteralPath $msi -Force
    Assert-ToolOutput -Command 'az' -Arguments @('--version') -Pattern ('^azure-cli\s+' + [regex]::Escape($tool.Version) + '(\s|$)')
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnAzureCli -Entry (Get-Toolset).azureCli }
