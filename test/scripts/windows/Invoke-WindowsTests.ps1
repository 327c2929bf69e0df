# Runs the Pester suites of a folder (default: this one, the Windows image's; test/infra/run.sh
# passes test/infra/hooks) with Pester 5.7.1 from .tools/ (put there by .ci/setup-windows-image.sh)
# and prints one summary line. Exit code: 0 only if at least one test ran and none failed.
param(
    [Parameter(Mandatory)] [string] $PesterModulePath,
    [string] $ResultPath,
    [string] $TestPath = $PSScriptRoot
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $PesterModulePath -Force

$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = 'Detailed'
if ($ResultPath) {
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'JUnitXml'
    $config.TestResult.OutputPath = $ResultPath
}
$result = Invoke-Pester -Configuration $config
if ($null -eq $result) {
    # Pester reports some setup problems (no test file found) without a result object.
    Write-Host 'pester: 0 passed, 1 failed, 0 skipped'
    Write-Host 'pester: no test ran'
    exit 1
}

$failed = [int] $result.FailedCount + [int] $result.FailedBlocksCount + [int] $result.FailedContainersCount
Write-Host ("pester: {0} passed, {1} failed, {2} skipped" -f [int] $result.PassedCount, $failed, [int] $result.SkippedCount)
if (-not ([int] $result.PassedCount -gt 0)) {
    Write-Host 'pester: no test ran'
    exit 1
}
if ($failed -gt 0) { exit 1 }
exit 0
