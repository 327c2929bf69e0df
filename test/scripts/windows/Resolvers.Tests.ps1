# Pester tests of the Windows image's resolvers (packer/windows/scripts/helpers/ImageHelpers.psm1):
# each toolset line (latest, a major or minor line, active LTS, a pin with its checksum) resolves to
# one release of the vendor's own index and the checksum that index publishes; a pin without its
# checksum, an unknown line and a line nothing matches are refused, naming what exists. The indexes
# are the recorded answers in fixtures/ (no network).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module (Join-Path $script:RepoRoot 'packer/windows/scripts/helpers/ImageHelpers.psm1') -Force -DisableNameChecking
    $script:Toolset = Get-Content -Raw -LiteralPath (Join-Path $script:RepoRoot 'packer/windows/toolset.json') | ConvertFrom-Json
    $script:SavedEnv = @{}
    foreach ($name in 'GITHUB_API_URL', 'NODE_DIST_URL', 'PYTHON_API_URL', 'PIP_INDEX_URL', 'NPM_CONFIG_REGISTRY') {
        $script:SavedEnv[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $null)
    }
    function Set-Entry($Base, [hashtable] $Change) {
        # A copy of a toolset entry with some fields changed.
        $copy = $Base | ConvertTo-Json -Depth 6 | ConvertFrom-Json
        foreach ($key in $Change.Keys) { $copy | Add-Member -NotePropertyName $key -NotePropertyValue $Change[$key] -Force }
        $copy
    }
}

AfterAll {
    foreach ($name in $script:SavedEnv.Keys) { [Environment]::SetEnvironmentVariable($name, $script:SavedEnv[$name]) }
}

Describe 'version lines and lists' {
    It 'reads a JSON list item by item, whatever its length (Windows PowerShell writes a parsed array as one object)' {
        @(ConvertFrom-KilnJsonList '[{"a":1},{"a":2}]').Count | Should -Be 2
        @(ConvertFrom-KilnJsonList '[{"a":1}]')[0].a | Should -Be 1
        @(ConvertFrom-KilnJsonList '[]').Count | Should -Be 0
    }

    It 'orders versions by their numbers, not as text' {
        @(Get-KilnSortedVersions @('2.9.0', '2.47.1.windows.1', '2.10.0', '2.47.1.windows.2')) | Should -Be @('2.47.1.windows.2', '2.47.1.windows.1', '2.10.0', '2.9.0')
    }

    It 'parses <Line> as <Kind>' -ForEach @(
        @{ Line = 'latest'; Kind = 'latest' }, @{ Line = '22.x'; Kind = 'line' }, @{ Line = '3.12.*'; Kind = 'line' }, @{ Line = 'active LTS'; Kind = 'lts' },
        @{ Line = '2.47.1.windows.2'; Kind = 'pin' }, @{ Line = '1.22.22'; Kind = 'pin' }, @{ Line = 'stable'; Kind = 'unknown' }, @{ Line = '22'; Kind = 'unknown' }
    ) {
        (Get-KilnVersionLine $Line).Kind | Should -Be $Kind
    }
}

Describe 'GitHub release resolver (Resolve-KilnGitHubTool)' {
    BeforeEach { Use-FixtureWeb }

    It 'resolves latest through /releases/latest and takes the asset''s GitHub digest' {
        $tool = Resolve-KilnGitHubTool -Name 'git' -Entry $script:Toolset.git
        $tool.Version | Should -Be '2.47.1.windows.2'
        $tool.Requested | Should -Be 'latest'
        $tool.FileName | Should -Be 'Git-2.47.1.2-64-bit.exe'
        $tool.Url | Should -Be 'https://github.com/git-for-windows/git/releases/download/v2.47.1.windows.2/Git-2.47.1.2-64-bit.exe'
        $tool.Hash | Should -Be (Get-StandInHash 'Git-2.47.1.2-64-bit.exe')
        $tool.HashSource | Should -Match 'digest'
        $tool.VerifiedBy | Should -Be 'sha256'
        $tool.Source | Should -Be 'https://github.com/git-for-windows/git/releases/tag/v2.47.1.windows.2'
        $script:WebRequests | Should -Be @('https://api.github.com/repos/git-for-windows/git/releases/latest')
    }

    It 'resolves a line to the newest release on it, skipping release candidates' {
        $tool = Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '2.*' })
        $tool.Version | Should -Be '2.47.1.windows.2'
        $tool = Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '2.47.x' })
        $tool.Version | Should -Be '2.47.1.windows.2'
        $script:WebRequests | Should -Contain 'https://api.github.com/repos/git-for-windows/git/releases?per_page=20&page=1'
    }

    It 'takes a pin with its checksum, also where GitHub published no digest' {
        $sha = Get-StandInHash 'Git-2.46.2-64-bit.exe'
        $tool = Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '2.46.2.windows.1'; sha256 = $sha })
        $tool.Version | Should -Be '2.46.2.windows.1'
        $tool.Requested | Should -Be '2.46.2.windows.1'
        $tool.FileName | Should -Be 'Git-2.46.2-64-bit.exe'
        $tool.Hash | Should -Be $sha
        $tool.HashSource | Should -Match 'pinned'
    }

    It 'refuses a pin without its checksum, saying what to add' {
        { Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '2.46.2.windows.1' }) } |
            Should -Throw '*git is pinned to 2.46.2.windows.1 in toolset.json without its checksum: add "sha256"*'
        $script:WebRequests.Count | Should -Be 0 -Because 'the pin is refused before any index is read'
    }

    It 'refuses a pin whose checksum is not the one GitHub publishes' {
        { Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '2.47.1.windows.1'; sha256 = ('0' * 64) }) } |
            Should -Throw "*toolset.json pins SHA-256 $('0' * 64) but GitHub's digest of the release asset publishes $(Get-StandInHash 'Git-2.47.1-64-bit.exe')*"
    }

    It 'refuses a line whose newest release has no published checksum (pin it instead)' {
        { Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '2.46.x' }) } |
            Should -Throw '*git 2.46.2.windows.1: the vendor publishes no SHA-256 for it: pin the version with its sha256*'
    }

    It 'refuses an unknown line, saying which lines are understood and what exists' {
        { Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = 'stable' }) } |
            Should -Throw "*git: unknown version line 'stable' in toolset.json: use latest, a major line (22.x or 22.*)*"
    }

    It 'refuses a line no release matches, listing the releases newest first' {
        { Resolve-KilnGitHubTool -Name 'git' -Entry (Set-Entry $script:Toolset.git @{ version = '3.x' }) } |
            Should -Throw "*git: no release matches '3.x'. Available: 2.47.1.windows.2, 2.47.1.windows.1, 2.47.0.windows.2, 2.46.2.windows.1, 2.45.2.windows.1 (newest first)*"
    }

    It 'asks GITHUB_API_URL (GitHub Enterprise) instead of api.github.com' {
        $env:GITHUB_API_URL = 'https://ghe.example.com/api/v3/'
        try {
            $script:FixtureRoutes['https://ghe.example.com/api/v3/repos/git-for-windows/git/releases/latest'] = 'github/git-for-windows-releases-latest.json'
            (Resolve-KilnGitHubTool -Name 'git' -Entry $script:Toolset.git).Version | Should -Be '2.47.1.windows.2'
            $script:WebRequests | Should -Be @('https://ghe.example.com/api/v3/repos/git-for-windows/git/releases/latest')
        } finally { $env:GITHUB_API_URL = $null }
    }

    It 'checks CMake against the release''s cmake-<v>-SHA-256.txt' {
        $tool = Resolve-KilnGitHubTool -Name 'cmake' -Entry $script:Toolset.cmake
        $tool.Version | Should -Be '3.31.2'
        $tool.FileName | Should -Be 'cmake-3.31.2-windows-x86_64.msi'
        $tool.Hash | Should -Be (Get-StandInHash 'cmake-3.31.2-windows-x86_64.msi')
        $tool.HashSource | Should -Be 'cmake-3.31.2-SHA-256.txt'
        $script:WebRequests | Should -Contain 'https://github.com/Kitware/CMake/releases/download/v3.31.2/cmake-3.31.2-SHA-256.txt'
    }

    It 'checks the Azure CLI and azd MSIs by digest and by Microsoft''s signature' {
        $cli = Resolve-KilnGitHubTool -Name 'azure-cli' -Entry $script:Toolset.azureCli
        $cli.Version | Should -Be '2.67.0'
        $cli.FileName | Should -Be 'azure-cli-2.67.0-x64.msi'
        $cli.Hash | Should -Be (Get-StandInHash 'azure-cli-2.67.0-x64.msi')
        $cli.Publisher | Should -Be @('Microsoft Corporation')
        $azd = Resolve-KilnGitHubTool -Name 'azd' -Entry $script:Toolset.azd
        $azd.Version | Should -Be '1.11.1'
        $azd.FileName | Should -Be 'azd-windows-amd64.msi'
        $azd.Publisher | Should -Be @('Microsoft Corporation')
    }
}

Describe 'Azure DevOps agent resolver (Resolve-KilnAdoAgent)' {
    BeforeEach { Use-FixtureWeb }

    It 'resolves latest from the agent''s GitHub releases, its SHA-256 from the release notes' {
        $tool = Resolve-KilnAdoAgent -Entry $script:Toolset.adoAgent -Version 'latest'
        $tool.Name | Should -Be 'azure-pipelines-agent'
        $tool.Version | Should -Be '4.269.0'
        $tool.Url | Should -Be 'https://download.agent.dev.azure.com/agent/4.269.0/vsts-agent-win-x64-4.269.0.zip'
        $tool.Hash | Should -Be (Get-StandInHash 'vsts-agent-win-x64-4.269.0.zip') -Because 'the vsts-agent row, not pipelines-agent-win-x64 of the alternate table'
        $tool.HashSource | Should -Be 'the release notes of v4.269.0'
    }

    It 'takes a pin''s SHA-256 from toolset.json, or from agent_sha256' {
        (Resolve-KilnAdoAgent -Entry $script:Toolset.adoAgent -Version '3.236.0').Hash | Should -Be $script:Toolset.adoAgent.sha256.'3.236.0'
        (Resolve-KilnAdoAgent -Entry $script:Toolset.adoAgent -Version '4.1.0' -Sha256 ('AB' * 32)).Hash | Should -Be ('ab' * 32)
        $script:WebRequests.Count | Should -Be 0
    }

    It 'refuses a pin without a known SHA-256' {
        { Resolve-KilnAdoAgent -Entry $script:Toolset.adoAgent -Version '4.1.0' } |
            Should -Throw '*azure-pipelines-agent 4.1.0 has no known SHA-256: add it to toolset.json (adoAgent.sha256) or pass -var agent_sha256=*'
    }
}

Describe 'Node.js index resolver (Resolve-KilnNodeRelease)' {
    BeforeEach { Use-FixtureWeb }

    It 'resolves active LTS to the newest release of the newest LTS major, not the newer Current' {
        $tool = Resolve-KilnNodeRelease -Entry $script:Toolset.nodejs
        $script:Toolset.nodejs.version | Should -Be 'active LTS'
        $tool.Version | Should -Be '22.12.0'
        $tool.Requested | Should -Be 'active LTS'
        $tool.FileName | Should -Be 'node-v22.12.0-x64.msi'
        $tool.Url | Should -Be 'https://nodejs.org/dist/v22.12.0/node-v22.12.0-x64.msi'
        $tool.Hash | Should -Be (Get-StandInHash 'node-v22.12.0-x64.msi')
        $tool.HashSource | Should -Be 'https://nodejs.org/dist/v22.12.0/SHASUMS256.txt'
        $tool.Source | Should -Be 'https://nodejs.org/dist/v22.12.0/'
    }

    It 'resolves a major line (20.x) and latest (the Current line)' {
        (Resolve-KilnNodeRelease -Entry ([pscustomobject]@{ version = '20.x' })).Version | Should -Be '20.18.1'
        (Resolve-KilnNodeRelease -Entry ([pscustomobject]@{ version = 'latest' })).Version | Should -Be '23.4.0'
    }

    It 'takes a pin with its checksum and refuses one without' {
        $sha = Get-StandInHash 'node-v22.12.0-x64.msi'
        (Resolve-KilnNodeRelease -Entry ([pscustomobject]@{ version = '22.12.0'; sha256 = $sha })).Hash | Should -Be $sha
        { Resolve-KilnNodeRelease -Entry ([pscustomobject]@{ version = '22.12.0' }) } | Should -Throw '*node is pinned to 22.12.0 in toolset.json without its checksum*node-v22.12.0-x64.msi*'
    }

    It 'refuses a line the index does not have, listing what it has' {
        { Resolve-KilnNodeRelease -Entry ([pscustomobject]@{ version = '19.x' }) } |
            Should -Throw "*node: no release matches '19.x'. Available: 23.4.0, 23.3.0, 22.12.0, 22.11.0, 22.10.0, 21.7.3, 20.18.1*"
        { Resolve-KilnNodeRelease -Entry ([pscustomobject]@{ version = 'lts/jod' }) } | Should -Throw "*unknown version line 'lts/jod'*or active LTS*"
    }

    It 'reads a mirror given in NODE_DIST_URL' {
        $env:NODE_DIST_URL = 'https://mirror.example.com/node'
        try {
            $script:FixtureRoutes['https://mirror.example.com/node/index.json'] = 'node/index.json'
            $script:FixtureRoutes['https://mirror.example.com/node/v22.12.0/SHASUMS256.txt'] = 'node/v22.12.0-SHASUMS256.txt'
            (Resolve-KilnNodeRelease -Entry $script:Toolset.nodejs).Url | Should -Be 'https://mirror.example.com/node/v22.12.0/node-v22.12.0-x64.msi'
        } finally { $env:NODE_DIST_URL = $null }
    }
}

Describe 'python.org resolver (Resolve-KilnPythonRelease)' {
    BeforeEach { Use-FixtureWeb }

    It 'resolves 3.12.* to the newest 3.12 with a Windows installer, verified by signature when python.org gives no SHA-256' {
        $tool = Resolve-KilnPythonRelease -Entry $script:Toolset.python
        $script:Toolset.python.version | Should -Be '3.12.*'
        $tool.Version | Should -Be '3.12.10' -Because '3.12.11 ships sources only'
        $tool.Url | Should -Be 'https://www.python.org/ftp/python/3.12.10/python-3.12.10-amd64.exe'
        $tool.Hash | Should -BeNullOrEmpty -Because 'its release files have an empty sha256_sum, and md5_sum is not trusted'
        $tool.Publisher | Should -Be @('Python Software Foundation')
        $tool.VerifiedBy | Should -Be 'authenticode'
        $script:WebRequests | Should -Contain 'https://www.python.org/api/v2/downloads/release_file/?release=1041'
    }

    It 'takes sha256_sum where python.org publishes it (3.13.x)' {
        $tool = Resolve-KilnPythonRelease -Entry ([pscustomobject]@{ version = '3.13.x' })
        $tool.Version | Should -Be '3.13.1'
        $tool.Hash | Should -Be (Get-StandInHash 'python-3.13.1-amd64.exe')
        $tool.VerifiedBy | Should -Be 'sha256'
        $tool.Source | Should -Be 'https://www.python.org/ftp/python/3.13.1/'
    }

    It 'takes a pin with its checksum (which must agree with python.org''s)' {
        $sha = Get-StandInHash 'python-3.12.8-amd64.exe'
        $tool = Resolve-KilnPythonRelease -Entry ([pscustomobject]@{ version = '3.12.8'; sha256 = $sha })
        $tool.Version | Should -Be '3.12.8'
        $tool.Hash | Should -Be $sha
        { Resolve-KilnPythonRelease -Entry ([pscustomobject]@{ version = '3.12.8'; sha256 = ('1' * 64) }) } | Should -Throw '*toolset.json pins SHA-256*python.org''s sha256_sum publishes*'
    }

    It 'refuses a pin of a release without a Windows installer' {
        { Resolve-KilnPythonRelease -Entry ([pscustomobject]@{ version = '3.12.11'; sha256 = ('1' * 64) }) } | Should -Throw '*no Windows installer*3.12.11*'
    }
}

Describe 'NuGet feed resolver (Chocolatey, PowerShell Gallery)' {
    BeforeEach { Use-FixtureWeb }

    It 'resolves chocolatey latest from the community feed, skipping prereleases, with the feed''s SHA-512 as hex' {
        $package = Resolve-KilnNuGetPackage -Name 'chocolatey' -FeedUrl $script:Toolset.chocolatey.feedUrl -Id 'chocolatey' -Line 'latest'
        $package.Version | Should -Be '2.4.3'
        $package.Url | Should -Be 'https://community.chocolatey.org/api/v2/package/chocolatey/2.4.3'
        $package.HashAlgorithm | Should -Be 'SHA512'
        $package.Hash | Should -Be (Get-StandInHash 'chocolatey.2.4.3.nupkg' -Algorithm 'SHA512')
    }

    It 'follows the gallery''s next links to resolve Az on a line' {
        (Resolve-KilnNuGetPackage -Name 'az-powershell' -FeedUrl $script:Toolset.azPowerShell.feedUrl -Id 'Az' -Line '13.*').Version | Should -Be '13.0.0'
        (Resolve-KilnNuGetPackage -Name 'az-powershell' -FeedUrl $script:Toolset.azPowerShell.feedUrl -Id 'Az' -Line '12.x').Version | Should -Be '12.5.0'
        (Resolve-KilnNuGetPackage -Name 'az-powershell' -FeedUrl $script:Toolset.azPowerShell.feedUrl -Id 'Az' -Line 'latest').Version | Should -Be '13.0.0' -Because '13.1.0-preview is a prerelease'
        $script:WebRequests | Should -Contain "https://www.powershellgallery.com/api/v2/FindPackagesById?id='Az'&`$skip=100"
    }
}

Describe 'npm and pip resolvers' {
    BeforeEach { Use-FixtureWeb }

    It 'resolves pnpm 9.x and yarn 1.x from npm''s version list, leaving integrity to npm' {
        $pnpm = Resolve-KilnNpmPackage -Entry ([pscustomobject]@{ name = 'pnpm'; version = '9.x' })
        $pnpm.Version | Should -Be '9.15.1'
        $pnpm.VerifiedBy | Should -Be 'npm-integrity'
        $pnpm.Source | Should -Be 'https://registry.npmjs.org/pnpm'
        (Resolve-KilnNpmPackage -Entry ([pscustomobject]@{ name = 'yarn'; version = '1.x' })).Version | Should -Be '1.22.22'
        (Resolve-KilnNpmPackage -Entry ([pscustomobject]@{ name = 'pnpm'; version = 'latest' })).Version | Should -Be '10.0.0' -Because '10.0.0-rc.0 is a prerelease'
    }

    It 'resolves pip''s wheel from the index''s JSON simple API, skipping yanked files' {
        $tool = Resolve-KilnPipWheel -Entry $script:Toolset.pip
        $tool.Version | Should -Be '24.3.1'
        $tool.FileName | Should -Be 'pip-24.3.1-py3-none-any.whl'
        $tool.Hash | Should -Be (Get-StandInHash 'pip-24.3.1-py3-none-any.whl')
        { Resolve-KilnPipWheel -Entry ([pscustomobject]@{ version = '24.3.x' }) } | Should -Not -Throw
        { Resolve-KilnPipWheel -Entry ([pscustomobject]@{ version = '24.3'; sha256 = ('2' * 64) }) } | Should -Throw "*pip: no release matches '24.3'*24.3.1, 24.2*" -Because 'the 24.3 wheel is yanked'
    }
}
