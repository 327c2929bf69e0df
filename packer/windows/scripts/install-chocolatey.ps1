# Installs Chocolatey at the version pinned in toolset.json and checks `choco --version`.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

$env:chocolateyVersion = $toolset.chocolatey.version
$installer = Invoke-DownloadWithRetry -Url $toolset.chocolatey.installScriptUrl -Path (Join-Path $env:TEMP 'install-chocolatey.ps1')
& $installer
Update-SessionPath
& choco feature enable --name=allowGlobalConfirmation --limit-output
& choco feature disable --name=showDownloadProgress --limit-output
Assert-ToolOutput -Command 'choco' -Arguments @('--version') -Pattern ('^' + [regex]::Escape($toolset.chocolatey.version) + '$')
