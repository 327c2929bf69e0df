# Pester tests of the Windows image's install scripts: a download whose checksum (or Authenticode
# signature) is not the vendor's stops the build BEFORE its installer starts (the installer command
# is never invoked, the file is deleted, no tool is recorded), and a verified one is installed and
# recorded. Get-AuthenticodeSignature does not exist on Linux: the one wrapper that calls it
# (Get-KilnAuthenticodeSignature) is mocked, so these tests prove how a signature is judged, not
# that Windows reports one as assumed. Downloads and indexes come from fixtures/ (no network).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:SavedImageFolder = $env:KILN_IMAGE_FOLDER
    $script:SavedTemp = $env:TEMP
    $env:KILN_IMAGE_FOLDER = Join-Path $script:RepoRoot 'packer/windows'
    Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1') -Force -DisableNameChecking
    foreach ($name in 'install-git', 'install-nodejs', 'install-python', 'install-cmake', 'install-azure-cli', 'install-azd', 'install-chocolatey',
        'install-ado-agent', 'install-vs-buildtools', 'configure-package-caches') {
        . (Join-Path $script:WindowsScripts "$name.ps1")
    }
    $script:Toolset = Get-Toolset
    $script:Microsoft = 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'
}

AfterAll {
    $env:KILN_IMAGE_FOLDER = $script:SavedImageFolder
    $env:TEMP = $script:SavedTemp
    $env:KILN_TOOL_RECORD_FOLDER = $null
}

Describe 'a download that is not what the vendor published' {
    BeforeEach {
        Use-FixtureWeb
        $env:TEMP = Join-Path $TestDrive ('downloads-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        New-Item -ItemType Directory -Path $env:TEMP | Out-Null
        $env:KILN_TOOL_RECORD_FOLDER = Join-Path $env:TEMP 'records'
        Mock Invoke-KilnInstaller { }
        Mock Invoke-ChocolateyPackageInstall { }
        Mock Expand-KilnAgent { }
        Mock Assert-ToolOutput { }
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'Valid' -Subject $script:Microsoft }
        $script:DownloadOverride = 'a file some mirror or proxy swapped in'
    }

    It 'stops <Name> before its installer starts (<Check>)' -ForEach @(
        @{ Name = 'git'; File = 'Git-2.47.1.2-64-bit.exe'; Check = 'GitHub asset digest'; Installer = 'Invoke-KilnInstaller'; Run = { Install-KilnGit -Entry $script:Toolset.git } }
        @{ Name = 'node'; File = 'node-v22.12.0-x64.msi'; Check = 'SHASUMS256.txt'; Installer = 'Invoke-KilnInstaller'; Run = { Install-KilnNode -Entry $script:Toolset.nodejs } }
        @{ Name = 'python'; File = 'python-3.13.1-amd64.exe'; Check = 'python.org sha256_sum'; Installer = 'Invoke-KilnInstaller'; Run = { Install-KilnPython -Entry ([pscustomobject]@{ version = '3.13.x'; installArguments = @('/quiet') }) } }
        @{ Name = 'cmake'; File = 'cmake-3.31.2-windows-x86_64.msi'; Check = 'cmake-3.31.2-SHA-256.txt'; Installer = 'Invoke-KilnInstaller'; Run = { Install-KilnCMake -Entry $script:Toolset.cmake } }
        @{ Name = 'azure-cli'; File = 'azure-cli-2.67.0-x64.msi'; Check = 'GitHub asset digest'; Installer = 'Invoke-KilnInstaller'; Run = { Install-KilnAzureCli -Entry $script:Toolset.azureCli } }
        @{ Name = 'azd'; File = 'azd-windows-amd64.msi'; Check = 'GitHub asset digest'; Installer = 'Invoke-KilnInstaller'; Run = { Install-KilnAzd -Entry $script:Toolset.azd } }
        @{ Name = 'chocolatey'; File = 'chocolatey.2.4.3.zip'; Check = 'feed SHA-512'; Installer = 'Invoke-ChocolateyPackageInstall'; Run = { Install-KilnChocolatey -Entry $script:Toolset.chocolatey } }
        @{ Name = 'azure-pipelines-agent'; File = 'vsts-agent-win-x64-4.269.0.zip'; Check = 'release notes SHA-256'; Installer = 'Expand-KilnAgent'; Run = { Install-KilnAdoAgent -Entry $script:Toolset.adoAgent -Version 'latest' -Root (Join-Path $TestDrive 'agent') } }
        @{ Name = 'pip'; File = 'pip-24.3.1-py3-none-any.whl'; Check = 'index SHA-256'; Installer = 'python'; Run = { Install-KilnPip -Entry $script:Toolset.pip } }
    ) {
        Mock python { }
        { & $Run } | Should -Throw '*is not what the vendor released*'
        Should -Invoke $Installer -Times 0 -Exactly -Because 'the installer must never start on an unverified download'
        Should -Invoke Assert-ToolOutput -Times 0 -Exactly
        $script:Downloads.Count | Should -Be 1
        Join-Path $env:TEMP $File | Should -Not -Exist -Because 'the refused download is deleted'
        Join-Path $env:TEMP 'records' | Should -Not -Exist -Because 'nothing is recorded as installed'
    }

    It 'stops the Azure CLI when its digest holds but the MSI is not validly signed by Microsoft' {
        $script:DownloadOverride = $null
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'Valid' -Subject 'CN=Contoso Ltd, O=Contoso Ltd' }
        { Install-KilnAzureCli -Entry $script:Toolset.azureCli } | Should -Throw "*azure-cli 2.67.0 (azure-cli-2.67.0-x64.msi) is refused: it is signed by 'Contoso Ltd', not by 'Microsoft Corporation'*"
        Should -Invoke Invoke-KilnInstaller -Times 0 -Exactly
        Join-Path $env:TEMP 'azure-cli-2.67.0-x64.msi' | Should -Not -Exist
    }

    It 'stops Python when python.org gives no SHA-256 and the installer''s signature is not valid' {
        $script:DownloadOverride = $null
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'HashMismatch' -Subject 'CN=Python Software Foundation, O=Python Software Foundation' -StatusMessage 'The file was changed after it was signed' }
        { Install-KilnPython -Entry $script:Toolset.python } | Should -Throw '*python 3.12.10 (python-3.12.10-amd64.exe) is refused: its Authenticode signature is not valid (status HashMismatch: The file was changed after it was signed)*'
        Should -Invoke Invoke-KilnInstaller -Times 0 -Exactly
    }

    It 'stops the VS Build Tools bootstrapper when it is <Why>' -ForEach @(
        @{ Why = 'not signed'; Status = 'NotSigned'; Subject = $null; Message = "*its Authenticode signature is not valid (status NotSigned*" }
        @{ Why = 'signed by someone else'; Status = 'Valid'; Subject = 'CN="Contoso, Inc.", O="Contoso, Inc."'; Message = "*it is signed by 'Contoso, Inc.', not by 'Microsoft Corporation'*" }
        @{ Why = 'signed by a certificate Windows does not trust'; Status = 'UnknownError'; Subject = 'CN=Microsoft Corporation'; Message = '*not valid (status UnknownError*' }
    ) {
        $script:DownloadOverride = $null
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status $Status -Subject $Subject }
        { Install-KilnVsBuildTools -Entry $script:Toolset.visualStudioBuildTools } | Should -Throw $Message
        Should -Invoke Invoke-KilnInstaller -Times 0 -Exactly
        Join-Path $env:TEMP 'vs_buildtools.exe' | Should -Not -Exist
    }
}

Describe 'a verified download' {
    BeforeEach {
        Use-FixtureWeb
        $env:TEMP = Join-Path $TestDrive ('downloads-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        New-Item -ItemType Directory -Path $env:TEMP | Out-Null
        $env:KILN_TOOL_RECORD_FOLDER = Join-Path $env:TEMP 'records'
        Mock Invoke-KilnInstaller { }
        Mock Assert-ToolOutput { }
        Mock git { }
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'Valid' -Subject $script:Microsoft }
    }

    It 'is installed with the toolset''s arguments, checked at the resolved version and recorded' {
        Install-KilnGit -Entry $script:Toolset.git
        Should -Invoke Invoke-KilnInstaller -Times 1 -Exactly -ParameterFilter {
            $FilePath -eq (Join-Path $env:TEMP 'Git-2.47.1.2-64-bit.exe') -and ($ArgumentList -join ' ') -eq ($script:Toolset.git.installArguments -join ' ')
        }
        Should -Invoke Assert-ToolOutput -ParameterFilter { $Command -eq 'git' -and '2.47.1.windows.2' -match $Pattern -and 'git version 2.47.1.windows.2' -match $Pattern -and -not ('2.47.1.windows.21' -match $Pattern) }
        $record = Get-Content -Raw -LiteralPath (Join-Path $env:TEMP 'records/git.json') | ConvertFrom-Json
        $record.name | Should -Be 'git'
        $record.version | Should -Be '2.47.1.windows.2'
        $record.requested | Should -Be 'latest'
        $record.verifiedBy | Should -Be 'sha256'
        $record.source | Should -Be 'https://github.com/git-for-windows/git/releases/tag/v2.47.1.windows.2'
    }

    It 'records the VS Build Tools as verified by Authenticode, at the version vswhere reports' {
        Mock Get-VsBuildToolsVersion { '17.12.35527.113' }
        Install-KilnVsBuildTools -Entry $script:Toolset.visualStudioBuildTools
        Should -Invoke Invoke-KilnInstaller -Times 1 -Exactly -ParameterFilter { $ArgumentList -contains 'Microsoft.VisualStudio.Workload.VCTools' }
        $record = Get-Content -Raw -LiteralPath (Join-Path $env:TEMP 'records/vs-buildtools.json') | ConvertFrom-Json
        $record.version | Should -Be '17.12.35527.113'
        $record.requested | Should -Be '17.x'
        $record.verifiedBy | Should -Be 'authenticode'
    }
}

Describe 'Assert-KilnAuthenticode (the Authenticode check, its Windows call mocked)' {
    BeforeEach {
        $script:File = Join-Path $TestDrive 'setup.exe'
        Set-Content -LiteralPath $script:File -Value 'installer'
    }

    It 'accepts a valid signature by the named publisher, the common name read from the certificate' {
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'Valid' -Subject 'CN="Chocolatey Software, Inc.", O="Chocolatey Software, Inc.", L=Topeka, S=Kansas, C=US' }
        { Assert-KilnAuthenticode -Path $script:File -Publisher 'Chocolatey Software, Inc.' -What 'install.ps1' } | Should -Not -Throw
        $script:File | Should -Exist
        Should -Invoke Get-KilnAuthenticodeSignature -ModuleName ImageHelpers -Times 1 -Exactly -ParameterFilter { $Path -eq $script:File }
    }

    It 'refuses an unsigned file and deletes it' {
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'NotSigned' -StatusMessage 'The file is not digitally signed.' }
        { Assert-KilnAuthenticode -Path $script:File -Publisher 'Microsoft Corporation' -What 'vs-buildtools 17.x' } |
            Should -Throw '*vs-buildtools 17.x (setup.exe) is refused: its Authenticode signature is not valid (status NotSigned: The file is not digitally signed.)*'
        $script:File | Should -Not -Exist
    }

    It 'refuses a valid signature by another signer and deletes the file' {
        Mock Get-KilnAuthenticodeSignature -ModuleName ImageHelpers { New-TestSignature -Status 'Valid' -Subject 'CN=Microsoft Corporation Fake, O=Evil' }
        { Assert-KilnAuthenticode -Path $script:File -Publisher 'Microsoft Corporation' -What 'azd 1.11.1' } |
            Should -Throw "*it is signed by 'Microsoft Corporation Fake', not by 'Microsoft Corporation'*"
        $script:File | Should -Not -Exist
    }
}

Describe 'Invoke-KilnInstaller' {
    It 'runs an MSI quietly through msiexec with its properties, and an installer with or without arguments' {
        Mock Start-Process -ModuleName ImageHelpers { [pscustomobject]@{ ExitCode = 0 } }
        Invoke-KilnInstaller -FilePath 'C:\t\cmake.msi' -ArgumentList @('ADD_CMAKE_TO_PATH=System') -What 'CMake'
        Should -Invoke Start-Process -ModuleName ImageHelpers -Times 1 -Exactly -ParameterFilter {
            $FilePath -eq 'msiexec.exe' -and ($ArgumentList -join ' ') -eq '/i "C:\t\cmake.msi" /qn /norestart ADD_CMAKE_TO_PATH=System'
        }
        Invoke-KilnInstaller -FilePath 'C:\t\setup.exe' -What 'setup'
        Should -Invoke Start-Process -ModuleName ImageHelpers -Times 1 -Exactly -ParameterFilter { $FilePath -eq 'C:\t\setup.exe' -and $null -eq $ArgumentList }
    }

    It 'fails on an installer exit code other than success or restart-needed' {
        Mock Start-Process -ModuleName ImageHelpers { [pscustomobject]@{ ExitCode = 1603 } }
        { Invoke-KilnInstaller -FilePath 'C:\t\node.msi' -What 'Node.js 22.12.0' } | Should -Throw '*Node.js 22.12.0 failed with exit code 1603*'
    }
}
