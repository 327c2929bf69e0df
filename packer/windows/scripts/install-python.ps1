# Installs Python (toolset.json python: a line or a pin) for all users from python.org's installer, verified before it runs, and checks `python --version`.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnPython {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnPythonRelease -Entry $Entry
    $installer = Save-KilnVerifiedDownload -Tool $tool
    Invoke-KilnInstaller -FilePath $installer -ArgumentList @($Entry.installArguments) -What "Python $($tool.Version)"
    Remove-Item -LiteralPath $installer -Force
    Assert-ToolOutput -Command 'python' -Arguments @('--version') -Pattern ('^Python ' + [regex]::Escape($tool.Version) + '$')
    Assert-ToolOutput -Command 'python' -Arguments @('-m', 'pip', '--version') -Pattern '^pip \d+'
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnPython -Entry (Get-Toolset).python }
