# Installs the Az PowerShell module (toolset.json azPowerShell: a line or a pin) for all users once every module of it is validly signed by Microsoft, and checks it imports.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Save-KilnModule {
    # Save-Module (not Install-Module): Az and its dependencies land in a staging folder first.
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Version, [Parameter(Mandatory)] [string] $Path)
    Save-Module -Name $Name -RequiredVersion $Version -Path $Path -Repository PSGallery -Force
}

function Install-KilnAzModule {
    param([Parameter(Mandatory)] $Entry)
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $ProgressPreference = 'SilentlyContinue'
    $line = [string] $Entry.version
    $package = Resolve-KilnNuGetPackage -Name 'az-powershell' -FeedUrl $Entry.feedUrl -Id $Entry.module -Line $line
    Install-PackageProvider -Name NuGet -MinimumVersion 2.8.5.201 -Force | Out-Null
    Set-PSRepository -Name PSGallery -InstallationPolicy Trusted
    $staging = Join-Path (Get-KilnTempFolder) 'az-modules'
    Remove-Item -LiteralPath $staging -Recurse -Force -ErrorAction SilentlyContinue
    New-Item -ItemType Directory -Path $staging -Force | Out-Null
    Save-KilnModule -Name $Entry.module -Version $package.Version -Path $staging
    # Every saved module's manifest must carry a valid signature by the publisher before any of them
    # is put where PowerShell loads modules from; one that does not stops the build.
    $manifests = @(Get-ChildItem -LiteralPath $staging -Recurse -Filter '*.psd1' | Where-Object { $_.BaseName -eq $_.Directory.Parent.Name })
    if ($manifests.Count -eq 0) { throw "Save-Module left no module manifest in $staging" }
    foreach ($manifest in $manifests) {
        Assert-KilnAuthenticode -Path $manifest.FullName -Publisher @($Entry.publisher) -What "module $($manifest.BaseName)"
    }
    $modules = Join-Path $env:ProgramFiles 'WindowsPowerShell\Modules'
    foreach ($folder in Get-ChildItem -LiteralPath $staging -Directory) {
        Copy-Item -LiteralPath $folder.FullName -Destination $modules -Recurse -Force
    }
    Remove-Item -LiteralPath $staging -Recurse -Force
    $installed = Get-Module -ListAvailable -Name $Entry.module | Where-Object { $_.Version -eq [version] $package.Version }
    if (-not $installed) { throw "Az $($package.Version) is not installed" }
    Import-Module Az.Accounts -ErrorAction Stop
    Write-Host "verified: Az $($package.Version) (Az.Accounts $((Get-Module Az.Accounts).Version) imports; $($manifests.Count) modules signed by $($Entry.publisher))"
    Add-KilnToolRecord -Name 'az-powershell' -Version $package.Version -Requested $line -Source $package.Url -VerifiedBy 'authenticode'
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnAzModule -Entry (Get-Toolset).azPowerShell }
