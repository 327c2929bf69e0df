# Shared helpers for the Windows image Pester tests: start/stop the loopback fake IMDS + Key Vault
# server (by PID) and lay out an agent folder whose config.cmd is the recording stub.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
$script:WindowsScripts = Join-Path $script:RepoRoot 'packer/windows/scripts'

function Start-FakeAzure {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ('kiln-fake-azure-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $dir | Out-Null
    $portFile = Join-Path $dir 'port'
    $fakeArgs = @((Join-Path $PSScriptRoot 'fake_azure.py'), '--port-file', $portFile, '--max-seconds', '900')
    $process = Start-Process -FilePath 'python3' -ArgumentList $fakeArgs -PassThru `
        -RedirectStandardOutput (Join-Path $dir 'stdout.log') -RedirectStandardError (Join-Path $dir 'stderr.log')
    $deadline = (Get-Date).AddSeconds(20)
    while (-not (Test-Path -LiteralPath $portFile)) {
        if ($process.HasExited -or (Get-Date) -gt $deadline) {
            $stderr = Get-Content -Raw -LiteralPath (Join-Path $dir 'stderr.log') -ErrorAction SilentlyContinue
            throw "fake Azure server did not start: $stderr"
        }
        Start-Sleep -Milliseconds 100
    }
    $port = (Get-Content -Raw -LiteralPath $portFile).Trim()
    [pscustomobject]@{ Process = $process; ProcessId = $process.Id; Url = "http://127.0.0.1:$port"; Dir = $dir }
}

function Stop-FakeAzure {
    param($Fake)
    if ($null -eq $Fake) { return }
    Stop-Process -Id $Fake.ProcessId -Force -ErrorAction SilentlyContinue
    $null = $Fake.Process.WaitForExit(5000)
    Remove-Item -LiteralPath $Fake.Dir -Recurse -Force -ErrorAction SilentlyContinue
}

function Invoke-FakeControl {
    param([Parameter(Mandatory)] $Fake, [Parameter(Mandatory)] [string] $Path, [hashtable] $Body = @{})
    $null = Invoke-WebRequest -Method Post -Uri ($Fake.Url + $Path) -Body ($Body | ConvertTo-Json -Compress) `
        -ContentType 'application/json' -NoProxy -UseBasicParsing
}

function Get-FakeRequests {
    param([Parameter(Mandatory)] $Fake, [string] $Service)
    $json = (Invoke-WebRequest -Uri ($Fake.Url + '/_fake/requests') -NoProxy -UseBasicParsing).Content
    $all = @(($json | ConvertFrom-Json) | ForEach-Object { $_ })
    if ($Service) { $all = @($all | Where-Object { $_.service -eq $Service }) }
    Write-Output -NoEnumerate $all
}

function New-StubAgentRoot {
    # An agent folder with the recording config.cmd stub; returns its path.
    param([Parameter(Mandatory)] [string] $Parent)
    $root = Join-Path $Parent ('ado-agent-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $root | Out-Null
    $stub = Join-Path $root 'config.cmd'
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'stubs/config.cmd') -Destination $stub
    & chmod +x $stub
    $root
}

function Get-StubCalls {
    # Every recorded config.cmd call, oldest first, as string arrays.
    param([Parameter(Mandatory)] [string] $RecordDir)
    if (-not (Test-Path -LiteralPath $RecordDir)) { return Write-Output -NoEnumerate @() }
    $calls = @(Get-ChildItem -LiteralPath $RecordDir -Filter 'call-*.args' | Sort-Object Name | ForEach-Object {
            , @(Get-Content -LiteralPath $_.FullName)
        })
    Write-Output -NoEnumerate $calls
}

function Get-StubTokens {
    # The VSTS_AGENT_INPUT_TOKEN each recorded config.cmd call got, oldest first ($null: not set).
    param([Parameter(Mandatory)] [string] $RecordDir)
    # Enumerated (one string per call): callers wrap it in @().
    if (-not (Test-Path -LiteralPath $RecordDir)) { return }
    $tokens = @(Get-ChildItem -LiteralPath $RecordDir -Filter 'call-*.args' | Sort-Object Name | ForEach-Object {
            $file = [IO.Path]::ChangeExtension($_.FullName, '.token')
            if (Test-Path -LiteralPath $file) { (Get-Content -Raw -LiteralPath $file).TrimEnd("`n") } else { $null }
        })
    $tokens
}

function New-AclRecord {
    # One explicit ACL entry as Get-AgentPathSecurity returns it.
    param([Parameter(Mandatory)] [string] $Sid, [Parameter(Mandatory)] [int] $Mask, [string] $Type = 'Allow', [string] $Inheritance = 'ContainerInherit, ObjectInherit', [string] $Propagation = 'None')
    [pscustomobject]@{ Type = $Type; Sid = $Sid; Mask = $Mask; Inheritance = $Inheritance; Propagation = $Propagation }
}

function Get-ImagePathSecurity {
    # What Get-AgentPathSecurity reads from a path of an agent folder left as the image build
    # leaves it. Written out here, not derived from the plan, so a changed plan fails the tests. The
    # masks are what Windows reports for icacls' F, RX and M grants (each with Synchronize).
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $AgentRoot, [string[]] $Writable = @())
    if ($Path -eq $AgentRoot) {
        return [pscustomobject]@{
            Owner = 'S-1-5-32-544'; Protected = $true
            Explicit = @((New-AclRecord -Sid 'S-1-5-32-544' -Mask 2032127), (New-AclRecord -Sid 'S-1-5-18' -Mask 2032127), (New-AclRecord -Sid 'S-1-5-20' -Mask 1179817))
        }
    }
    if ($Writable -contains $Path) {
        return [pscustomobject]@{ Owner = 'S-1-5-32-544'; Protected = $false; Explicit = @(New-AclRecord -Sid 'S-1-5-20' -Mask 1245631) }
    }
    [pscustomobject]@{ Owner = 'S-1-5-32-544'; Protected = $false; Explicit = @() }
}

# --- Recorded release indexes (fixtures/README.md) ---------------------------------------------

$script:FixtureRoot = Join-Path $PSScriptRoot 'fixtures'
# Each URL the resolvers ask for, and the recorded answer that stands for it.
$script:FixtureRoutes = @{
    'https://api.github.com/repos/git-for-windows/git/releases/latest' = 'github/git-for-windows-releases-latest.json'
    'https://api.github.com/repos/git-for-windows/git/releases?per_page=20&page=1' = 'github/git-for-windows-releases-page1.json'
    'https://api.github.com/repos/Kitware/CMake/releases/latest' = 'github/cmake-releases-latest.json'
    'https://github.com/Kitware/CMake/releases/download/v3.31.2/cmake-3.31.2-SHA-256.txt' = 'github/cmake-3.31.2-SHA-256.txt'
    'https://api.github.com/repos/Azure/azure-cli/releases/latest' = 'github/azure-cli-releases-latest.json'
    'https://api.github.com/repos/Azure/azure-dev/releases/latest' = 'github/azure-dev-releases-latest.json'
    'https://api.github.com/repos/microsoft/azure-pipelines-agent/releases/latest' = 'github/azure-pipelines-agent-releases-latest.json'
    'https://api.github.com/repos/anchore/syft/releases?per_page=20&page=1' = 'github/syft-releases-page1.json'
    'https://github.com/anchore/syft/releases/download/v1.18.1/syft_1.18.1_checksums.txt' = 'github/syft_1.18.1_checksums.txt'
    'https://nodejs.org/dist/index.json' = 'node/index.json'
    'https://nodejs.org/dist/v23.4.0/SHASUMS256.txt' = 'node/v23.4.0-SHASUMS256.txt'
    'https://nodejs.org/dist/v22.12.0/SHASUMS256.txt' = 'node/v22.12.0-SHASUMS256.txt'
    'https://nodejs.org/dist/v20.18.1/SHASUMS256.txt' = 'node/v20.18.1-SHASUMS256.txt'
    'https://www.python.org/api/v2/downloads/release/?is_published=true&pre_release=false&version=3' = 'python/release-published-final-3.json'
    'https://www.python.org/api/v2/downloads/release_file/?release=1043' = 'python/release_file-release-1043.json'
    'https://www.python.org/api/v2/downloads/release_file/?release=1041' = 'python/release_file-release-1041.json'
    'https://www.python.org/api/v2/downloads/release_file/?release=1031' = 'python/release_file-release-1031.json'
    'https://www.python.org/api/v2/downloads/release_file/?release=943' = 'python/release_file-release-943.json'
    "https://community.chocolatey.org/api/v2/FindPackagesById()?id='chocolatey'" = 'nuget/chocolatey-FindPackagesById-chocolatey.xml'
    "https://www.powershellgallery.com/api/v2/FindPackagesById()?id='Az'" = 'nuget/psgallery-FindPackagesById-Az-page1.xml'
    "https://www.powershellgallery.com/api/v2/FindPackagesById?id='Az'&`$skip=100" = 'nuget/psgallery-FindPackagesById-Az-page2.xml'
    'https://pypi.org/simple/pip/' = 'pypi/simple-pip.json'
}

function Get-FixtureText {
    # The recorded answer for Url; an unknown URL fails as the vendor would (HTTP 404), naming it.
    param([Parameter(Mandatory)] [string] $Url)
    $relative = $script:FixtureRoutes[$Url]
    if (-not $relative) { throw "GET $Url answered HTTP 404: no fixture is recorded for this URL" }
    Get-Content -Raw -LiteralPath (Join-Path $script:FixtureRoot $relative)
}

function Get-StandInText {
    # What a fixture's checksum was computed over, for a file of that name (fixtures/README.md).
    param([Parameter(Mandatory)] [string] $FileName)
    "kiln fixture $FileName"
}

function Get-StandInHash {
    param([Parameter(Mandatory)] [string] $FileName, [string] $Algorithm = 'SHA256')
    $bytes = [Text.Encoding]::UTF8.GetBytes((Get-StandInText $FileName))
    $hasher = [Security.Cryptography.HashAlgorithm]::Create($Algorithm)
    ([BitConverter]::ToString($hasher.ComputeHash($bytes)) -replace '-', '').ToLowerInvariant()
}

function Use-FixtureWeb {
    # Mocks the image helpers' network: Get-KilnWebText answers from the fixtures (every URL asked is
    # kept in $script:WebRequests), Save-KilnDownload writes the stand-in text of the URL's file, or
    # $script:DownloadOverride when a test sets it (a tampered download), and Invoke-KilnNpmView
    # answers from npm/<package>-versions.json.
    $script:WebRequests = New-Object System.Collections.Generic.List[string]
    $script:Downloads = New-Object System.Collections.Generic.List[string]
    $script:DownloadOverride = $null
    Mock -ModuleName ImageHelpers Get-KilnWebText {
        $script:WebRequests.Add($Url)
        Get-FixtureText -Url $Url
    }
    Mock -ModuleName ImageHelpers Save-KilnDownload {
        $script:Downloads.Add($Url)
        $text = $script:DownloadOverride
        if ($null -eq $text) { $text = Get-StandInText (Split-Path -Leaf $Path) }
        [IO.File]::WriteAllText($Path, $text)
        $Path
    }
    Mock -ModuleName ImageHelpers Invoke-KilnNpmView {
        Get-Content -Raw -LiteralPath (Join-Path $script:FixtureRoot "npm/$Package-versions.json")
    }
}

function New-TestCertificate {
    # A real (self-signed) X.509 certificate with Subject, as an Authenticode signature's signer.
    param([Parameter(Mandatory)] [string] $Subject)
    $rsa = [Security.Cryptography.RSA]::Create(2048)
    $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new($Subject, $rsa, [Security.Cryptography.HashAlgorithmName]::SHA256, [Security.Cryptography.RSASignaturePadding]::Pkcs1)
    $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(30))
}

function New-TestSignature {
    # What Get-AuthenticodeSignature returns, as far as the image helpers read it.
    param([Parameter(Mandatory)] [string] $Status, [string] $Subject, [string] $StatusMessage = 'test')
    $certificate = $null
    if ($Subject) { $certificate = New-TestCertificate -Subject $Subject }
    [pscustomobject]@{ Status = $Status; StatusMessage = $StatusMessage; SignerCertificate = $certificate }
}
