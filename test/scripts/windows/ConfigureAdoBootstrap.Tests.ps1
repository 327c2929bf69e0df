# Pester tests of packer/windows/scripts/configure-ado-bootstrap.ps1: the AdoBootstrap service the
# template registers must start at boot without a logon, restart the bootstrap on failure, stop on
# success and run the copy of bootstrap-agent.ps1 in the agent folder; AdoAgentOnce must run the
# agent once as NETWORK SERVICE, only when started, and never restart it. nssm.exe and the service
# manager are mocked (Windows-only): the fake keeps each service's start type as NSSM sets it.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $script:WindowsScripts 'configure-ado-bootstrap.ps1')
}

Describe 'configure-ado-bootstrap.ps1' {
    BeforeEach {
        $script:AgentRoot = New-StubAgentRoot -Parent $TestDrive
        $script:LogFolder = Join-Path $TestDrive 'logs'
        $script:NssmCalls = New-Object System.Collections.Generic.List[object]
        $script:StartTypes = @{}
        $script:MachineVars = @{}
        Mock Invoke-Nssm {
            $script:NssmCalls.Add($Arguments)
            switch ($Arguments[0]) {
                'install' { $script:StartTypes[$Arguments[1]] = 'Automatic' }  # NSSM's default
                'remove' { $script:StartTypes.Remove($Arguments[1]) }
                'set' {
                    if ($Arguments[2] -eq 'Start') {
                        $script:StartTypes[$Arguments[1]] = @{ SERVICE_AUTO_START = 'Automatic'; SERVICE_DEMAND_START = 'Manual'; SERVICE_DISABLED = 'Disabled' }[$Arguments[3]]
                    }
                }
            }
        }
        Mock Get-ServiceStartType { $script:StartTypes[$Name] }
        Mock Set-MachineEnvironmentVariable { $script:MachineVars[$Name] = $Value }
        Mock Get-WindowsPowerShellPath { 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' }

        function Get-NssmSetting([string] $Name, [string] $Service = 'AdoBootstrap') {
            # Always an array of argument arrays, one per `nssm set $Service $Name ...` call.
            Write-Output -NoEnumerate @($script:NssmCalls | Where-Object { $_[0] -eq 'set' -and $_[1] -eq $Service -and $_[2] -eq $Name } | ForEach-Object { , @($_[3..($_.Count - 1)]) })
        }
    }

    It 'installs AdoBootstrap as a service running Windows PowerShell on the bootstrap script' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        $script:NssmCalls[0] | Should -Be @('install', 'AdoBootstrap', 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe')
        $parameters = (Get-NssmSetting 'AppParameters')[0][0]
        $parameters | Should -Match '-NonInteractive'
        $parameters | Should -Match '-ExecutionPolicy Bypass'
        $parameters | Should -BeLike "*-File `"$(Join-Path $script:AgentRoot 'bootstrap-agent.ps1')`""
    }

    It 'starts at boot as LocalSystem, with nobody logged in' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        (Get-NssmSetting 'Start')[0] | Should -Be @('SERVICE_AUTO_START')
        (Get-NssmSetting 'ObjectName')[0] | Should -Be @('LocalSystem')
    }

    It 'restarts the bootstrap after a failure, and stops the service after success or a refusal over the folder''s permissions (exit 3)' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        $exits = Get-NssmSetting 'AppExit'
        $exits | Should -HaveCount 3
        $exits[0] | Should -Be @('Default', 'Restart')
        $exits[1] | Should -Be @('0', 'Exit')
        $exits[2] | Should -Be @('3', 'Exit')
        [int] (Get-NssmSetting 'AppRestartDelay')[0][0] | Should -BeGreaterOrEqual 10000
        (Get-NssmSetting 'AppStdout')[0][0] | Should -BeLike "$($script:LogFolder)*"
    }

    It 'copies the bootstrap and manual scripts into the agent folder and records it machine-wide' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        Join-Path $script:AgentRoot 'bootstrap-agent.ps1' | Should -Exist
        Join-Path $script:AgentRoot 'configure-run.ps1' | Should -Exist
        $script:MachineVars['ADO_AGENT_ROOT'] | Should -Be $script:AgentRoot
        $script:LogFolder | Should -Exist
    }

    It 'replaces an existing registration when run again' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        $script:NssmCalls.Clear()
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        $script:NssmCalls[0] | Should -Be @('remove', 'AdoBootstrap', 'confirm')
        $script:NssmCalls[1][0] | Should -Be 'install'
    }

    It 'never starts the service on the build VM' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        @($script:NssmCalls | Where-Object { $_[0] -in 'start', 'restart' }) | Should -HaveCount 0
    }

    It 'fails when the service does not end up starting automatically' {
        Mock Get-ServiceStartType { if ($script:StartTypes.ContainsKey($Name)) { 'Manual' } else { $null } }
        { Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder } |
            Should -Throw '*expected Automatic*'
    }

    It 'registers AdoAgentOnce, the name bootstrap-agent.ps1 starts, to run the agent''s listener once as NETWORK SERVICE' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        $bootstrap = Get-Content -Raw -LiteralPath (Join-Path $script:WindowsScripts 'bootstrap-agent.ps1')
        $bootstrap | Should -Match "\`$script:AgentOnceServiceName = 'AdoAgentOnce'"
        @($script:NssmCalls | Where-Object { $_[0] -eq 'install' -and $_[1] -eq 'AdoAgentOnce' }) | Should -HaveCount 1
        @($script:NssmCalls | Where-Object { $_[0] -eq 'install' -and $_[1] -eq 'AdoAgentOnce' })[0][2] | Should -Be (Join-Path $script:AgentRoot 'bin\Agent.Listener.exe')
        (Get-NssmSetting 'AppParameters' 'AdoAgentOnce')[0] | Should -Be @('run --once')
        (Get-NssmSetting 'AppDirectory' 'AdoAgentOnce')[0] | Should -Be @($script:AgentRoot)
        # The SCM's locale-independent name, no password (NSSM knows it as a well-known account).
        (Get-NssmSetting 'ObjectName' 'AdoAgentOnce')[0] | Should -Be @('NT Authority\NetworkService')
        (Get-NssmSetting 'AppStdout' 'AdoAgentOnce')[0][0] | Should -BeLike "$(Join-Path $script:AgentRoot '_diag')*"
    }

    It 'never starts AdoAgentOnce at boot nor restarts its listener: only the bootstrap starts it, once' {
        Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder
        (Get-NssmSetting 'Start' 'AdoAgentOnce') | Should -HaveCount 1
        (Get-NssmSetting 'Start' 'AdoAgentOnce')[0] | Should -Be @('SERVICE_DEMAND_START')
        $exits = Get-NssmSetting 'AppExit' 'AdoAgentOnce'
        $exits | Should -HaveCount 1
        $exits[0] | Should -Be @('Default', 'Exit')
        @($script:NssmCalls | Where-Object { $_[1] -eq 'AdoAgentOnce' -and $_[2] -in 'AppRestartDelay', 'AppThrottle' }) | Should -HaveCount 0
    }

    It 'fails when AdoAgentOnce would start at boot' {
        Mock Get-ServiceStartType { if ($Name -eq 'AdoAgentOnce') { 'Automatic' } else { $script:StartTypes[$Name] } }
        { Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder } |
            Should -Throw "AdoAgentOnce start type is 'Automatic', expected Manual (started by the bootstrap only)"
    }

    It 'fails before registering anything when the agent is not unpacked' {
        $empty = Join-Path $TestDrive 'empty'
        New-Item -ItemType Directory -Path $empty | Out-Null
        { Register-AdoBootstrap -AgentRoot $empty -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder } | Should -Throw '*no agent in*'
        $script:NssmCalls | Should -HaveCount 0
    }
}
