# Pester tests of packer/windows/scripts/configure-run.ps1, the manual fallback: it asks for what
# is missing, configures the agent to run in the console (no service), applies the agent folder's
# permissions again and starts run.cmd (--once with KILN_RECYCLE=true). Prompts, the machine
# environment, run.cmd and the Windows ACL calls are mocked; config.cmd is the recording stub.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $script:WindowsScripts 'configure-run.ps1')
}

AfterAll { Remove-Item Env:STUB_RECORD_DIR, Env:STUB_SERVICES_DIR -ErrorAction SilentlyContinue }

Describe 'configure-run.ps1' {
    BeforeEach {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $script:Root = New-StubAgentRoot -Parent $TestDrive
        $env:STUB_RECORD_DIR = Join-Path $TestDrive "calls-$id"
        $env:STUB_SERVICES_DIR = Join-Path $TestDrive "services-$id"
        New-Item -ItemType Directory -Path $env:STUB_RECORD_DIR | Out-Null
        $script:Pat = 'sentinelpat' + [guid]::NewGuid().ToString('N')
        $script:MachineEnv = @{}
        Mock Get-MachineEnvironmentVariable { $script:MachineEnv[$Name] }
        Mock Get-ComputerName { 'KILNWIN000002' }
        Mock Read-PromptValue { if ($Prompt -like '*URL*') { 'https://dev.azure.com/acme' } else { $Default } }
        Mock Read-PromptSecret { $script:Pat }
        # run.cmd must start without the PAT in its environment.
        Mock Invoke-AgentRun { $script:RunEnvToken = $env:VSTS_AGENT_INPUT_TOKEN }
        $script:RunEnvToken = 'not run'
        $script:IcaclsCalls = New-Object System.Collections.Generic.List[object]
        Mock Invoke-Icacls { $script:IcaclsCalls.Add($Arguments) }
        Mock Get-AgentPathSecurity { Get-ImagePathSecurity -Path $Path -AgentRoot $script:Root -Writable @((Join-Path $script:Root '_work'), (Join-Path $script:Root '_diag')) }
    }

    It 'prompts for what is missing, configures without a service and runs the agent' {
        $all = @(Invoke-ConfigureRun -AgentRoot $script:Root *>&1)
        Should -Invoke Read-PromptValue -ParameterFilter { $Prompt -like '*URL*' } -Times 1 -Exactly
        Should -Invoke Read-PromptValue -ParameterFilter { $Prompt -eq 'Agent pool' } -Times 1 -Exactly
        $call = (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR)[0]
        $call | Should -Not -Contain '--runAsService'
        $call[$call.IndexOf('--agent') + 1] | Should -Be 'KILNWIN000002'
        $call[$call.IndexOf('--pool') + 1] | Should -Be 'Default'
        $call | Should -Not -Contain '--token'
        @(Get-StubTokens -RecordDir $env:STUB_RECORD_DIR) | Should -Be @($script:Pat)
        Should -Invoke Invoke-AgentRun -ParameterFilter { -not $Once } -Times 1 -Exactly
        $script:RunEnvToken | Should -BeNullOrEmpty
        ($all | Out-String) | Should -Not -Match $script:Pat
    }

    It 'gives the agent folder the image''s permissions again after config.cmd, which changes them' {
        Invoke-ConfigureRun -AgentRoot $script:Root -OrgUrl 'https://dev.azure.com/acme' -Pool 'Default' -NoRun *>&1 | Out-Null
        $expected = @(ConvertTo-IcaclsArgumentList -Plan (Get-AgentFolderAclPlan -AgentRoot $script:Root))
        $script:IcaclsCalls.Count | Should -Be $expected.Count
        for ($i = 0; $i -lt $expected.Count; $i++) { $script:IcaclsCalls[$i] | Should -Be $expected[$i] }
    }

    It 'runs one job (run.cmd --once) when KILN_RECYCLE is true' {
        $script:MachineEnv = @{ ADO_ORG_URL = 'https://dev.azure.com/acme'; KILN_RECYCLE = 'true' }
        Invoke-ConfigureRun -AgentRoot $script:Root -Pool 'Default' *>&1 | Out-Null
        Should -Invoke Invoke-AgentRun -ParameterFilter { $Once } -Times 1 -Exactly
    }

    It 'refuses a KILN_RECYCLE that is neither true nor false before asking for anything' {
        $script:MachineEnv = @{ ADO_ORG_URL = 'https://dev.azure.com/acme'; KILN_RECYCLE = 'sometimes' }
        { Invoke-ConfigureRun -AgentRoot $script:Root -Pool 'Default' } | Should -Throw "KILN_RECYCLE 'sometimes' is neither true nor false*"
        Should -Invoke Read-PromptSecret -Times 0 -Exactly
    }

    It 'keeps its -AgentRoot when run as a script (bootstrap-agent.ps1, which it loads, declares one too)' {
        # The real script in a child process, without config.cmd in the folder: it must name the
        # folder it was given, not an empty one.
        $empty = Join-Path $TestDrive 'no-agent-here'
        New-Item -ItemType Directory -Path $empty | Out-Null
        $hostExe = (Get-Process -Id $PID).Path
        $output = & $hostExe -NoProfile -NonInteractive -File (Join-Path $script:WindowsScripts 'configure-run.ps1') -AgentRoot $empty -OrgUrl 'https://dev.azure.com/acme' -Pool 'Default' -NoRun 2>&1
        $LASTEXITCODE | Should -Not -Be 0
        ($output -join "`n") | Should -Match ([regex]::Escape("no config.cmd in $empty"))
    }

    It 'takes the organisation and pool from the machine environment without asking' {
        $script:MachineEnv = @{ ADO_ORG_URL = 'https://dev.azure.com/contoso'; ADO_POOL = 'kiln-windows' }
        Invoke-ConfigureRun -AgentRoot $script:Root -NoRun *>&1 | Out-Null
        Should -Invoke Read-PromptValue -Times 0 -Exactly
        $call = (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR)[0]
        $call[$call.IndexOf('--url') + 1] | Should -Be 'https://dev.azure.com/contoso'
        $call[$call.IndexOf('--pool') + 1] | Should -Be 'kiln-windows'
        Should -Invoke Invoke-AgentRun -Times 0 -Exactly
    }

    It 'just runs an agent that is already configured, without asking for a PAT' {
        Invoke-ConfigureRun -AgentRoot $script:Root -OrgUrl 'https://dev.azure.com/acme' -Pool 'Default' -NoRun *>&1 | Out-Null
        Invoke-ConfigureRun -AgentRoot $script:Root -OrgUrl 'https://dev.azure.com/acme' -Pool 'Default' *>&1 | Out-Null
        Should -Invoke Read-PromptSecret -Times 1 -Exactly
        (Get-StubCalls -RecordDir $env:STUB_RECORD_DIR).Count | Should -Be 1
        Should -Invoke Invoke-AgentRun -Times 1 -Exactly
    }
}
