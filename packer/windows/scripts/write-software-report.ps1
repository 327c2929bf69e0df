# Writes the image's software report (C:\kiln\software-report.json and .md, docs/software-report.md) from the tool records, and the SPDX SBOM when asked.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Invoke-KilnSyft {
    # Runs syft over the system drive (Windows itself, users' folders and the page file excluded).
    param([Parameter(Mandatory)] [string] $Syft, [Parameter(Mandatory)] [string] $Output)
    $arguments = @('scan', "dir:$($env:SystemDrive)\", '--output', "spdx-json=$Output", '--quiet',
        '--exclude', './Windows/**', '--exclude', './Users/**', '--exclude', './$Recycle.Bin/**', '--exclude', './System Volume Information/**', '--exclude', './pagefile.sys')
    & $Syft @arguments
    if ($LASTEXITCODE -ne 0) { throw "syft failed with exit code $LASTEXITCODE" }
}

function New-KilnSbom {
    # syft at toolset.json's pinned version, checked against its release's checksums file before it
    # runs, unpacked in the build folder (removed before Sysprep, so it is not part of the image).
    param([Parameter(Mandatory)] $Entry, [Parameter(Mandatory)] [string] $ReportFolder)
    $tool = Resolve-KilnGitHubTool -Name 'syft' -Entry $Entry -PinVerifiedByChecksumsAsset
    $zip = Save-KilnVerifiedDownload -Tool $tool
    $folder = Join-Path (Get-ImageFolder) 'syft'
    Expand-KilnZip -Path $zip -Destination $folder
    Remove-Item -LiteralPath $zip -Force
    $file = 'sbom.spdx.json'
    Invoke-KilnSyft -Syft (Join-Path $folder 'syft.exe') -Output (Join-Path $ReportFolder $file)
    [pscustomobject]@{ format = 'spdx-json'; file = $file; generator = "syft $($tool.Version)" }
}

function Write-KilnImageReport {
    param([Parameter(Mandatory)] $Toolset, [Parameter(Mandatory)] [string] $ReportFolder, [switch] $Sbom)
    $tools = @(Get-KilnToolRecords)
    $sbomInfo = $null
    if ($Sbom) {
        New-Item -ItemType Directory -Path $ReportFolder -Force | Out-Null
        $sbomInfo = New-KilnSbom -Entry $Toolset.sbom -ReportFolder $ReportFolder
    }
    $report = New-KilnSoftwareReport -BaseImage $Toolset.baseImage -Os (Get-KilnOsInfo) -ImageReference (Get-KilnImageReference) -Tools $tools -Sbom $sbomInfo
    Write-KilnSoftwareReport -Report $report -Folder $ReportFolder
}

if ($MyInvocation.InvocationName -ne '.') {
    if (-not $env:KILN_REPORT_FOLDER) { throw 'KILN_REPORT_FOLDER is not set' }
    $null = Write-KilnImageReport -Toolset (Get-Toolset) -ReportFolder $env:KILN_REPORT_FOLDER -Sbom:($env:KILN_SBOM_ENABLED -eq 'true')
}
