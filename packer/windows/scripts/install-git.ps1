# Installs Git for Windows (toolset.json git: a line or a pin) from its GitHub release, verified before it runs, and checks `git --version`.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1')

function Install-KilnGit {
    param([Parameter(Mandatory)] $Entry)
    $tool = Resolve-KilnGitHubTool -Name 'git' -Entry $Entry
    $installer = Save-KilnVerifiedDownload -Tool $tool
    Invoke-KilnInstaller -FilePath $installer -ArgumentList @($Entry.installArguments) -What "Git for Windows $($tool.Version)"
    Remove-Item -LiteralPath $installer -Force
    Assert-ToolOutput -Command 'git' -Arguments @('--version') -Pattern (Get-KilnVersionPattern $tool.Version)
    # Agents check out into paths deeper than MAX_PATH.
    & git config --system core.longpaths true
    Assert-ToolOutput -Command 'git' -Arguments @('config', '--system', 'core.longpaths') -Pattern '^true$'
    Add-KilnToolRecord -Tool $tool
}

if ($MyInvocation.InvocationName -ne '.') { Install-KilnGit -Entry (Get-Toolset).git }
