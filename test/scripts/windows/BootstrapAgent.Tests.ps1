# Pester tests of packer/windows/scripts/bootstrap-agent.ps1 against the loopback fake IMDS / Key
# Vault server, with the agent's config.cmd replaced by a recording stub and the Windows-only
# functions (machine environment, computer name, services, sleeps) mocked.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:BootstrapScript = Join-Path $script:WindowsScripts 'bootstrap-agent.ps1'
    . $script:BootstrapScript
    $script:Fake = Start-FakeAzure

    function Invoke-Bootstrap {
        # Runs the bootstrap in-process with every stream captured; returns the exit code and streams.
        $all = @(Invoke-AdoBootstrap -AgentRoot $script:Root -LogPath $script:Log *>&1)
        $codes = @($all | Where-Object { $_ -is [int] })
        [pscustomobject]@{
            Code    = if ($codes.Count -eq 1) { $codes[0] } else { "unexpected output: $($codes -join ',')" }
            All     = $all
            Text    = ($all | ForEach-Object { [string] $_ }) -join "`n"
            LogText = if (Test-Path -LiteralPath $script:Log) { Get-Content -Raw -LiteralPath $script:Log } else { '' }
        }
    }

    function Set-WindowsMocks {
        # The permissions and the icacls calls (Windows-only) as the image leaves them; every
        # icacls call and service start is recorded in $script:Events, in order. A path in
        # $script:Tampered reads back as given there.
        $script:Events = New-Object System.Collections.Generic.List[string]
        $script:Tampered = @{}
        Mock Get-AgentPathSecurity {
            if ($script:Tampered.ContainsKey($Path)) { return $script:Tampered[$Path] }
            $work = if ($script:MachineEnv.ContainsKey('ADO_WORK_DIR')) { $script:MachineEnv.ADO_WORK_DIR } else { Join-Path $script:Root '_work' }
            Get-ImagePathSecurity -Path $Path -AgentRoot $script:Root -Writable @($work, (Join-Path $script:Root '_diag'))
        }
        Mock Invoke-Icacls {
            # config.cmd must have run already: it changes the folder's permissions itself.
            $configured = Test-Path -LiteralPath (Join-Path $script:Root '.agent')
            $script:Events.Add("icacls $($Arguments -join ' ') (after config.cmd: $configured)")
        }
    }

    function Get-IcaclsEvents { @($script:Events | Where-Object { $_ -like 'icacls *' }) }

    function Get-ExpectedIcaclsEvents([string] $WorkDir) {
        @(ConvertTo-IcaclsArgumentList -Plan (Get-AgentFolderAclPlan -AgentRoot $script:Root -WorkDir $WorkDir) |
                ForEach-Object { "icacls $($_ -join ' ') (after config.cmd: True)" })
    }

    function Set-ConfiguredAgent {
        # Lays out what a successful config.cmd leaves behind, for the idempotency tests.
        param([string] $AgentName = 'KILNWIN000001', [string] $ServiceState = 'Running', [string] $Pool = 'Default')
        $service = "vstsagent.stub.$Pool.$AgentName"
        @{ agentId = 7; agentName = $AgentName; poolId = 1; poolName = $Pool; serverUrl = 'https://dev.azure.com/acme/'; workFolder = '_work' } |
            ConvertTo-Json | Set-Content -LiteralPath (Join-Path $script:Root '.agent')
        '{"scheme": "OAuth"}' | Set-Content -LiteralPath (Join-Path $script:Root '.credentials')
        Set-Content -LiteralPath (Join-Path $script:Root '.service') -Value $service -NoNewline
        New-Item -ItemType Directory -Path $env:STUB_SERVICES_DIR -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $env:STUB_SERVICES_DIR $service) -Value $ServiceState
        $service
    }
}

AfterAll {
    Stop-FakeAzure $script:Fake
    Remove-Item Env:STUB_RECORD_DIR, Env:STUB_SERVICES_DIR, Env:STUB_CONFIG_EXIT -ErrorAction SilentlyContinue
}

Describe 'bootstrap-agent.ps1' {
    BeforeEach {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $script:Root = New-StubAgentRoot -Parent $TestDrive
        $script:Log = Join-Path $TestDrive "logs-$id/bootstrap-agent.log"
        $env:STUB_RECORD_DIR = Join-Path $TestDrive "calls-$id"
        $env:STUB_SERVICES_DIR = Join-Path $TestDrive "services-$id"
        Remove-Item Env:STUB_CONFIG_EXIT -ErrorAction SilentlyContinue
        New-Item -ItemType Directory -Path $env:STUB_RECORD_DIR, $env:STUB_SERVICES_DIR | Out-Null

        # A sentinel PAT: any appearance of it outside the stub's argument record is a leak.
        $script:Pat = 'sentinelpat' + [guid]::NewGuid().ToString('N')
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/reset'
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/secrets' -Body @{ name = 'ado-pat'; value = $script:Pat }

        $script:MachineEnv = @{
            ADO_ORG_URL   = 'https://dev.azure.com/acme'
            KEYVAULT_NAME = 'kv-kiln-test'
            IMDS_ENDPOINT = $script:Fake.Url
            KEYVAULT_URL  = $script:Fake.Url
        }
        Mock Get-MachineEnvironmentVariable { $script:MachineEnv[$Name] }
        Mock Get-ComputerName { 'KILNWIN000001' }
        Mock Get-AgentServiceState {
            $file = Join-Path $env:STUB_SERVICES_DIR $Name
            if (Test-Path -LiteralPath $file) { (Get-Content -Raw -LiteralPath $file).Trim() } else { $null }
        }
        Mock Start-AgentService {
            $script:Events.Add("start $Name")
            Set-Content -LiteralPath (Join-Path $env:STUB_SERVICES_DIR $Name) -Value 'Running'
        }
        Mock Remove-AgentService { Remove-Item -LiteralPath (Join-Path $env:STUB_SERVICES_DIR $Name) -ErrorAction SilentlyContinue }
        Mock Start-BootstrapDelay { }
        Set-WindowsMocks
    }

    Context 'happy path' {
        It 'registers the agent under the computer name with the PAT from Key Vault, passed in VSTS_AGENT_INPUT_TOKEN' {
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0

            $calls = Get-StubCalls -RecordDir $env:STUB_RECORD_DIR
            $calls.Count | Should -Be 1
            # No --token on the command line (readable by every process on the VM, jobs included).
            $calls[0] | Should -Be @(
                '--unattended', '--url', 'https://dev.azure.com/acme', '--auth', 'pat',
                '--pool', 'Default', '--agent', 'KILNWIN000001', '--runAsService', '--preventServiceStart', '--replace',
                '--work', (Join-Path $script:Root '_work'))
            @(Get-StubTokens -RecordDir $env:STUB_RECORD_DIR) | Should -Be @($script:Pat)
            $env:VSTS_AGENT_INPUT_TOKEN | Should -BeNullOrEmpty -Because 'the variable lives only for config.cmd'

            $imds = Get-FakeRequests -Fake $script:Fake -Service imds
            $imds.Count | Should -Be 1
            $imds[0].status | Should -Be 200
            $imds[0].resource | Should -Be 'https://vault.azure.net'
            $imds[0].query.'api-version' | Should -Be '2018-02-01'
            $kv = Get-FakeRequests -Fake $script:Fake -Service keyvault
            $kv.Count | Should -Be 1
            $kv[0].status | Should -Be 200
            $kv[0].secret | Should -Be 'ado-pat'
            $kv[0].api_version | Should -Be '7.4'

            $result.LogText | Should -Match 'agent configured'
            Join-Path $script:Root '.agent' | Should -Exist
        }

        It 'uses ADO_PAT_SECRET, ADO_POOL and ADO_WORK_DIR when they are set' {
            $script:MachineEnv.ADO_PAT_SECRET = 'fleet-pat'
            $script:MachineEnv.ADO_POOL = 'kiln-windows'
            $script:MachineEnv.ADO_WORK_DIR = Join-Path $TestDrive 'ado-work'
            Invoke-FakeControl -Fake $script:Fake -Path '/_fake/secrets' -Body @{ name = 'fleet-pat'; value = $script:Pat }

            (Invoke-Bootstrap).Code | Should -Be 0
            $call = (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR)[0]
            $call[$call.IndexOf('--pool') + 1] | Should -Be 'kiln-windows'
            $call[$call.IndexOf('--work') + 1] | Should -Be (Join-Path $TestDrive 'ado-work')
            (Get-FakeRequests -Fake $script:Fake -Service keyvault)[0].secret | Should -Be 'fleet-pat'
            # The work folder outside the agent folder is the one NETWORK SERVICE may modify.
            Get-IcaclsEvents | Should -Be (Get-ExpectedIcaclsEvents -WorkDir (Join-Path $TestDrive 'ado-work'))
            Get-IcaclsEvents | Should -Contain "icacls $(Join-Path $TestDrive 'ado-work') /grant:r *S-1-5-20:(OI)(CI)M /Q (after config.cmd: True)"
        }

        It 'reads the agent folder from ADO_AGENT_ROOT when no -AgentRoot is given' {
            $script:MachineEnv.ADO_AGENT_ROOT = $script:Root
            $all = @(Invoke-AdoBootstrap -LogPath $script:Log *>&1)
            @($all | Where-Object { $_ -is [int] }) | Should -Be @(0)
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 1
        }
    }

    Context 'missing or invalid variables' {
        It 'reports every missing variable in one message, exits 2 and calls nothing' {
            $script:MachineEnv.Remove('ADO_ORG_URL')
            $script:MachineEnv.Remove('KEYVAULT_NAME')
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 2
            $errorLines = @($result.LogText -split "`n" | Where-Object { $_ -match '\[ERROR\]' })
            $errorLines.Count | Should -Be 1
            $errorLines[0] | Should -Match '2 problems'
            $errorLines[0] | Should -Match 'ADO_ORG_URL is not set'
            $errorLines[0] | Should -Match 'KEYVAULT_NAME is not set'
            $errorLines[0] | Should -Not -Match 'ADO_POOL|ADO_PAT_SECRET'
            (Get-FakeRequests -Fake $script:Fake).Count | Should -Be 0
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
        }

        It 'reports invalid values and a missing config.cmd together' {
            $script:MachineEnv.ADO_ORG_URL = 'dev.azure.com/acme'
            $script:MachineEnv.KEYVAULT_NAME = 'kv'
            $script:MachineEnv.ADO_PAT_SECRET = 'bad name!'
            Remove-Item -LiteralPath (Join-Path $script:Root 'config.cmd')
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 2
            $result.LogText | Should -Match '4 problems'
            $result.LogText | Should -Match "ADO_ORG_URL 'dev.azure.com/acme' is not an absolute"
            $result.LogText | Should -Match "KEYVAULT_NAME 'kv' is not a valid vault name"
            $result.LogText | Should -Match "ADO_PAT_SECRET 'bad name!'"
            $result.LogText | Should -Match 'has no config.cmd'
        }

        It 'exits 2 with one message when run as a script on a machine without the variables' {
            # The real script in a child process: the machine environment of this Linux box has none
            # of the variables, so this is the unmocked exit path end to end.
            $hostExe = (Get-Process -Id $PID).Path
            $log = Join-Path $TestDrive 'child.log'
            $output = & $hostExe -NoProfile -NonInteractive -File $script:BootstrapScript -AgentRoot $script:Root -LogPath $log 2>&1
            $LASTEXITCODE | Should -Be 2
            ($output -join "`n") | Should -Match '2 problems: ADO_ORG_URL is not set [^;]*; KEYVAULT_NAME is not set$'
            Get-Content -Raw -LiteralPath $log | Should -Match '\[ERROR\] agent bootstrap settings have 2 problems'
        }
    }

    Context 'Key Vault refuses' {
        It 'fails with exit 1 and a role hint on 403 and never runs config.cmd' {
            Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'keyvault'; statuses = @(403) }
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'HTTP 403 Forbidden'
            $result.LogText | Should -Match 'Key Vault Secrets User'
            (Get-FakeRequests -Fake $script:Fake -Service keyvault).Count | Should -Be 1
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
        }

        It 'fails with exit 1 when the secret does not exist' {
            $script:MachineEnv.ADO_PAT_SECRET = 'no-such-secret'
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'HTTP 404 SecretNotFound'
        }

        It 'retries Key Vault throttling and then succeeds' {
            Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'keyvault'; statuses = @(429, 503) }
            (Invoke-Bootstrap).Code | Should -Be 0
            @(Get-FakeRequests -Fake $script:Fake -Service keyvault).status | Should -Be @(429, 503, 200)
        }
    }

    Context 'IMDS retries' {
        It 'retries 500, 429 and 404 with backoff and then succeeds' {
            Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'imds'; statuses = @(500, 429, 404) }
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            @(Get-FakeRequests -Fake $script:Fake -Service imds).status | Should -Be @(500, 429, 404, 200)
            Should -Invoke Start-BootstrapDelay -ParameterFilter { $Seconds -eq 2 } -Times 1 -Exactly
            Should -Invoke Start-BootstrapDelay -ParameterFilter { $Seconds -eq 6 } -Times 1 -Exactly
            Should -Invoke Start-BootstrapDelay -ParameterFilter { $Seconds -eq 14 } -Times 1 -Exactly
            $result.LogText | Should -Match 'IMDS token attempt 1 of 5 failed: HTTP 500'
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 1
        }

        It 'gives up after 5 attempts with exit 1' {
            Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'imds'; statuses = @(503, 503, 503, 503, 503) }
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'failed after 5 attempts'
            (Get-FakeRequests -Fake $script:Fake -Service imds).Count | Should -Be 5
            (Get-FakeRequests -Fake $script:Fake -Service keyvault).Count | Should -Be 0
        }

        It 'retries when IMDS does not answer at all' {
            $script:MachineEnv.IMDS_ENDPOINT = 'http://127.0.0.1:9'  # discard port: connection refused
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'attempt 5 of 5 failed: no answer'
        }

        It 'does not retry a 400 and asks for the token of the cloud named by KEYVAULT_DNS_SUFFIX' {
            $script:MachineEnv.KEYVAULT_DNS_SUFFIX = 'vault.example.test'
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'IMDS refused the token request for https://vault.example.test: HTTP 400 invalid_resource'
            (Get-FakeRequests -Fake $script:Fake -Service imds).Count | Should -Be 1
        }
    }

    Context 'idempotency' {
        It 'leaves an already configured agent alone without asking for a PAT' {
            Set-ConfiguredAgent | Out-Null
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            $result.LogText | Should -Match 'already configured'
            (Get-FakeRequests -Fake $script:Fake).Count | Should -Be 0
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
            Should -Invoke Start-AgentService -Times 0 -Exactly
        }

        It 'starts the service of a configured agent when it is stopped' {
            $service = Set-ConfiguredAgent -ServiceState 'Stopped'
            (Invoke-Bootstrap).Code | Should -Be 0
            Should -Invoke Start-AgentService -ParameterFilter { $Name -eq $service } -Times 1 -Exactly
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
        }

        It 'is a no-op the second time it runs' {
            (Invoke-Bootstrap).Code | Should -Be 0
            (Invoke-Bootstrap).Code | Should -Be 0
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 1
            (Get-FakeRequests -Fake $script:Fake -Service keyvault).Count | Should -Be 1
        }

        It 'cleans a half-configured agent (no .credentials) and configures it again' {
            Set-ConfiguredAgent | Out-Null
            Remove-Item -LiteralPath (Join-Path $script:Root '.credentials') -Force
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            $result.LogText | Should -Match 'cleaning a half-configured agent: .credentials is missing'
            $calls = Get-StubCalls -RecordDir $env:STUB_RECORD_DIR
            $calls.Count | Should -Be 2
            $calls[0] | Should -Be @('remove', '--unattended', '--auth', 'pat')
            $calls[1][0] | Should -Be '--unattended'
            @(Get-StubTokens -RecordDir $env:STUB_RECORD_DIR) | Should -Be @($script:Pat, $script:Pat)
            Join-Path $script:Root '.credentials' | Should -Exist
        }

        It 'reconfigures an agent registered under another name (an image baked with a configured agent)' {
            Set-ConfiguredAgent -AgentName 'PACKERBUILDVM' | Out-Null
            (Invoke-Bootstrap).Code | Should -Be 0
            $calls = Get-StubCalls -RecordDir $env:STUB_RECORD_DIR
            $calls[0][0] | Should -Be 'remove'
            $calls[-1][$calls[-1].IndexOf('--agent') + 1] | Should -Be 'KILNWIN000001'
            (Get-Content -Raw (Join-Path $script:Root '.agent') | ConvertFrom-Json).agentName | Should -Be 'KILNWIN000001'
        }

        It 'removes a leftover service when the marker files say so' {
            $service = Set-ConfiguredAgent
            Remove-Item -LiteralPath (Join-Path $script:Root '.agent') -Force
            (Invoke-Bootstrap).Code | Should -Be 0
            Should -Invoke Remove-AgentService -ParameterFilter { $Name -eq $service } -Times 1 -Exactly
        }

        It 'retries config.cmd once after cleaning, then fails with exit 1' {
            $env:STUB_CONFIG_EXIT = '3'
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'config.cmd exited with 3'
            $result.LogText | Should -Match 'after 2 attempts'
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 2
        }
    }

    Context 'agent folder permissions' {
        It 'applies the image''s permissions again after config.cmd, then starts the agent''s service, which config.cmd left stopped' {
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            Get-IcaclsEvents | Should -Be (Get-ExpectedIcaclsEvents)
            $script:Events[$script:Events.Count - 1] | Should -Be 'start vstsagent.stub.Default.KILNWIN000001'
            @($script:Events | Where-Object { $_ -like 'start *' }) | Should -HaveCount 1
            $result.LogText | Should -Match 'agent folder permissions applied'
        }

        It 'refuses to register (exit 3, stopping AdoBootstrap) when <Case>, before asking for any secret' -ForEach @(
            @{ Case = 'the agent service''s group may write the agent folder'; Item = ''; Owner = 'S-1-5-32-544'; Protected = $true; Extra = @{ Sid = 'S-1-5-21-1-2-3-1004'; Mask = 2032127 } },
            @{ Case = 'the agent folder inherits C:\''s permissions'; Item = ''; Owner = 'S-1-5-32-544'; Protected = $false; Extra = $null },
            @{ Case = 'NETWORK SERVICE owns config.cmd'; Item = 'config.cmd'; Owner = 'S-1-5-20'; Protected = $false; Extra = $null },
            @{ Case = 'NETWORK SERVICE may modify bootstrap-agent.ps1'; Item = 'bootstrap-agent.ps1'; Owner = 'S-1-5-32-544'; Protected = $false; Extra = @{ Sid = 'S-1-5-20'; Mask = 1245631 } }
        ) {
            $path = if ($Item) { Join-Path $script:Root $Item } else { $script:Root }
            $security = Get-ImagePathSecurity -Path $path -AgentRoot $script:Root
            $security.Owner = $Owner
            $security.Protected = $Protected
            if ($Extra) { $security.Explicit += New-AclRecord -Sid $Extra.Sid -Mask $Extra.Mask }
            $script:Tampered[$path] = $security

            $result = Invoke-Bootstrap
            $result.Code | Should -Be 3
            $errorLines = @($result.LogText -split "`n" | Where-Object { $_ -match '\[ERROR\]' })
            $errorLines | Should -HaveCount 1
            $errorLines[0] | Should -Match ([regex]::Escape("the agent folder's permissions are not the image's, so this VM does not register: ${path}: "))
            $errorLines[0] | Should -Match 'Reimage the instance'
            (Get-FakeRequests -Fake $script:Fake).Count | Should -Be 0
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
            $script:Events | Should -HaveCount 0 -Because 'nothing is repaired and nothing is started'
        }

        It 'does not start a configured agent either when the folder was tampered with' {
            Set-ConfiguredAgent -ServiceState 'Stopped' | Out-Null
            $security = Get-ImagePathSecurity -Path $script:Root -AgentRoot $script:Root
            $security.Explicit += New-AclRecord -Sid 'S-1-5-20' -Mask 1245631
            $script:Tampered[$script:Root] = $security
            (Invoke-Bootstrap).Code | Should -Be 3
            Should -Invoke Start-AgentService -Times 0 -Exactly
        }

        It 'does not check a work folder that does not exist yet (ADO_WORK_DIR on the temporary disk)' {
            $script:MachineEnv.ADO_WORK_DIR = Join-Path $TestDrive 'not-yet'
            Mock Get-AgentPathSecurity { throw "Cannot find path '$Path' because it does not exist." } -ParameterFilter { $Path -eq $script:MachineEnv.ADO_WORK_DIR -and -not (Test-Path -LiteralPath $Path) }
            (Invoke-Bootstrap).Code | Should -Be 0
            Join-Path $TestDrive 'not-yet' | Should -Exist -Because 'applying the permissions creates it'
        }

        It 'fails (exit 1) without starting the agent when icacls fails' {
            Mock Invoke-Icacls { throw "icacls $($Arguments -join ' ') failed with exit code 5: Access is denied." }
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 1
            $result.LogText | Should -Match 'agent bootstrap failed: icacls .* /reset /T /Q failed with exit code 5'
            Should -Invoke Start-AgentService -Times 0 -Exactly
        }
    }

    Context 'recycle mode (KILN_RECYCLE)' {
        It 'configures the agent without a service, applies the permissions, then starts AdoAgentOnce for one job' {
            $script:MachineEnv.KILN_RECYCLE = 'true'
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            $calls = Get-StubCalls -RecordDir $env:STUB_RECORD_DIR
            $calls.Count | Should -Be 1
            $calls[0] | Should -Be @(
                '--unattended', '--url', 'https://dev.azure.com/acme', '--auth', 'pat',
                '--pool', 'Default', '--agent', 'KILNWIN000001', '--replace', '--work', (Join-Path $script:Root '_work'))
            Join-Path $script:Root '.service' | Should -Not -Exist
            Get-IcaclsEvents | Should -Be (Get-ExpectedIcaclsEvents)
            @($script:Events | Where-Object { $_ -like 'start *' }) | Should -Be @('start AdoAgentOnce')
            $script:Events[$script:Events.Count - 1] | Should -Be 'start AdoAgentOnce'
            $result.LogText | Should -Match 'runs one job, then the VM is reimaged'
            $result.LogText | Should -Match 'Agent.Listener.exe run --once'
        }

        It 'never starts the registered agent again on a later run (a reboot, a restart of AdoBootstrap)' {
            $script:MachineEnv.KILN_RECYCLE = 'True'
            (Invoke-Bootstrap).Code | Should -Be 0
            $script:Events.Clear()
            Invoke-FakeControl -Fake $script:Fake -Path '/_fake/reset'

            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            $result.LogText | Should -Match 'not starting it again: kiln reimages this VM'
            $script:Events | Should -HaveCount 0
            (Get-FakeRequests -Fake $script:Fake).Count | Should -Be 0
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 1
        }

        It 'replaces an agent configured to run as a service, which would run job after job' {
            Set-ConfiguredAgent | Out-Null
            $script:MachineEnv.KILN_RECYCLE = 'true'
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 0
            $result.LogText | Should -Match "cleaning a half-configured agent: configured to run as service 'vstsagent.stub.Default.KILNWIN000001', but KILN_RECYCLE is true"
            $calls = Get-StubCalls -RecordDir $env:STUB_RECORD_DIR
            $calls[0] | Should -Be @('remove', '--unattended', '--auth', 'pat')
            $calls[1] | Should -Not -Contain '--runAsService'
            @($script:Events | Where-Object { $_ -like 'start *' }) | Should -Be @('start AdoAgentOnce')
        }

        It 'runs the agent as a service when KILN_RECYCLE is <Value>' -ForEach @(@{ Value = 'false' }, @{ Value = 'FALSE' }, @{ Value = ' ' }) {
            $script:MachineEnv.KILN_RECYCLE = $Value
            (Invoke-Bootstrap).Code | Should -Be 0
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR)[0] | Should -Contain '--runAsService'
            @($script:Events | Where-Object { $_ -like 'start *' }) | Should -Be @('start vstsagent.stub.Default.KILNWIN000001')
        }

        It 'reports a KILN_RECYCLE that is neither true nor false (<Value>) with the other problems, exit 2' -ForEach @(@{ Value = 'yes' }, @{ Value = '1' }) {
            $script:MachineEnv.KILN_RECYCLE = $Value
            $script:MachineEnv.Remove('ADO_ORG_URL')
            $result = Invoke-Bootstrap
            $result.Code | Should -Be 2
            $result.LogText | Should -Match '2 problems'
            $result.LogText | Should -Match "KILN_RECYCLE '$Value' is neither true nor false \(true: the agent runs one job and the VM is reimaged; unset means false\)"
            (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
        }
    }

    Context 'the PAT stays secret' {
        It 'appears in no output stream, no command line and no file but the stub record of its environment (<Case>)' -ForEach @(
            @{ Case = 'success'; ConfigExit = $null },
            @{ Case = 'config.cmd fails'; ConfigExit = '1' }
        ) {
            if ($ConfigExit) { $env:STUB_CONFIG_EXIT = $ConfigExit }
            # Turn every stream on so nothing is hidden by a preference.
            $VerbosePreference = 'Continue'
            $DebugPreference = 'Continue'
            $InformationPreference = 'Continue'
            $WarningPreference = 'Continue'
            $all = @(Invoke-AdoBootstrap -AgentRoot $script:Root -LogPath $script:Log -Verbose -Debug *>&1)

            $streams = [ordered]@{
                Output      = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] -and $_ -isnot [System.Management.Automation.WarningRecord] -and $_ -isnot [System.Management.Automation.VerboseRecord] -and $_ -isnot [System.Management.Automation.DebugRecord] -and $_ -isnot [System.Management.Automation.InformationRecord] })
                Error       = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
                Warning     = @($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
                Verbose     = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
                Debug       = @($all | Where-Object { $_ -is [System.Management.Automation.DebugRecord] })
                Information = @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })
            }
            $streams.Information.Count | Should -BeGreaterThan 0 -Because 'the log lines must have been captured'
            foreach ($stream in $streams.Keys) {
                (($streams[$stream] | ForEach-Object { ($_ | Out-String) }) -join "`n") | Should -Not -Match $script:Pat -Because "the $stream stream must not carry the PAT"
            }

            # The stub echoed its arguments: no token among them, masked or not.
            $log = Get-Content -Raw -LiteralPath $script:Log
            $log | Should -Match 'stub config.cmd called with: --unattended'
            $log | Should -Not -Match '--token'

            # Only the stub's record of its VSTS_AGENT_INPUT_TOKEN may hold it (that is the delivery to
            # config.cmd); its argument records do not.
            $leaks = @(Get-ChildItem -LiteralPath $TestDrive -Recurse -File -Force |
                    Where-Object { $_.FullName -notlike "$($env:STUB_RECORD_DIR)*.token" } |
                    Where-Object { (Get-Content -Raw -LiteralPath $_.FullName) -match $script:Pat })
            $leaks.FullName | Should -BeNullOrEmpty
            @(Get-StubTokens -RecordDir $env:STUB_RECORD_DIR)[0] | Should -Be $script:Pat
        }
    }
}

Describe 'bootstrap-agent.ps1 with the registration broker' {
    BeforeEach {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $script:Root = New-StubAgentRoot -Parent $TestDrive
        $script:Log = Join-Path $TestDrive "logs-$id/bootstrap-agent.log"
        $env:STUB_RECORD_DIR = Join-Path $TestDrive "calls-$id"
        $env:STUB_SERVICES_DIR = Join-Path $TestDrive "services-$id"
        Remove-Item Env:STUB_CONFIG_EXIT -ErrorAction SilentlyContinue
        New-Item -ItemType Directory -Path $env:STUB_RECORD_DIR, $env:STUB_SERVICES_DIR | Out-Null

        # A sentinel registration secret handed out by the fake broker.
        $script:Secret = 'sentinelbroker' + [guid]::NewGuid().ToString('N')
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/reset'
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/broker' -Body @{ token = $script:Secret; retry_after = '7' }
        # No vault, no secret name: broker mode needs neither.
        $script:MachineEnv = @{
            ADO_ORG_URL                = 'https://dev.azure.com/acme'
            IMDS_ENDPOINT              = $script:Fake.Url
            KILN_REGISTRATION_URL      = $script:Fake.Url + '/api/registrations'
            KILN_REGISTRATION_AUDIENCE = 'api://kiln-registrations-test'
        }
        Mock Get-MachineEnvironmentVariable { $script:MachineEnv[$Name] }
        Mock Get-ComputerName { 'KILNWIN000001' }
        Mock Get-AgentServiceState {
            $file = Join-Path $env:STUB_SERVICES_DIR $Name
            if (Test-Path -LiteralPath $file) { (Get-Content -Raw -LiteralPath $file).Trim() } else { $null }
        }
        Mock Start-AgentService { $script:Events.Add("start $Name") }
        Mock Remove-AgentService { }
        Mock Start-BootstrapDelay { }
        Set-WindowsMocks
    }

    It 'asks IMDS for the audience and the attested document, the broker for this instance, and hands config.cmd the secret in VSTS_AGENT_INPUT_TOKEN' {
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 0
        $imds = Get-FakeRequests -Fake $script:Fake -Service imds
        $imds.Count | Should -Be 1
        $imds[0].resource | Should -Be 'api://kiln-registrations-test'
        # The attested document: Metadata header, api-version 2018-10-01, a nonce of 10 digits;
        # the broker gets what IMDS signed, as it came.
        $attested = Get-FakeRequests -Fake $script:Fake -Service attested
        $attested.Count | Should -Be 1
        $attested[0].query.'api-version' | Should -Be '2018-10-01'
        $attested[0].nonce | Should -Match '^\d{10}$'
        $attested[0].status | Should -Be 200
        $broker = Get-FakeRequests -Fake $script:Fake -Service broker
        $broker.Count | Should -Be 1
        $broker[0].method | Should -Be 'POST'
        $broker[0].bearer | Should -BeTrue
        $broker[0].instance | Should -Be 'KILNWIN000001'
        $broker[0].attested | Should -Be 'issued'
        $broker[0].status | Should -Be 200
        (Get-FakeRequests -Fake $script:Fake -Service keyvault).Count | Should -Be 0
        $calls = Get-StubCalls -RecordDir $env:STUB_RECORD_DIR
        $calls.Count | Should -Be 1
        $calls[0] | Should -Not -Contain '--token'
        $calls[0] | Should -Not -Contain $script:Secret
        @(Get-StubTokens -RecordDir $env:STUB_RECORD_DIR) | Should -Be @($script:Secret)
        $result.LogText | Should -Match 'registration broker'
    }

    It 'retries 503 and 429, waiting at least the Retry-After of a 429' {
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'broker'; statuses = @(503, 429) }
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 0
        @(Get-FakeRequests -Fake $script:Fake -Service broker).status | Should -Be @(503, 429, 200)
        Should -Invoke Start-BootstrapDelay -ParameterFilter { $Seconds -eq 7 } -Times 1 -Exactly
        $result.LogText | Should -Match 'registration broker attempt 1 of 5 failed: HTTP 503 \(broker unavailable\)'
        $result.LogText | Should -Match 'registration broker attempt 2 of 5 failed: HTTP 429'
    }

    It 'retries the attested document as the token (429, 5xx), with a fresh nonce at every run' {
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'attested'; statuses = @(429, 500) }
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 0
        @(Get-FakeRequests -Fake $script:Fake -Service attested).status | Should -Be @(429, 500, 200)
        $result.LogText | Should -Match 'IMDS attested document attempt 1 of 5 failed: HTTP 429'
        $result.LogText | Should -Match 'IMDS attested document attempt 2 of 5 failed: HTTP 500'
        @(Get-FakeRequests -Fake $script:Fake -Service broker).attested | Should -Be @('issued')

        # Every document is asked for with a nonce of its own.
        $settings = [pscustomobject]@{ ImdsEndpoint = $script:Fake.Url }
        Get-ImdsAttestedDocument -Settings $settings | Should -Not -Be (Get-ImdsAttestedDocument -Settings $settings)
        $attested = Get-FakeRequests -Fake $script:Fake -Service attested
        $nonces = @($attested | Where-Object { $_.status -eq 200 } | ForEach-Object { $_.nonce })
        $nonces.Count | Should -Be 3
        @($nonces | Sort-Object -Unique).Count | Should -Be 3
    }

    It 'stops before the broker when IMDS keeps failing the attested document' {
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'attested'; statuses = @(503, 503, 503, 503, 503) }
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 1
        $result.LogText | Should -Match 'IMDS attested document request failed after 5 attempts'
        (Get-FakeRequests -Fake $script:Fake -Service broker).Count | Should -Be 0
        (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
    }

    It 'gives up after 5 attempts when the broker keeps failing, and when it does not answer at all' {
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'broker'; statuses = @(502, 502, 502, 502, 502) }
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 1
        $result.LogText | Should -Match 'failed after 5 attempts'
        (Get-FakeRequests -Fake $script:Fake -Service broker).Count | Should -Be 5

        $script:MachineEnv.KILN_REGISTRATION_URL = 'http://127.0.0.1:9/api/registrations'
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 1
        $result.LogText | Should -Match 'attempt 5 of 5 failed: no answer'
        (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
    }

    It 'fails at once on a refusal (HTTP <Status>), naming it, and never runs config.cmd' -ForEach @(
        @{ Status = 403; Reason = 'identity may not register instance KILNWIN000001' },
        @{ Status = 409; Reason = 'instance KILNWIN000001 already has a registration' }
    ) {
        Invoke-FakeControl -Fake $script:Fake -Path '/_fake/faults' -Body @{ service = 'broker'; statuses = @($Status) }
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 1
        $result.LogText | Should -Match ([regex]::Escape("the registration broker refused instance 'KILNWIN000001': HTTP $Status ($Reason)"))
        (Get-FakeRequests -Fake $script:Fake -Service broker).Count | Should -Be 1
        (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 0
    }

    It 'fails on 401 with the audience named when the token is for another audience' {
        $script:MachineEnv.KILN_REGISTRATION_AUDIENCE = 'https://management.azure.com/'
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 1
        $result.LogText | Should -Match "HTTP 401 \(no valid token for the registration audience\)\. Check KILN_REGISTRATION_AUDIENCE \('https://management.azure.com/'\)"
    }

    It 'requires KILN_REGISTRATION_AUDIENCE with the URL, and not KEYVAULT_NAME' {
        $script:MachineEnv.Remove('KILN_REGISTRATION_AUDIENCE')
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 2
        $result.LogText | Should -Match '1 problem: KILN_REGISTRATION_AUDIENCE is not set'
        (Get-FakeRequests -Fake $script:Fake).Count | Should -Be 0
    }

    It 'refuses a plain http broker URL on another machine: the token would travel in clear' {
        $script:MachineEnv.KILN_REGISTRATION_URL = 'http://kiln.example.com/api/registrations'
        $result = Invoke-Bootstrap
        $result.Code | Should -Be 2
        $result.LogText | Should -Match "KILN_REGISTRATION_URL 'http://kiln.example.com/api/registrations' must be https"
        (Get-FakeRequests -Fake $script:Fake).Count | Should -Be 0
    }

    It 'never shows the secret or the IMDS token in a stream or a file but the stub record of its environment' {
        $all = @(Invoke-AdoBootstrap -AgentRoot $script:Root -LogPath $script:Log -Verbose -Debug *>&1)
        @($all | Where-Object { $_ -is [int] }) | Should -Be @(0)
        ($all | Out-String) | Should -Not -Match $script:Secret
        $leaks = @(Get-ChildItem -LiteralPath $TestDrive -Recurse -File -Force |
                Where-Object { $_.FullName -notlike "$($env:STUB_RECORD_DIR)*.token" } |
                Where-Object { (Get-Content -Raw -LiteralPath $_.FullName) -match $script:Secret })
        $leaks.FullName | Should -BeNullOrEmpty
    }
}

Describe 'bootstrap-agent.ps1 endpoints' {
    It 'builds the Key Vault secret URL from the vault name and DNS suffix' {
        Get-KeyVaultSecretUri -VaultName 'kv-acme' -DnsSuffix 'vault.azure.net' -SecretName 'ado-pat' |
            Should -Be 'https://kv-acme.vault.azure.net/secrets/ado-pat?api-version=7.4'
        Get-KeyVaultSecretUri -VaultName 'kv-acme' -DnsSuffix 'vault.azure.cn' -SecretName 'ado-pat' |
            Should -Be 'https://kv-acme.vault.azure.cn/secrets/ado-pat?api-version=7.4'
        Get-KeyVaultSecretUri -VaultName 'kv-acme' -DnsSuffix 'vault.azure.net' -SecretName 'ado-pat' -VaultUrl 'http://127.0.0.1:8080/' |
            Should -Be 'http://127.0.0.1:8080/secrets/ado-pat?api-version=7.4'
    }

    It 'asks IMDS for the Key Vault audience of the configured cloud' {
        Get-KeyVaultResource -DnsSuffix 'vault.azure.net' | Should -Be 'https://vault.azure.net'
        Get-KeyVaultResource -DnsSuffix 'vault.usgovcloudapi.net' | Should -Be 'https://vault.usgovcloudapi.net'
    }

    It 'enables TLS 1.2 for its requests, which Windows PowerShell 5.1 leaves off' {
        $saved = [Net.ServicePointManager]::SecurityProtocol
        try {
            # SystemDefault (0) has no TLS 1.2 bit: the request must add it, keeping what was set.
            [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::SystemDefault
            $answer = Invoke-BootstrapHttpRequest -Uri 'http://127.0.0.1:9/nothing-listens-here'
            $answer.StatusCode | Should -Be 0
            ([Net.ServicePointManager]::SecurityProtocol -band [Net.SecurityProtocolType]::Tls12) |
                Should -Be ([Net.SecurityProtocolType]::Tls12)
        } finally {
            [Net.ServicePointManager]::SecurityProtocol = $saved
        }
    }

    It 'masks every known secret' {
        $script:BootstrapSecrets.Clear()
        Add-BootstrapSecret 'abc123'
        Protect-BootstrapText 'token abc123 and abc123' | Should -Be 'token *** and ***'
        $script:BootstrapSecrets.Clear()
    }
}
