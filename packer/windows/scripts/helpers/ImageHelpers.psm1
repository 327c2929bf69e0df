# Shared helpers of the Windows image install scripts: toolset.json access, PATH refresh, the
# resolvers that turn a toolset line (latest, 22.x, 3.12.*, active LTS, or a pin with its checksum)
# into one release from the vendor's own index, downloads verified against the vendor's published
# checksum or Authenticode signature BEFORE anything runs, Chocolatey installs, the "does the tool
# work" checks every install step ends with, and the tool records the software report is made of.
# Windows PowerShell 5.1 compatible (the build VM has nothing newer).

Set-StrictMode -Version 3.0

function Get-ImageFolder {
    # On the build VM: C:\kiln\image (scripts\ and toolset.json); in the repository: packer/windows.
    if ($env:KILN_IMAGE_FOLDER) { return $env:KILN_IMAGE_FOLDER }
    Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
}

function Get-Toolset {
    # The parsed toolset.json: the one place tool versions live.
    $path = Join-Path (Get-ImageFolder) 'toolset.json'
    Get-Content -LiteralPath $path -Raw | ConvertFrom-Json
}

function Update-SessionPath {
    # Installers change PATH in the registry; the WinRM session keeps the old one until reloaded.
    $machine = [Environment]::GetEnvironmentVariable('Path', 'Machine')
    $user = [Environment]::GetEnvironmentVariable('Path', 'User')
    $env:Path = (@($machine, $user) | Where-Object { $_ }) -join ';'
}

function Assert-ExitCode {
    # Installers report success as 0, and 3010/1641 when they need a restart (the template restarts).
    param([Parameter(Mandatory)] [int] $ExitCode, [Parameter(Mandatory)] [string] $What, [int[]] $Allowed = @(0, 1641, 3010))
    if ($Allowed -notcontains $ExitCode) { throw "$What failed with exit code $ExitCode" }
    if ($ExitCode -ne 0) { Write-Host "$What finished with ${ExitCode}: a restart is needed and follows" }
}

function Install-ChocoPackage {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Version,
        [string] $InstallArguments,
        [string] $PackageParameters,
        # Fail the install when the package downloads a file it has no checksum for.
        [switch] $RequireChecksums
    )
    $chocoArgs = @('install', $Name, '--version', $Version, '--yes', '--no-progress', '--limit-output')
    if ($RequireChecksums) { $chocoArgs += '--require-checksums' }
    if ($InstallArguments) { $chocoArgs += @('--install-arguments', $InstallArguments) }
    if ($PackageParameters) { $chocoArgs += @('--params', $PackageParameters) }
    for ($i = 1; $i -le 3; $i++) {
        & choco @chocoArgs
        if ($LASTEXITCODE -in 0, 1641, 3010) { break }
        if ($i -eq 3) { throw "choco install $Name $Version failed with exit code $LASTEXITCODE" }
        Write-Host "choco install $Name failed ($LASTEXITCODE), attempt $i; retrying"
        Start-Sleep -Seconds 30
    }
    Assert-ExitCode -ExitCode $LASTEXITCODE -What "choco install $Name $Version"
    Update-SessionPath
}

function Assert-ToolOutput {
    # Runs a tool and checks its output matches Pattern: the proof that an install step worked.
    param(
        [Parameter(Mandatory)] [string] $Command,
        [string[]] $Arguments = @(),
        [Parameter(Mandatory)] [string] $Pattern
    )
    Update-SessionPath
    if (-not (Get-Command $Command -ErrorAction SilentlyContinue)) { throw "$Command is not on PATH after its install" }
    $ErrorActionPreference = 'Continue'
    $output = (& $Command @Arguments 2>&1 | ForEach-Object { [string] $_ }) -join "`n"
    $code = $LASTEXITCODE
    if ($code -ne 0) { throw "$Command $($Arguments -join ' ') exited with $code`: $output" }
    $line = @($output -split "`n" | Where-Object { $_ -match $Pattern }) | Select-Object -First 1
    if (-not $line) { throw "$Command $($Arguments -join ' ') printed '$output', expected a line matching '$Pattern'" }
    Write-Host "verified: $($line.Trim())"
}


function Get-KilnTempFolder {
    # Where downloads land before they are verified: %TEMP% on the build VM.
    if ($env:TEMP) { return $env:TEMP }
    [IO.Path]::GetTempPath()
}

function Get-KilnProperty {
    # A property of a parsed JSON object, or $Default when it is absent (safe under strict mode).
    param($Object, [Parameter(Mandatory)] [string] $Name, $Default = $null)
    if ($null -eq $Object) { return $Default }
    if ($Object -is [System.Collections.IDictionary]) {
        if ($Object.Contains($Name)) { return $Object[$Name] }
        return $Default
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return $Default }
    $property.Value
}

function ConvertFrom-KilnJsonList {
    # The items of a JSON array, one by one. Windows PowerShell's ConvertFrom-Json writes an array as
    # ONE object (PowerShell 7 enumerates it), so @(ConvertFrom-Json ...) would wrap it there; the
    # foreach over the assigned value enumerates on both.
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Json)
    $parsed = ConvertFrom-Json -InputObject $Json
    foreach ($item in $parsed) { $item }
}

# --- Web access: the only two functions that touch the network (the tests mock them) -------------

function Get-KilnWebText {
    # GET Url and return the body as text. 5 tries with growing pauses on no answer, 429 and 5xx; other
    # HTTP errors fail at once, naming the URL and status.
    param(
        [Parameter(Mandatory)] [string] $Url,
        [hashtable] $Headers = @{},
        [int] $Attempts = 5
    )
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $ProgressPreference = 'SilentlyContinue'
    for ($i = 1; $i -le $Attempts; $i++) {
        try {
            $response = Invoke-WebRequest -Uri $Url -Headers $Headers -UseBasicParsing -TimeoutSec 120 -ErrorAction Stop
            $content = $response.Content
            if ($content -is [byte[]]) { $content = [Text.Encoding]::UTF8.GetString($content) }
            return [string] $content
        } catch {
            $status = 0
            if ($_.Exception.PSObject.Properties['Response'] -and $_.Exception.Response) { $status = [int] $_.Exception.Response.StatusCode }
            $retry = $status -eq 0 -or $status -eq 429 -or $status -ge 500
            if (-not $retry) { throw "GET $Url answered HTTP ${status}: $($_.Exception.Message)" }
            if ($i -eq $Attempts) { throw "GET $Url failed after $Attempts attempts: $($_.Exception.Message)" }
            Write-Host "GET $Url failed (attempt $i, HTTP $status): $($_.Exception.Message); retrying"
            Start-Sleep -Seconds (5 * $i)
        }
    }
}

function Save-KilnDownload {
    # Downloads Url to Path (5 tries, growing pauses) and returns Path. Verifies nothing by itself:
    # Save-KilnVerifiedDownload does, before any caller may run what was downloaded.
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $Path,
        [int] $Attempts = 5
    )
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $ProgressPreference = 'SilentlyContinue'  # the progress bar makes Invoke-WebRequest 10x slower on 5.1
    for ($i = 1; $i -le $Attempts; $i++) {
        try {
            Invoke-WebRequest -Uri $Url -OutFile $Path -UseBasicParsing -ErrorAction Stop
            return $Path
        } catch {
            if ($i -eq $Attempts) { throw "download of $Url failed after $Attempts attempts: $($_.Exception.Message)" }
            Write-Host "download of $Url failed (attempt $i): $($_.Exception.Message); retrying"
            Start-Sleep -Seconds (5 * $i)
        }
    }
}

# --- Verification: checksums and Authenticode, always before anything downloaded runs ------------

function Get-KilnFileHash {
    # Lowercase hex digest of a file.
    param([Parameter(Mandatory)] [string] $Path, [ValidateSet('SHA256', 'SHA512')] [string] $Algorithm = 'SHA256')
    (Get-FileHash -LiteralPath $Path -Algorithm $Algorithm).Hash.ToLowerInvariant()
}

function ConvertFrom-KilnBase64Hash {
    # NuGet feeds publish PackageHash in base64; the rest of kiln compares lowercase hex.
    param([Parameter(Mandatory)] [string] $Value)
    ([BitConverter]::ToString([Convert]::FromBase64String($Value)) -replace '-', '').ToLowerInvariant()
}

function Assert-KilnFileHash {
    # Throws, after deleting the file, when its digest is not the expected one.
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string] $Expected,
        [ValidateSet('SHA256', 'SHA512')] [string] $Algorithm = 'SHA256',
        [Parameter(Mandatory)] [string] $What,
        [string] $Source = 'its vendor'
    )
    $actual = Get-KilnFileHash -Path $Path -Algorithm $Algorithm
    if ($actual -ne $Expected.ToLowerInvariant()) {
        Remove-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
        throw "$Algorithm of $What ($(Split-Path -Leaf $Path)) is $actual, but $Source publishes $($Expected.ToLowerInvariant()): the download is not what the vendor released, so it is deleted and not installed"
    }
    Write-Host "verified: $Algorithm of $(Split-Path -Leaf $Path) matches $Source"
}

function Get-KilnAuthenticodeSignature {
    # The one call to Get-AuthenticodeSignature (Windows only; the Linux tests mock this function).
    param([Parameter(Mandatory)] [string] $Path)
    Get-AuthenticodeSignature -FilePath $Path
}

function Get-KilnSignerName {
    # The signer certificate's common name (CN, without the quotes a comma forces), or ''.
    param($Certificate)
    if ($null -eq $Certificate) { return '' }
    [string] $Certificate.GetNameInfo([Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false)
}

function Assert-KilnAuthenticode {
    # Throws, after deleting the file, unless its Authenticode signature is valid (the chain to a
    # trusted root checks out and the file is unchanged since signing) and its signer is one of
    # Publisher (the certificate's common name, e.g. 'Microsoft Corporation').
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string[]] $Publisher,
        [Parameter(Mandatory)] [string] $What
    )
    $signature = Get-KilnAuthenticodeSignature -Path $Path
    $status = [string] (Get-KilnProperty $signature 'Status' 'NotSigned')
    $signer = Get-KilnSignerName (Get-KilnProperty $signature 'SignerCertificate')
    $problem = $null
    if ($status -ne 'Valid') {
        $problem = "its Authenticode signature is not valid (status ${status}: $(Get-KilnProperty $signature 'StatusMessage' 'no message'))"
    } elseif ($Publisher -notcontains $signer) {
        $problem = "it is signed by '$signer', not by $(($Publisher | ForEach-Object { "'$_'" }) -join ' or ')"
    }
    if ($problem) {
        Remove-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
        throw "$What ($(Split-Path -Leaf $Path)) is refused: $problem; it is deleted and not run"
    }
    Write-Host "verified: $(Split-Path -Leaf $Path) is signed by $signer (Authenticode valid)"
}

function Save-KilnVerifiedDownload {
    # Downloads a resolved tool (Resolve-Kiln*) into Folder and returns the path only once its
    # checksum and, where the tool names a publisher, its Authenticode signature hold. On any
    # mismatch the file is deleted and this throws: nothing of it has run.
    param([Parameter(Mandatory)] $Tool, [string] $Folder = (Get-KilnTempFolder))
    $path = Join-Path $Folder $Tool.FileName
    $null = Save-KilnDownload -Url $Tool.Url -Path $path
    $what = "$($Tool.Name) $($Tool.Version)"
    if ($Tool.Hash) {
        Assert-KilnFileHash -Path $path -Expected $Tool.Hash -Algorithm $Tool.HashAlgorithm -What $what -Source $Tool.HashSource
    } elseif (-not $Tool.Publisher) {
        Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
        throw "$what has neither a checksum nor a publisher to verify: refusing to install it"
    }
    if ($Tool.Publisher) { Assert-KilnAuthenticode -Path $path -Publisher $Tool.Publisher -What $what }
    $path
}

function Expand-KilnZip {
    # Unpacks a verified zip (a nupkg saved as .zip, syft's release zip).
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Destination)
    Expand-Archive -LiteralPath $Path -DestinationPath $Destination -Force
}

function Invoke-KilnInstaller {
    # Runs a verified installer and checks its exit code (an .msi goes through msiexec, quietly).
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [Parameter(Mandatory)] [string] $What,
        [int[]] $Allowed = @(0, 1641, 3010)
    )
    if ($FilePath -like '*.msi') {
        $arguments = @('/i', "`"$FilePath`"", '/qn', '/norestart') + $ArgumentList
        $process = Start-Process -FilePath 'msiexec.exe' -ArgumentList $arguments -Wait -PassThru
    } elseif ($ArgumentList.Count -gt 0) {
        $process = Start-Process -FilePath $FilePath -ArgumentList $ArgumentList -Wait -PassThru
    } else {
        # Start-Process refuses an empty -ArgumentList.
        $process = Start-Process -FilePath $FilePath -Wait -PassThru
    }
    Assert-ExitCode -ExitCode $process.ExitCode -What $What -Allowed $Allowed
}

# --- Versions and toolset lines -----------------------------------------------------------------
# A toolset entry's "version" is a line: latest, N.x / N.* (a major line), N.M.x / N.M.* (a minor
# line), or an exact version (a pin, which must carry its checksum). Node also knows 'active LTS'.

function ConvertTo-KilnVersionKey {
    # The numbers of a version, for ordering: 2.47.1.windows.2 -> 2, 47, 1, 2.
    param([Parameter(Mandatory)] [string] $Version)
    , @([regex]::Matches($Version, '\d+') | ForEach-Object { [long] $_.Value })
}

function Compare-KilnVersion {
    # -1, 0 or 1 as A is older than, equal to or newer than B (missing numbers count as 0).
    param([Parameter(Mandatory)] [string] $A, [Parameter(Mandatory)] [string] $B)
    $x = ConvertTo-KilnVersionKey $A
    $y = ConvertTo-KilnVersionKey $B
    $n = [Math]::Max($x.Count, $y.Count)
    for ($i = 0; $i -lt $n; $i++) {
        $p = 0; if ($i -lt $x.Count) { $p = $x[$i] }
        $q = 0; if ($i -lt $y.Count) { $q = $y[$i] }
        if ($p -lt $q) { return -1 }
        if ($p -gt $q) { return 1 }
    }
    0
}

function Get-KilnSortedVersions {
    # Versions newest first.
    param([string[]] $Versions = @())
    $list = New-Object System.Collections.Generic.List[string]
    foreach ($v in $Versions) { if ($v) { $list.Add($v) } }
    $list.Sort([Comparison[string]] { param($a, $b) Compare-KilnVersion -A $b -B $a })
    $list.ToArray()
}

function Get-KilnVersionLine {
    # Parses a toolset line: Kind latest | line (Prefix = the numbers a version must start with) | pin
    # | lts ('active LTS', which only the Node resolver knows) | unknown.
    param([AllowEmptyString()] [string] $Line)
    $text = "$Line".Trim()
    if ($text -eq 'latest') { return [pscustomobject]@{ Kind = 'latest'; Text = $text; Prefix = @() } }
    if ($text -match '^(?i:active lts|lts)$') { return [pscustomobject]@{ Kind = 'lts'; Text = $text; Prefix = @() } }
    if ($text -match '^(\d+)(\.\d+)?\.[x*]$') {
        return [pscustomobject]@{ Kind = 'line'; Text = $text; Prefix = (ConvertTo-KilnVersionKey ($text -replace '\.[x*]$', '')) }
    }
    if ($text -match '^v?\d+\.\d+[0-9A-Za-z.+-]*$' -and $text -notmatch '[x*]$') {
        return [pscustomobject]@{ Kind = 'pin'; Text = ($text -replace '^v', ''); Prefix = @() }
    }
    [pscustomobject]@{ Kind = 'unknown'; Text = $text; Prefix = @() }
}

function Format-KilnVersionList {
    # "2.47.1, 2.46.2, ... (newest first)" for messages that say what exists.
    param([string[]] $Versions = @(), [int] $Max = 12)
    $sorted = @(Get-KilnSortedVersions $Versions)
    if ($sorted.Count -eq 0) { return 'nothing' }
    $shown = ($sorted | Select-Object -First $Max) -join ', '
    if ($sorted.Count -gt $Max) { $shown += ", ... ($($sorted.Count) in all)" }
    "$shown (newest first)"
}

function Select-KilnVersion {
    # The newest of Versions on Line. Throws naming what exists when the line is unknown or matches
    # nothing; a pin must be one of Versions exactly.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [AllowEmptyString()] [string] $Line,
        [string[]] $Versions = @()
    )
    $parsed = Get-KilnVersionLine $Line
    $sorted = @(Get-KilnSortedVersions $Versions)
    $found = $null
    if ($parsed.Kind -eq 'latest') {
        $found = $sorted | Select-Object -First 1
    } elseif ($parsed.Kind -eq 'pin') {
        $found = $sorted | Where-Object { $_ -eq $parsed.Text } | Select-Object -First 1
    } elseif ($parsed.Kind -eq 'line') {
        $prefix = @($parsed.Prefix)
        foreach ($candidate in $sorted) {
            $key = ConvertTo-KilnVersionKey $candidate
            $ok = $key.Count -ge $prefix.Count
            for ($i = 0; $ok -and $i -lt $prefix.Count; $i++) { if ($key[$i] -ne $prefix[$i]) { $ok = $false } }
            if ($ok) { $found = $candidate; break }
        }
    } else {
        $hint = ''
        if ($Name -eq 'node') { $hint = ', or active LTS' }
        throw "$Name`: unknown version line '$Line' in toolset.json: use latest, a major line (22.x or 22.*), a minor line (3.12.x or 3.12.*), or an exact version with its sha256$hint. Available: $(Format-KilnVersionList $Versions)"
    }
    if (-not $found) {
        throw "$Name`: no release matches '$Line'. Available: $(Format-KilnVersionList $Versions)"
    }
    [string] $found
}

function Get-KilnPinnedHash {
    # For a pinned entry ("version": "2.47.3"), its "sha256" (lowercase hex). A pin without one is
    # refused: a pin promises the same bytes every build, which only a recorded checksum can keep.
    # $null for lines (their checksum comes from the vendor's index at build time).
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] $Entry, [string] $FileHint = 'the installer')
    $line = Get-KilnVersionLine ([string] (Get-KilnProperty $Entry 'version' ''))
    if ($line.Kind -ne 'pin') { return $null }
    $sha256 = [string] (Get-KilnProperty $Entry 'sha256' '')
    if ($sha256 -notmatch '^[0-9a-fA-F]{64}$') {
        throw "$Name is pinned to $($line.Text) in toolset.json without its checksum: add `"sha256`": `"<SHA-256 of $FileHint>`" beside the version, or use a line such as latest or $(((ConvertTo-KilnVersionKey $line.Text) | Select-Object -First 2) -join '.').x"
    }
    $sha256.ToLowerInvariant()
}

function Resolve-KilnExpectedHash {
    # The SHA-256 to check a download against: the pin's (which must agree with the vendor's when
    # both exist), else the vendor's. Neither: $null when a publisher signature is checked instead,
    # else a refusal.
    param(
        [Parameter(Mandatory)] [string] $What,
        [string] $Pinned,
        [string] $Published,
        [string] $PublishedBy,
        [string[]] $Publisher
    )
    if ($Pinned -and $Published -and $Pinned -ne $Published.ToLowerInvariant()) {
        throw "$What`: toolset.json pins SHA-256 $Pinned but $PublishedBy publishes $($Published.ToLowerInvariant()): not installing it"
    }
    if ($Pinned) { return [pscustomobject]@{ Hash = $Pinned; Source = 'toolset.json (pinned)' } }
    if ($Published) { return [pscustomobject]@{ Hash = $Published.ToLowerInvariant(); Source = $PublishedBy } }
    if ($Publisher) { return [pscustomobject]@{ Hash = $null; Source = $null } }
    throw "$What`: the vendor publishes no SHA-256 for it: pin the version with its sha256 in toolset.json"
}

function New-KilnTool {
    # What every resolver returns: enough to download, verify, install and report one tool.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Version,
        [Parameter(Mandatory)] [string] $Requested,
        [string] $Url,
        [string] $FileName,
        [string] $Hash,
        [string] $HashAlgorithm = 'SHA256',
        [string] $HashSource,
        [string[]] $Publisher,
        [Parameter(Mandatory)] [string] $Source,
        [string] $VerifiedBy
    )
    if (-not $VerifiedBy) {
        if ($Hash) { $VerifiedBy = $HashAlgorithm.ToLowerInvariant() } elseif ($Publisher) { $VerifiedBy = 'authenticode' } else { $VerifiedBy = 'none' }
    }
    [pscustomobject]@{
        Name = $Name; Version = $Version; Requested = $Requested; Url = $Url; FileName = $FileName
        Hash = $Hash; HashAlgorithm = $HashAlgorithm; HashSource = $HashSource; Publisher = $Publisher
        Source = $Source; VerifiedBy = $VerifiedBy
    }
}

function Get-KilnChecksumFromList {
    # The hex digest of FileName in a sha256sum-style list ("<hex>  name" or "<hex> *name"), or $null.
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Text, [Parameter(Mandatory)] [string] $FileName)
    foreach ($line in ($Text -split "`r?`n")) {
        if ($line -match '^\s*([0-9a-fA-F]{64}|[0-9a-fA-F]{128})\s+\*?(\S.*?)\s*$' -and $Matches[2] -eq $FileName) { return $Matches[1].ToLowerInvariant() }
    }
    $null
}

# --- GitHub releases (git, CMake, Azure CLI, azd, the Azure DevOps agent, syft) -----------------

function Get-KilnGitHubApiUrl {
    # GITHUB_API_URL (set on GitHub Enterprise, e.g. https://ghe.example.com/api/v3), else api.github.com.
    if ($env:GITHUB_API_URL) { return $env:GITHUB_API_URL.TrimEnd('/') }
    'https://api.github.com'
}

function Get-KilnGitHubText {
    param([Parameter(Mandatory)] [string] $Url)
    Get-KilnWebText -Url $Url -Headers @{ Accept = 'application/vnd.github+json'; 'X-GitHub-Api-Version' = '2022-11-28' }
}

function Get-KilnGitHubReleaseVersion {
    # The version a release's tag names through TagPattern's "version" group, or $null for a tag the
    # pattern refuses (release candidates, other products of the same repository).
    param([Parameter(Mandatory)] $Release, [Parameter(Mandatory)] [string] $TagPattern)
    if ((Get-KilnProperty $Release 'draft' $false) -or (Get-KilnProperty $Release 'prerelease' $false)) { return $null }
    $m = [regex]::Match([string] (Get-KilnProperty $Release 'tag_name' ''), $TagPattern)
    if (-not $m.Success) { return $null }
    $m.Groups['version'].Value
}

function Resolve-KilnGitHubRelease {
    # One release of owner/repo on Line: latest through /releases/latest (GitHub's newest non-draft,
    # non-prerelease release), a line or a pin through the release list (20 a page, at most 5 pages:
    # Windows PowerShell's ConvertFrom-Json refuses answers over 2 MB, and a page of releases with
    # their notes and assets is some 50 KB each).
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Repository,
        [Parameter(Mandatory)] [string] $Line,
        [Parameter(Mandatory)] [string] $TagPattern,
        [string] $ApiUrl = (Get-KilnGitHubApiUrl),
        [int] $MaxPages = 5
    )
    $parsed = Get-KilnVersionLine $Line
    if ($parsed.Kind -eq 'latest') {
        $release = ConvertFrom-Json -InputObject (Get-KilnGitHubText -Url "$ApiUrl/repos/$Repository/releases/latest")
        $version = Get-KilnGitHubReleaseVersion -Release $release -TagPattern $TagPattern
        if (-not $version) { throw "$Name`: the latest release of $Repository is tagged '$($release.tag_name)', which does not match $TagPattern" }
        return [pscustomobject]@{ Version = $version; Release = $release }
    }
    $byVersion = @{}
    for ($page = 1; $page -le $MaxPages; $page++) {
        $releases = @(ConvertFrom-KilnJsonList (Get-KilnGitHubText -Url "$ApiUrl/repos/$Repository/releases?per_page=20&page=$page"))
        foreach ($release in $releases) {
            $version = Get-KilnGitHubReleaseVersion -Release $release -TagPattern $TagPattern
            if ($version -and -not $byVersion.ContainsKey($version)) { $byVersion[$version] = $release }
        }
        if ($releases.Count -lt 20) { break }
    }
    $version = Select-KilnVersion -Name $Name -Line $Line -Versions @($byVersion.Keys)
    [pscustomobject]@{ Version = $version; Release = $byVersion[$version] }
}

function Get-KilnGitHubAsset {
    # The one asset of a release whose name matches Pattern.
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] $Release, [Parameter(Mandatory)] [string] $Pattern)
    $assets = @(Get-KilnProperty $Release 'assets' @())
    $found = @($assets | Where-Object { $_.name -match $Pattern })
    if ($found.Count -ne 1) {
        throw "$Name`: release $($Release.tag_name) has $($found.Count) assets matching $Pattern (assets: $((@($assets | ForEach-Object { $_.name }) -join ', ')))"
    }
    $found[0]
}

function Get-KilnGitHubAssetDigest {
    # GitHub's own SHA-256 of an asset ("digest": "sha256:<hex>"), or $null (assets uploaded before
    # GitHub computed digests have none).
    param([Parameter(Mandatory)] $Asset)
    $digest = [string] (Get-KilnProperty $Asset 'digest' '')
    if ($digest -match '^sha256:([0-9a-fA-F]{64})$') { return $Matches[1].ToLowerInvariant() }
    $null
}

function Resolve-KilnGitHubTool {
    # A toolset entry whose "github" block names the repository, the tag pattern (with a "version"
    # group), the installer asset and optionally a checksums asset (sha256sum format); without one
    # the asset's GitHub digest is the published checksum. "publisher": its Authenticode signer,
    # checked as well.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] $Entry,
        [string] $ApiUrl = (Get-KilnGitHubApiUrl),
        # Accept a pin without a recorded checksum, checked against the release's checksums asset
        # only (syft: pinned so reports stay comparable, as on the Linux image).
        [switch] $PinVerifiedByChecksumsAsset
    )
    $github = $Entry.github
    $line = [string] $Entry.version
    $publisher = @(Get-KilnProperty $Entry 'publisher' @())
    if ($PinVerifiedByChecksumsAsset -and (Get-KilnProperty $github 'checksums') -and -not (Get-KilnProperty $Entry 'sha256')) {
        $pinned = $null
    } else {
        $pinned = Get-KilnPinnedHash -Name $Name -Entry $Entry -FileHint "the asset matching $($github.asset)"
    }
    $resolved = Resolve-KilnGitHubRelease -Name $Name -Repository $github.repository -Line $line -TagPattern $github.tagPattern -ApiUrl $ApiUrl
    $asset = Get-KilnGitHubAsset -Name $Name -Release $resolved.Release -Pattern $github.asset
    $checksums = [string] (Get-KilnProperty $github 'checksums' '')
    if ($checksums) {
        $listAsset = Get-KilnGitHubAsset -Name $Name -Release $resolved.Release -Pattern $checksums
        $published = Get-KilnChecksumFromList -Text (Get-KilnWebText -Url $listAsset.browser_download_url) -FileName $asset.name
        if (-not $published) { throw "$Name`: $($listAsset.name) lists no checksum for $($asset.name)" }
        $publishedBy = $listAsset.name
    } else {
        $published = Get-KilnGitHubAssetDigest -Asset $asset
        $publishedBy = "GitHub's digest of the release asset"
    }
    $expected = Resolve-KilnExpectedHash -What "$Name $($resolved.Version)" -Pinned $pinned -Published $published -PublishedBy $publishedBy -Publisher $publisher
    New-KilnTool -Name $Name -Version $resolved.Version -Requested $line -Url $asset.browser_download_url -FileName $asset.name `
        -Hash $expected.Hash -HashSource $expected.Source -Publisher $publisher -Source $resolved.Release.html_url
}

# --- Node.js (nodejs.org/dist index.json + SHASUMS256.txt) ---------------------------------------

function Get-KilnNodeDistUrl {
    # NODE_DIST_URL (a mirror of nodejs.org/dist), else https://nodejs.org/dist.
    if ($env:NODE_DIST_URL) { return $env:NODE_DIST_URL.TrimEnd('/') }
    'https://nodejs.org/dist'
}

function Resolve-KilnNodeRelease {
    # Node.js on Line from the dist index: 'active LTS' is the newest release of the newest major that
    # has entered LTS (index.json's lts is its codename, false before); the MSI's SHA-256 comes from
    # that release's SHASUMS256.txt.
    param([Parameter(Mandatory)] $Entry, [string] $DistUrl = (Get-KilnNodeDistUrl))
    $line = [string] $Entry.version
    $pinned = Get-KilnPinnedHash -Name 'node' -Entry $Entry -FileHint "node-v$line-x64.msi"
    $index = @(ConvertFrom-KilnJsonList (Get-KilnWebText -Url "$DistUrl/index.json"))
    $withMsi = @($index | Where-Object { @($_.files) -contains 'win-x64-msi' })
    $versions = @($withMsi | ForEach-Object { ([string] $_.version).TrimStart('v') })
    if ((Get-KilnVersionLine $line).Kind -eq 'lts') {
        $lts = @($withMsi | Where-Object { $_.lts })
        if ($lts.Count -eq 0) { throw "node: no LTS release in $DistUrl/index.json" }
        $major = (@($lts | ForEach-Object { (ConvertTo-KilnVersionKey $_.version)[0] }) | Measure-Object -Maximum).Maximum
        $version = Select-KilnVersion -Name 'node' -Line "$major.x" -Versions $versions
    } else {
        $version = Select-KilnVersion -Name 'node' -Line $line -Versions $versions
    }
    $file = "node-v$version-x64.msi"
    $folder = "$DistUrl/v$version"
    $published = Get-KilnChecksumFromList -Text (Get-KilnWebText -Url "$folder/SHASUMS256.txt") -FileName $file
    $expected = Resolve-KilnExpectedHash -What "node $version" -Pinned $pinned -Published $published -PublishedBy "$folder/SHASUMS256.txt"
    New-KilnTool -Name 'node' -Version $version -Requested $line -Url "$folder/$file" -FileName $file -Hash $expected.Hash -HashSource $expected.Source -Source "$folder/"
}

# --- Python (python.org's downloads API) --------------------------------------------------------

function Get-KilnPythonApiUrl {
    # PYTHON_API_URL, else python.org's downloads API.
    if ($env:PYTHON_API_URL) { return $env:PYTHON_API_URL.TrimEnd('/') }
    'https://www.python.org/api/v2/downloads'
}

function Resolve-KilnPythonRelease {
    # Python on Line from python.org's downloads API: the published final releases, then the release
    # files of the newest one on the line that has a Windows installer (security-only releases
    # ship sources only, so 3.12.* may land on an older 3.12 than the newest). Checksum: the
    # release file's sha256_sum (python.org fills it since late 2025; older files have only md5_sum,
    # which kiln does not trust), else the installer's Authenticode signature by the Python
    # Software Foundation. A pin carries its own sha256.
    param([Parameter(Mandatory)] $Entry, [string] $ApiUrl = (Get-KilnPythonApiUrl))
    $line = [string] $Entry.version
    $pinned = Get-KilnPinnedHash -Name 'python' -Entry $Entry -FileHint "python-$line-amd64.exe"
    $releases = @(ConvertFrom-KilnJsonList (Get-KilnWebText -Url "$ApiUrl/release/?is_published=true&pre_release=false&version=3"))
    $byVersion = @{}
    foreach ($release in $releases) {
        if ($release.pre_release -or -not $release.is_published) { continue }
        if ([string] $release.name -match '^Python (\d+\.\d+\.\d+)$') { $byVersion[$Matches[1]] = $release }
    }
    $candidates = @($byVersion.Keys)
    $skipped = @()
    while ($true) {
        $version = Select-KilnVersion -Name 'python' -Line $line -Versions $candidates
        $release = $byVersion[$version]
        $id = ([string] $release.resource_uri).TrimEnd('/').Split('/')[-1]
        $files = @(ConvertFrom-KilnJsonList (Get-KilnWebText -Url "$ApiUrl/release_file/?release=$id"))
        $installer = @($files | Where-Object { ([string] $_.url) -match "/python-$([regex]::Escape($version))-amd64\.exe$" }) | Select-Object -First 1
        if ($installer) { break }
        $skipped += $version
        $candidates = @($candidates | Where-Object { $_ -ne $version })
        if ((Get-KilnVersionLine $line).Kind -eq 'pin' -or $candidates.Count -eq 0) {
            throw "python: no Windows installer (python-<version>-amd64.exe) for $($skipped -join ', ') on python.org (source-only releases); choose another line"
        }
    }
    if ($skipped.Count -gt 0) { Write-Host "python: $($skipped -join ', ') ship sources only; using $version, the newest on '$line' with a Windows installer" }
    $published = [string] (Get-KilnProperty $installer 'sha256_sum' '')
    $expected = Resolve-KilnExpectedHash -What "python $version" -Pinned $pinned -Published $published -PublishedBy "python.org's sha256_sum" -Publisher @('Python Software Foundation')
    $url = [string] $installer.url
    New-KilnTool -Name 'python' -Version $version -Requested $line -Url $url -FileName (Split-Path -Leaf $url) -Hash $expected.Hash -HashSource $expected.Source `
        -Publisher @('Python Software Foundation') -Source ($url.Substring(0, $url.LastIndexOf('/') + 1))
}

# --- NuGet v2 feeds (the Chocolatey community feed, the PowerShell Gallery) -------------------------

function Get-KilnNuGetFeedVersions {
    # Every listed, non-prerelease version of Id in a NuGet v2 (OData) feed: FindPackagesById,
    # following the feed's next links. Each: Version, Url (the package), Hash (hex) and HashAlgorithm.
    param([Parameter(Mandatory)] [string] $FeedUrl, [Parameter(Mandatory)] [string] $Id, [int] $MaxPages = 20)
    $ns = @{ a = 'http://www.w3.org/2005/Atom'; d = 'http://schemas.microsoft.com/ado/2007/08/dataservices'; m = 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata' }
    $url = "$($FeedUrl.TrimEnd('/'))/FindPackagesById()?id='$Id'"
    $found = New-Object System.Collections.Generic.List[object]
    for ($page = 1; $url -and $page -le $MaxPages; $page++) {
        [xml] $doc = Get-KilnWebText -Url $url -Headers @{ Accept = 'application/atom+xml' }
        $manager = New-Object System.Xml.XmlNamespaceManager $doc.NameTable
        foreach ($key in $ns.Keys) { $manager.AddNamespace($key, $ns[$key]) }
        foreach ($entry in $doc.SelectNodes('/a:feed/a:entry', $manager)) {
            $text = { param($n) $node = $entry.SelectSingleNode("m:properties/d:$n", $manager); if ($node) { $node.InnerText } else { '' } }
            # A prerelease by the feed's flag or by its SemVer label (1.0.0-preview).
            if ((& $text 'IsPrerelease') -eq 'true' -or (& $text 'Version') -match '-') { continue }
            $content = $entry.SelectSingleNode('a:content', $manager)
            $hash = & $text 'PackageHash'
            $found.Add([pscustomobject]@{
                    Version = & $text 'Version'
                    Url = $(if ($content) { $content.GetAttribute('src') } else { '' })
                    Hash = $(if ($hash) { ConvertFrom-KilnBase64Hash $hash } else { '' })
                    HashAlgorithm = (& $text 'PackageHashAlgorithm').ToUpperInvariant()
                })
        }
        $next = $doc.SelectSingleNode("/a:feed/a:link[@rel='next']", $manager)
        $url = $(if ($next) { $next.GetAttribute('href') } else { $null })
    }
    $found.ToArray()
}

function Resolve-KilnNuGetPackage {
    # Id on Line from a NuGet v2 feed, with the feed's SHA-512 of that package.
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $FeedUrl,
        [Parameter(Mandatory)] [string] $Id,
        [Parameter(Mandatory)] [string] $Line
    )
    $packages = @(Get-KilnNuGetFeedVersions -FeedUrl $FeedUrl -Id $Id)
    $version = Select-KilnVersion -Name $Name -Line $Line -Versions @($packages | ForEach-Object { $_.Version })
    $package = @($packages | Where-Object { $_.Version -eq $version })[0]
    if (-not $package.Hash -or $package.HashAlgorithm -ne 'SHA512') { throw "$Name`: $FeedUrl publishes no SHA-512 for $Id $version" }
    $package
}

# --- npm packages (pnpm, yarn) and pip ---------------------------------------------------------------

function Invoke-KilnNpmView {
    # `npm view <package> versions --json`: every version the registry lists (npm's own client, so
    # its registry configuration and proxy apply).
    param([Parameter(Mandatory)] [string] $Package)
    $output = (& npm view $Package versions --json 2>&1 | ForEach-Object { [string] $_ }) -join "`n"
    if ($LASTEXITCODE -ne 0) { throw "npm view $Package versions failed ($LASTEXITCODE): $output" }
    $output
}

function Get-KilnNpmRegistry {
    if ($env:NPM_CONFIG_REGISTRY) { return $env:NPM_CONFIG_REGISTRY.TrimEnd('/') + '/' }
    'https://registry.npmjs.org/'
}

function Resolve-KilnNpmPackage {
    # A global npm package on Line. npm itself checks the tarball against the registry's integrity
    # hash (sha512) when it installs, so no checksum is carried here.
    param([Parameter(Mandatory)] $Entry)
    $name = [string] $Entry.name
    $line = [string] $Entry.version
    $all = @(ConvertFrom-KilnJsonList (Invoke-KilnNpmView -Package $name))
    $stable = @($all | ForEach-Object { [string] $_ } | Where-Object { $_ -match '^\d+\.\d+\.\d+$' })
    $version = Select-KilnVersion -Name $name -Line $line -Versions $stable
    New-KilnTool -Name $name -Version $version -Requested $line -Source "$(Get-KilnNpmRegistry)$name" -VerifiedBy 'npm-integrity'
}

function Get-KilnPyPISimpleUrl {
    # PIP_INDEX_URL's simple API (a mirror), else PyPI's.
    if ($env:PIP_INDEX_URL) { return $env:PIP_INDEX_URL.TrimEnd('/') }
    'https://pypi.org/simple'
}

function Resolve-KilnPipWheel {
    # pip on Line from the package index's JSON simple API (PEP 691): the pure-Python wheel and the
    # SHA-256 the index publishes for it.
    param([Parameter(Mandatory)] $Entry, [string] $IndexUrl = (Get-KilnPyPISimpleUrl))
    $line = [string] $Entry.version
    $pinned = Get-KilnPinnedHash -Name 'pip' -Entry $Entry -FileHint "pip-$line-py3-none-any.whl"
    $project = ConvertFrom-Json -InputObject (Get-KilnWebText -Url "$IndexUrl/pip/" -Headers @{ Accept = 'application/vnd.pypi.simple.v1+json' })
    $wheels = @{}
    foreach ($file in @($project.files)) {
        if ((Get-KilnProperty $file 'yanked' $false) -ne $false) { continue }
        if ([string] $file.filename -match '^pip-(\d+(?:\.\d+)+)-py3-none-any\.whl$') { $wheels[$Matches[1]] = $file }
    }
    $version = Select-KilnVersion -Name 'pip' -Line $line -Versions @($wheels.Keys)
    $wheel = $wheels[$version]
    $expected = Resolve-KilnExpectedHash -What "pip $version" -Pinned $pinned -Published ([string] (Get-KilnProperty $wheel.hashes 'sha256' '')) -PublishedBy "$IndexUrl/pip/"
    New-KilnTool -Name 'pip' -Version $version -Requested $line -Url $wheel.url -FileName $wheel.filename -Hash $expected.Hash -HashSource $expected.Source -Source "$IndexUrl/pip/"
}

# --- The Azure DevOps agent ----------------------------------------------------------------------

function Get-KilnAgentSha256FromNotes {
    # The SHA-256 a microsoft/azure-pipelines-agent release's notes give for FileName, from their
    # "Agent Downloads" table: | Windows x64 | [vsts-agent-win-x64-<v>.zip](<url>) | <sha256> |
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Body, [Parameter(Mandatory)] [string] $FileName)
    $m = [regex]::Match($Body, '\[' + [regex]::Escape($FileName) + '\]\([^)]*\)\s*\|\s*([0-9a-fA-F]{64})\s*\|')
    if ($m.Success) { return $m.Groups[1].Value.ToLowerInvariant() }
    $null
}

function Resolve-KilnAdoAgent {
    # The agent AGENT_VERSION names: a pin takes its SHA-256 from AGENT_SHA256 (Packer's agent_sha256)
    # or toolset.json's adoAgent.sha256 map, and is refused without one; latest or a line (4.x) is
    # resolved from the agent's GitHub releases, its SHA-256 read from that release's notes.
    param([Parameter(Mandatory)] $Entry, [Parameter(Mandatory)] [string] $Version, [string] $Sha256, [string] $ApiUrl = (Get-KilnGitHubApiUrl))
    $parsed = Get-KilnVersionLine $Version
    if ($parsed.Kind -eq 'pin') {
        if (-not $Sha256) {
            $known = $Entry.sha256.PSObject.Properties[$parsed.Text]
            if ($known) { $Sha256 = [string] $known.Value }
        }
        if ($Sha256 -notmatch '^[0-9a-fA-F]{64}$') {
            throw "azure-pipelines-agent $($parsed.Text) has no known SHA-256: add it to toolset.json (adoAgent.sha256) or pass -var agent_sha256=<the SHA-256 of vsts-agent-win-x64-$($parsed.Text).zip from the release notes>, or use latest"
        }
        $file = "vsts-agent-win-x64-$($parsed.Text).zip"
        return New-KilnTool -Name 'azure-pipelines-agent' -Version $parsed.Text -Requested $Version -Url ($Entry.downloadUrl -f $parsed.Text) -FileName $file `
            -Hash $Sha256.ToLowerInvariant() -HashSource 'toolset.json / agent_sha256 (pinned)' -Source "https://github.com/$($Entry.github.repository)/releases/tag/v$($parsed.Text)"
    }
    $resolved = Resolve-KilnGitHubRelease -Name 'azure-pipelines-agent' -Repository $Entry.github.repository -Line $Version -TagPattern $Entry.github.tagPattern -ApiUrl $ApiUrl
    $file = "vsts-agent-win-x64-$($resolved.Version).zip"
    $published = Get-KilnAgentSha256FromNotes -Body ([string] (Get-KilnProperty $resolved.Release 'body' '')) -FileName $file
    if (-not $published) { throw "azure-pipelines-agent $($resolved.Version): the release notes of $($resolved.Release.tag_name) give no SHA-256 for $file" }
    New-KilnTool -Name 'azure-pipelines-agent' -Version $resolved.Version -Requested $Version -Url ($Entry.downloadUrl -f $resolved.Version) -FileName $file `
        -Hash $published -HashSource "the release notes of $($resolved.Release.tag_name)" -Source $resolved.Release.html_url
}

# --- Tool records and the software report (docs/software-report.md) ------------------------------

function Get-KilnToolRecordFolder {
    # Where each install script leaves its tool's record for the report; removed with the image
    # folder before Sysprep. KILN_TOOL_RECORD_FOLDER overrides it.
    if ($env:KILN_TOOL_RECORD_FOLDER) { return $env:KILN_TOOL_RECORD_FOLDER }
    Join-Path (Get-ImageFolder) 'tool-records'
}

function Write-KilnUtf8File {
    # UTF-8 without a byte order mark (Windows PowerShell's -Encoding UTF8 writes one, which
    # JSON.parse refuses).
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [AllowEmptyString()] [string] $Text)
    [IO.File]::WriteAllText($Path, $Text, (New-Object Text.UTF8Encoding $false))
}

function Add-KilnToolRecord {
    # Records one installed tool for the software report: name (the stable key reports are compared
    # by), version, the toolset line it was resolved from, where it came from and how its download
    # was verified. Every install script calls this once per tool, after the tool answered.
    [CmdletBinding(DefaultParameterSetName = 'Fields')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Tool')] $Tool,
        [Parameter(Mandatory, ParameterSetName = 'Fields')] [string] $Name,
        [Parameter(Mandatory, ParameterSetName = 'Fields')] [string] $Version,
        [Parameter(Mandatory, ParameterSetName = 'Fields')] [string] $Requested,
        [Parameter(Mandatory, ParameterSetName = 'Fields')] [string] $Source,
        [Parameter(Mandatory, ParameterSetName = 'Fields')]
        [ValidateSet('sha256', 'sha512', 'authenticode', 'apt-signature', 'npm-integrity', 'nuget-signature', 'chocolatey-checksum', 'os')]
        [string] $VerifiedBy
    )
    if ($PSCmdlet.ParameterSetName -eq 'Tool') {
        $Name = $Tool.Name; $Version = $Tool.Version; $Requested = $Tool.Requested; $Source = $Tool.Source; $VerifiedBy = $Tool.VerifiedBy
    }
    if ($Name -cnotmatch '^[a-z0-9][a-z0-9.-]*$') { throw "tool record name '$Name' must be lowercase (the key reports are compared by)" }
    $folder = Get-KilnToolRecordFolder
    New-Item -ItemType Directory -Path $folder -Force | Out-Null
    $record = [ordered]@{ name = $Name; version = $Version; requested = $Requested; source = $Source; verifiedBy = $VerifiedBy }
    Write-KilnUtf8File -Path (Join-Path $folder "$Name.json") -Text ($record | ConvertTo-Json -Depth 3)
    Write-Host "recorded: $Name $Version (requested $Requested, verified by $VerifiedBy)"
}

function Get-KilnToolRecords {
    # Every recorded tool, sorted by name.
    $folder = Get-KilnToolRecordFolder
    if (-not (Test-Path -LiteralPath $folder)) { return }
    @(Get-ChildItem -LiteralPath $folder -Filter '*.json' | Sort-Object Name | ForEach-Object {
            ConvertFrom-Json -InputObject (Get-Content -Raw -LiteralPath $_.FullName)
        })
}

function Get-KilnVersionPattern {
    # A regex finding Version in a tool's output as a whole version (22.12.0 not in 122.12.0 or 22.12.01).
    param([Parameter(Mandatory)] [string] $Version)
    '(?<![\d.])' + [regex]::Escape($Version) + '(?!\d)'
}

function Get-KilnOsInfo {
    # Caption and version from CIM, the full build (10.0.20348.2849) from the registry's update build
    # revision. Windows only (the tests mock it).
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $current = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    [pscustomobject]@{
        name = [string] $os.Caption
        version = [string] $os.Version
        build = '{0}.{1}.{2}.{3}' -f $current.CurrentMajorVersionNumber, $current.CurrentMinorVersionNumber, $current.CurrentBuildNumber, $current.UBR
    }
}

function Get-KilnImageReference {
    # The build VM's marketplace image as IMDS reports it; exactVersion is the version "latest" was
    # at when the VM was created. IMDS_ENDPOINT overrides the address, as for bootstrap-agent.ps1.
    $endpoint = 'http://169.254.169.254'
    if ($env:IMDS_ENDPOINT) { $endpoint = $env:IMDS_ENDPOINT.TrimEnd('/') }
    $request = @{ Uri = "$endpoint/metadata/instance/compute/storageProfile/imageReference?api-version=2021-12-13"; Headers = @{ Metadata = 'true' }; UseBasicParsing = $true; TimeoutSec = 30; ErrorAction = 'Stop' }
    if ($PSVersionTable.PSVersion.Major -ge 7) { $request.NoProxy = $true }  # IMDS must not go through a proxy
    ConvertFrom-Json -InputObject (Invoke-WebRequest @request).Content
}

function New-KilnSoftwareReport {
    # The report (docs/software-report.md, schemaVersion 1) as an ordered dictionary, from its parts.
    param(
        [Parameter(Mandatory)] $BaseImage,
        [Parameter(Mandatory)] $Os,
        $ImageReference,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Tools,
        $Sbom,
        [datetime] $GeneratedAt = (Get-Date)
    )
    $agent = @($Tools | Where-Object { $_.name -eq 'azure-pipelines-agent' }) | Select-Object -First 1
    if (-not $agent) { throw 'the software report needs the azure-pipelines-agent tool record (install-ado-agent.ps1 writes it)' }
    $baseVersion = [string] (Get-KilnProperty $ImageReference 'exactVersion' '')
    if (-not $baseVersion) { $baseVersion = [string] (Get-KilnProperty $ImageReference 'version' '') }
    if (-not $baseVersion) { $baseVersion = 'unknown' }
    $report = [ordered]@{
        schemaVersion = 1
        image = 'windows'
        generatedAt = $GeneratedAt.ToUniversalTime().ToString('yyyy-MM-dd\THH:mm:ss\Z', [Globalization.CultureInfo]::InvariantCulture)
        os = [ordered]@{ name = [string] $Os.name; version = [string] $Os.version; build = [string] $Os.build }
        baseImage = [ordered]@{ publisher = [string] $BaseImage.publisher; offer = [string] $BaseImage.offer; sku = [string] $BaseImage.sku; version = $baseVersion }
        agent = [ordered]@{ name = 'azure-pipelines-agent'; version = [string] $agent.version }
        tools = @($Tools | Sort-Object { $_.name } | ForEach-Object {
                [ordered]@{ name = [string] $_.name; version = [string] $_.version; requested = [string] $_.requested; source = [string] $_.source; verifiedBy = [string] $_.verifiedBy }
            })
    }
    if ($Sbom) { $report['sbom'] = [ordered]@{ format = [string] $Sbom.format; file = [string] $Sbom.file; generator = [string] $Sbom.generator } }
    $report
}

function ConvertTo-KilnSoftwareReportMarkdown {
    # The same report for people: one table of tools.
    param([Parameter(Mandatory)] $Report)
    $escape = { param($text) ([string] $text) -replace '\|', '\|' }
    $lines = New-Object System.Collections.Generic.List[string]
    $lines.Add("# Software report: $($Report.image) image")
    $lines.Add('')
    $lines.Add("Generated $($Report.generatedAt).")
    $lines.Add('')
    $lines.Add("- OS: $($Report.os.name) $($Report.os.version) (build $($Report.os.build))")
    $lines.Add("- Base image: $($Report.baseImage.publisher) / $($Report.baseImage.offer) / $($Report.baseImage.sku), version $($Report.baseImage.version)")
    $lines.Add("- Agent: $($Report.agent.name) $($Report.agent.version)")
    if ($Report.Contains('sbom')) { $lines.Add("- SBOM: $($Report.sbom.file) ($($Report.sbom.format), $($Report.sbom.generator))") }
    $lines.Add('')
    $lines.Add('| Tool | Version | Requested | Verified by | Source |')
    $lines.Add('| ---- | ------- | --------- | ----------- | ------ |')
    foreach ($tool in $Report.tools) {
        $lines.Add("| $(& $escape $tool.name) | $(& $escape $tool.version) | $(& $escape $tool.requested) | $(& $escape $tool.verifiedBy) | $(& $escape $tool.source) |")
    }
    ($lines -join "`n") + "`n"
}

function Write-KilnSoftwareReport {
    # Writes software-report.json and software-report.md into Folder; returns the report.
    param([Parameter(Mandatory)] $Report, [Parameter(Mandatory)] [string] $Folder)
    New-Item -ItemType Directory -Path $Folder -Force | Out-Null
    Write-KilnUtf8File -Path (Join-Path $Folder 'software-report.json') -Text ($Report | ConvertTo-Json -Depth 6)
    Write-KilnUtf8File -Path (Join-Path $Folder 'software-report.md') -Text (ConvertTo-KilnSoftwareReportMarkdown -Report $Report)
    Write-Host "software report: $(Join-Path $Folder 'software-report.json') ($(@($Report.tools).Count) tools)"
    $Report
}

Export-ModuleMember -Function Get-ImageFolder, Get-Toolset, Update-SessionPath, Assert-ExitCode, Install-ChocoPackage, Assert-ToolOutput, `
    Get-KilnTempFolder, Get-KilnProperty, Get-KilnWebText, Save-KilnDownload, Get-KilnFileHash, ConvertFrom-KilnBase64Hash, Assert-KilnFileHash, `
    Get-KilnAuthenticodeSignature, Get-KilnSignerName, Assert-KilnAuthenticode, Save-KilnVerifiedDownload, Expand-KilnZip, Invoke-KilnInstaller, `
    ConvertTo-KilnVersionKey, Compare-KilnVersion, Get-KilnSortedVersions, Get-KilnVersionLine, Format-KilnVersionList, Select-KilnVersion, `
    Get-KilnPinnedHash, Resolve-KilnExpectedHash, New-KilnTool, Get-KilnChecksumFromList, `
    Get-KilnGitHubApiUrl, Get-KilnGitHubText, ConvertFrom-KilnJsonList, Get-KilnGitHubReleaseVersion, Resolve-KilnGitHubRelease, Get-KilnGitHubAsset, Get-KilnGitHubAssetDigest, Resolve-KilnGitHubTool, `
    Get-KilnNodeDistUrl, Resolve-KilnNodeRelease, Get-KilnPythonApiUrl, Resolve-KilnPythonRelease, Get-KilnNuGetFeedVersions, Resolve-KilnNuGetPackage, `
    Invoke-KilnNpmView, Get-KilnNpmRegistry, Resolve-KilnNpmPackage, Get-KilnPyPISimpleUrl, Resolve-KilnPipWheel, Get-KilnAgentSha256FromNotes, Resolve-KilnAdoAgent, `
    Get-KilnToolRecordFolder, Write-KilnUtf8File, Add-KilnToolRecord, Get-KilnToolRecords, Get-KilnVersionPattern, Get-KilnOsInfo, Get-KilnImageReference, `
    New-KilnSoftwareReport, ConvertTo-KilnSoftwareReportMarkdown, Write-KilnSoftwareReport
