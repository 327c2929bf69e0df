# Installs the Azure Developer CLI (azd) from its release MSI (version from toolset.json) and checks `azd version`.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

$url = $toolset.azd.msiUrl -f $toolset.azd.version
$msi = Invoke-DownloadWithRetry -Url $url -Path (Join-Path $env:TEMP 'azd-windows-amd64.msi')
$process = Start-Process -FilePath 'msiexec.exe' -ArgumentList @('/i', "`"$msi`"", '/qn', '/norestart', 'ALLUSERS=1') -Wait -PassThru
Assert-ExitCode -ExitCode $process.ExitCode -What 'azd MSI'
Remove-Item -LiteralPath $msi -Force
# azd asks about telemetry and update checks on first run; neither belongs on a CI agent.
[Environment]::SetEnvironmentVariable('AZURE_DEV_COLLECT_TELEMETRY', 'no', 'Machine')
$env:AZURE_DEV_COLLECT_TELEMETRY = 'no'
Assert-ToolOutput -Command 'azd' -Arguments @('version') -Pattern $toolset.azd.versionPattern
