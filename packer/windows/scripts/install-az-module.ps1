# Installs the Az PowerShell module (version from toolset.json) for all users and checks it imports.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
$ProgressPreference = 'SilentlyContinue'
Install-PackageProvider -Name NuGet -MinimumVersion 2.8.5.201 -Force | Out-Null
Set-PSRepository -Name PSGallery -InstallationPolicy Trusted
Install-Module -Name $toolset.azPowerShell.module -RequiredVersion $toolset.azPowerShell.version -Scope AllUsers -Repository PSGallery -AllowClobber -Force
$installed = Get-Module -ListAvailable -Name $toolset.azPowerShell.module | Where-Object { $_.Version -eq [version] $toolset.azPowerShell.version }
if (-not $installed) { throw "Az $($toolset.azPowerShell.version) is not installed" }
Import-Module Az.Accounts -ErrorAction Stop
Write-Host "verified: Az $($toolset.azPowerShell.version) (Az.Accounts $((Get-Module Az.Accounts).Version) imports)"
