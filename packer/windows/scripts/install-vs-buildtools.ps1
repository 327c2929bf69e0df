# Installs Visual Studio 2022 Build Tools with the C++ workload, running the bootstrapper only once its Microsoft signature is valid, and checks it with vswhere.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Get-VsBuildToolsVersion {
    # The installed Build Tools' version with RequiredComponent, as vswhere reports it ('' if none).
    param([Parameter(Mandatory)] [string] $RequiredComponent)
    $vswhere = Join-Path ${env:ProgramFiles(x86)} 'Microsoft Visual Studio\Installer\vswhere.exe'
    if (-not (Test-Path -LiteralPath $vswhere)) { throw 'vswhere.exe is missing after the Build Tools install' }
    [string] (& $vswhere -products 'Microsoft.VisualStudio.Product.BuildTools' -requires $RequiredComponent -property installationVersion)
}

function Install-KilnVsBuildTools {
    param([Parameter(Mandatory)] $Entry)
    # The channel URL always serves the newest 17.x bootstrapper, so there is no checksum to know in
    # advance: its Authenticode signature (valid, Microsoft's) is the check. The installer it starts
    # verifies the signed payloads it downloads itself.
    $line = "$($Entry.majorVersion).x"
    $tool = New-KilnTool -Name 'vs-buildtools' -Version $line -Requested $line -Url $Entry.channelUrl -FileName 'vs_buildtools.exe' `
        -Publisher @($Entry.publisher) -Source $Entry.channelUrl
    $bootstrapper = Save-KilnVerifiedDownload -Tool $tool
    $arguments = @('--quiet', '--wait', '--norestart', '--nocache', '--includeRecommended')
    foreach ($workload in $Entry.workloads) { $arguments += @('--add', $workload) }
    # 3010: installed, restart required; the template restarts Windows right after this script.
    Invoke-KilnInstaller -FilePath $bootstrapper -ArgumentList $arguments -What 'Visual Studio Build Tools'
    Remove-Item -LiteralPath $bootstrapper -Force

    $version = Get-VsBuildToolsVersion -RequiredComponent $Entry.requiredComponent
    if (-not ($version -match ('^' + $Entry.majorVersion + '\.'))) { throw "Build Tools with $($Entry.requiredComponent) not found (vswhere: '$version')" }
    Write-Host "verified: Visual Studio Build Tools $version with $($Entry.requiredComponent)"
    $tool.Version = [string] $version
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnVsBuildTools -Entry (Get-Toolset).visualStudioBuildTools }
