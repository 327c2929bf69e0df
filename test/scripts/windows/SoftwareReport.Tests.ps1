# Pester tests of the Windows image's software report (docs/software-report.md): the tool records
# the install steps leave (Add-KilnToolRecord), the report write-software-report.ps1 makes of them
# (every JSON field the format names, UTF-8 without a byte order mark, the Markdown table), the
# optional SBOM step (syft resolved, checked against its checksums file, run) and the image checks
# that read the records back. The OS (CIM, registry), IMDS and syft are Windows or VM only: mocked.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:SavedImageFolder = $env:KILN_IMAGE_FOLDER
    $script:SavedTemp = $env:TEMP
    $env:KILN_IMAGE_FOLDER = Join-Path $script:RepoRoot 'packer/windows'
    Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts/helpers/ImageHelpers.psm1') -Force -DisableNameChecking
    . (Join-Path $script:WindowsScripts 'write-software-report.ps1')
    . (Join-Path $script:WindowsScripts 'test-image-tools.ps1')
    $script:Toolset = Get-Toolset

    function Add-SampleRecords {
        Add-KilnToolRecord -Name 'node' -Version '22.12.0' -Requested 'active LTS' -Source 'https://nodejs.org/dist/v22.12.0/' -VerifiedBy 'sha256'
        Add-KilnToolRecord -Name 'azure-pipelines-agent' -Version '4.269.0' -Requested '4.269.0' -Source 'https://github.com/microsoft/azure-pipelines-agent/releases/tag/v4.269.0' -VerifiedBy 'sha256'
        Add-KilnToolRecord -Name 'git' -Version '2.47.1.windows.2' -Requested 'latest' -Source 'https://github.com/git-for-windows/git/releases/tag/v2.47.1.windows.2' -VerifiedBy 'sha256'
        Add-KilnToolRecord -Name 'vs-buildtools' -Version '17.12.35527.113' -Requested '17.x' -Source 'https://aka.ms/vs/17/release/vs_buildtools.exe' -VerifiedBy 'authenticode'
        Add-KilnToolRecord -Name 'nssm' -Version '2.24.101.20180116' -Requested '2.24.101.20180116' -Source 'https://community.chocolatey.org/packages/nssm/2.24.101.20180116' -VerifiedBy 'chocolatey-checksum'
    }
}

AfterAll {
    $env:KILN_IMAGE_FOLDER = $script:SavedImageFolder
    $env:TEMP = $script:SavedTemp
    $env:KILN_TOOL_RECORD_FOLDER = $null
}

Describe 'the software report' {
    BeforeEach {
        $env:KILN_TOOL_RECORD_FOLDER = Join-Path $TestDrive ('records-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $script:ReportFolder = Join-Path $TestDrive ('kiln-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        Mock Get-KilnOsInfo { [pscustomobject]@{ name = 'Microsoft Windows Server 2022 Datacenter: Azure Edition'; version = '10.0.20348'; build = '10.0.20348.2849' } }
        Mock Get-KilnImageReference { [pscustomobject]@{ publisher = 'MicrosoftWindowsServer'; offer = 'WindowsServer'; sku = '2022-datacenter-azure-edition'; version = 'latest'; exactVersion = '20348.2849.241205' } }
    }

    It 'writes software-report.json with every field of docs/software-report.md' {
        Add-SampleRecords
        $null = Write-KilnImageReport -Toolset $script:Toolset -ReportFolder $script:ReportFolder
        $json = Get-Content -Raw -LiteralPath (Join-Path $script:ReportFolder 'software-report.json')
        $report = $json | ConvertFrom-Json
        $report.schemaVersion | Should -Be 1
        $report.image | Should -Be 'windows'
        # Read from the text: PowerShell 7's ConvertFrom-Json turns the timestamp into a DateTime.
        $json | Should -Match '"generatedAt":\s*"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"'
        $report.os.name | Should -Be 'Microsoft Windows Server 2022 Datacenter: Azure Edition'
        $report.os.version | Should -Be '10.0.20348'
        $report.os.build | Should -Be '10.0.20348.2849'
        $report.baseImage.publisher | Should -Be 'MicrosoftWindowsServer'
        $report.baseImage.offer | Should -Be 'WindowsServer'
        $report.baseImage.sku | Should -Be '2022-datacenter-azure-edition'
        $report.baseImage.version | Should -Be '20348.2849.241205' -Because 'IMDS exactVersion is what latest was when the VM was made'
        $report.agent.name | Should -Be 'azure-pipelines-agent'
        $report.agent.version | Should -Be '4.269.0'
        @($report.tools.name) | Should -Be @('azure-pipelines-agent', 'git', 'node', 'nssm', 'vs-buildtools') -Because 'tools are sorted by name, the agent among them'
        $node = $report.tools | Where-Object name -EQ 'node'
        $node.version | Should -Be '22.12.0'
        $node.requested | Should -Be 'active LTS'
        $node.source | Should -Be 'https://nodejs.org/dist/v22.12.0/'
        $node.verifiedBy | Should -Be 'sha256'
        foreach ($tool in $report.tools) { @($tool.PSObject.Properties.Name) | Should -Be @('name', 'version', 'requested', 'source', 'verifiedBy') }
        $report.PSObject.Properties.Name | Should -Not -Contain 'sbom'
        @($report.PSObject.Properties.Name) | Should -Be @('schemaVersion', 'image', 'generatedAt', 'os', 'baseImage', 'agent', 'tools')
    }

    It 'writes UTF-8 without a byte order mark (JSON.parse refuses one)' {
        Add-SampleRecords
        $null = Write-KilnImageReport -Toolset $script:Toolset -ReportFolder $script:ReportFolder
        $bytes = [IO.File]::ReadAllBytes((Join-Path $script:ReportFolder 'software-report.json'))
        $bytes[0] | Should -Be ([byte][char]'{')
    }

    It 'writes software-report.md with the OS, base image, agent and one table row per tool' {
        Add-SampleRecords
        $null = Write-KilnImageReport -Toolset $script:Toolset -ReportFolder $script:ReportFolder
        $md = Get-Content -Raw -LiteralPath (Join-Path $script:ReportFolder 'software-report.md')
        $md | Should -Match '(?m)^# Software report: windows image$'
        $md | Should -Match 'OS: Microsoft Windows Server 2022 Datacenter: Azure Edition 10\.0\.20348 \(build 10\.0\.20348\.2849\)'
        $md | Should -Match 'Base image: MicrosoftWindowsServer / WindowsServer / 2022-datacenter-azure-edition, version 20348\.2849\.241205'
        $md | Should -Match 'Agent: azure-pipelines-agent 4\.269\.0'
        $md | Should -Match '(?m)^\| node \| 22\.12\.0 \| active LTS \| sha256 \| https://nodejs\.org/dist/v22\.12\.0/ \|$'
        ([regex]::Matches($md, '(?m)^\| (?!Tool|----)')).Count | Should -Be 5
    }

    It 'refuses to write a report without the agent''s record' {
        Add-KilnToolRecord -Name 'git' -Version '2.47.1.windows.2' -Requested 'latest' -Source 'https://github.com/git-for-windows/git' -VerifiedBy 'sha256'
        { Write-KilnImageReport -Toolset $script:Toolset -ReportFolder $script:ReportFolder } | Should -Throw '*needs the azure-pipelines-agent tool record*'
    }

    It 'refuses a tool record whose name is not a stable lowercase key, or whose verification is not one of the format''s' {
        { Add-KilnToolRecord -Name 'Git' -Version '1' -Requested 'latest' -Source 'x' -VerifiedBy 'sha256' } | Should -Throw '*must be lowercase*'
        { Add-KilnToolRecord -Name 'git' -Version '1' -Requested 'latest' -Source 'x' -VerifiedBy 'trust-me' } | Should -Throw
    }

    It 'adds the SBOM: syft pinned, checked against its checksums file, run to sbom.spdx.json' {
        Use-FixtureWeb
        $env:TEMP = $TestDrive
        Mock Expand-KilnZip { }
        Mock Invoke-KilnSyft { Set-Content -LiteralPath $Output -Value '{"spdxVersion":"SPDX-2.3"}' }
        Add-SampleRecords
        $null = Write-KilnImageReport -Toolset $script:Toolset -ReportFolder $script:ReportFolder -Sbom
        Should -Invoke Invoke-KilnSyft -Times 1 -Exactly -ParameterFilter { $Output -eq (Join-Path $script:ReportFolder 'sbom.spdx.json') }
        $script:WebRequests | Should -Contain 'https://github.com/anchore/syft/releases/download/v1.18.1/syft_1.18.1_checksums.txt'
        $script:Downloads | Should -Be @('https://github.com/anchore/syft/releases/download/v1.18.1/syft_1.18.1_windows_amd64.zip')
        $report = Get-Content -Raw -LiteralPath (Join-Path $script:ReportFolder 'software-report.json') | ConvertFrom-Json
        $report.sbom.format | Should -Be 'spdx-json'
        $report.sbom.file | Should -Be 'sbom.spdx.json'
        $report.sbom.generator | Should -Be 'syft 1.18.1'
        @($report.tools.name) | Should -Not -Contain 'syft' -Because 'syft only makes the SBOM; it is not left in the image'
    }

    It 'does not run syft when its download does not match its checksums file' {
        Use-FixtureWeb
        $env:TEMP = $TestDrive
        $script:DownloadOverride = 'not syft'
        Mock Invoke-KilnSyft { }
        Add-SampleRecords
        { Write-KilnImageReport -Toolset $script:Toolset -ReportFolder $script:ReportFolder -Sbom } | Should -Throw '*syft 1.18.1*is not what the vendor released*'
        Should -Invoke Invoke-KilnSyft -Times 0 -Exactly
    }
}

Describe 'test-image-tools.ps1 reads the records back' {
    BeforeEach {
        $env:KILN_TOOL_RECORD_FOLDER = Join-Path $TestDrive ('records-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        Mock Assert-ToolOutput { }
    }

    It 'checks each recorded tool answers at its recorded version, and names every tool without a record' {
        Add-SampleRecords
        { Test-KilnImageTools -AgentRoot (Join-Path $TestDrive 'no-agent') } | Should -Throw '*pnpm: no tool record*'
        Should -Invoke Assert-ToolOutput -ParameterFilter { $Command -eq 'node' -and 'v22.12.0' -match $Pattern -and -not ('v22.12.01' -match $Pattern) }
        Should -Invoke Assert-ToolOutput -ParameterFilter { $Command -eq 'git' -and 'git version 2.47.1.windows.2' -match $Pattern }
    }
}
