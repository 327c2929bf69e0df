# Shared helpers of the Windows image install scripts: toolset.json access, PATH refresh,
# download with retry and SHA-256 check, Chocolatey installs, and the "does the tool work" checks
# every install step ends with. Windows PowerShell 5.1 compatible (the build VM has nothing newer).

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

function Invoke-DownloadWithRetry {
    # Downloads Url to Path (5 tries, growing pauses); checks the SHA-256 when one is given.
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $Path,
        [string] $Sha256,
        [int] $Attempts = 5
    )
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $ProgressPreference = 'SilentlyContinue'  # the progress bar makes Invoke-WebRequest 10x slower on 5.1
    for ($i = 1; $i -le $Attempts; $i++) {
        try {
            Invoke-WebRequest -Uri $Url -OutFile $Path -UseBasicParsing -ErrorAction Stop
            break
        } catch {
            if ($i -eq $Attempts) { throw "download of $Url failed after $Attempts attempts: $($_.Exception.Message)" }
            Write-Host "download of $Url failed (attempt $i): $($_.Exception.Message); retrying"
            Start-Sleep -Seconds (5 * $i)
        }
    }
    if ($Sha256) {
        $actual = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash
        if ($actual -ne $Sha256.ToUpperInvariant()) {
            Remove-Item -LiteralPath $Path -Force
            throw "SHA-256 of $Url is $actual, expected $($Sha256.ToUpperInvariant())"
        }
        Write-Host "SHA-256 of $(Split-Path -Leaf $Path) verified"
    }
    $Path
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
        [string] $PackageParameters
    )
    $chocoArgs = @('install', $Name, '--version', $Version, '--yes', '--no-progress', '--limit-output')
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

Export-ModuleMember -Function Get-ImageFolder, Get-Toolset, Update-SessionPath, Invoke-DownloadWithRetry, Assert-ExitCode, Install-ChocoPackage, Assert-ToolOutput
