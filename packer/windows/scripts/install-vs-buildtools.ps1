# Installs Visual Studio 2022 Build Tools with the C++ workload and checks it with vswhere.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

$vs = $toolset.visualStudioBuildTools
$bootstrapper = Invoke-DownloadWithRetry -Url $vs.channelUrl -Path (Join-Path $env:TEMP 'vs_buildtools.exe')
$arguments = @('--quiet', '--wait', '--norestart', '--nocache', '--includeRecommended')
foreach ($workload in $vs.workloads) { $arguments += @('--add', $workload) }
$process = Start-Process -FilePath $bootstrapper -ArgumentList $arguments -Wait -PassThru
# 3010: installed, restart required; the template restarts Windows right after this script.
Assert-ExitCode -ExitCode $process.ExitCode -What 'Visual Studio Build Tools'
Remove-Item -LiteralPath $bootstrapper -Force

$vswhere = Join-Path ${env:ProgramFiles(x86)} 'Microsoft Visual Studio\Installer\vswhere.exe'
if (-not (Test-Path -LiteralPath $vswhere)) { throw 'vswhere.exe is missing after the Build Tools install' }
$version = & $vswhere -products 'Microsoft.VisualStudio.Product.BuildTools' -requires $vs.requiredComponent -property installationVersion
if (-not ($version -match ('^' + $vs.majorVersion + '\.'))) { throw "Build Tools with $($vs.requiredComponent) not found (vswhere: '$version')" }
Write-Host "verified: Visual Studio Build Tools $version with $($vs.requiredComponent)"
