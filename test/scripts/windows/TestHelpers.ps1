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
