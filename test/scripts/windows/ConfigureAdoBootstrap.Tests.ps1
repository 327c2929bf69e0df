# Pester tests of packer/windows/scripts/configure-ado-bootstrap.ps1: the AdoBootstrap service the
# template registers must start at boot without a logon, restart the bootstrap on failure, stop on
# success and run the copy of bootstrap-agent.ps1 in the agent folder. nssm.exe and the service
# manager are mocked (Windows-only).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $script:WindowsScripts 'configure-ado-bootstrap.ps1')
}

Describe 'configure-ado-bootstrap.ps1' {
    BeforeEach {
        $script:AgentRoot = New-StubAgentRoot -Parent $TestDrive
        $script:LogFolder = Join-Path $TestDrive 'logs'
        $script:NssmCalls = New-Object System.Collections.Generic.List[object]
        $script:ServiceExists = $false
        $script:MachineVars = @{}
        Mock Invoke-Nssm {
            $script:NssmCalls.Add($Arguments)
            if ($Arguments[0] -eq 'install') { $script:ServiceExists = $true }
            if ($Arguments[0] -eq 'remove') { $script:ServiceExists = $false }
        }
        Mock Get-ServiceStartType { if ($script:ServiceExists) { 'Automatic' } else { $null } }
        Mock Set-MachineEnvironmentVariable { $script:MachineVars[$Name] = $Value }
        Mock Get-WindowsPowerShellPath { 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' }

        function Get-NssmSetting([string] $Name) {
            # Always an array of argument arrays, one per `nssm set <service> $Name ...` call.
            Write-Output -NoEnumerate @($script:NssmCalls | Where-Object { $_[0] -eq 'set' -and $_[2] -eq $Name } | ForEach-Object { , @($_[3..($_.Count - 1)]) })
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
        Mock Get-ServiceStartType { if ($script:ServiceExists) { 'Manual' } else { $null } }
        { Register-AdoBootstrap -AgentRoot $script:AgentRoot -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder } |
            Should -Throw '*expected Automatic*'
    }

    It 'fails before registering anything when the agent is not unpacked' {
        $empty = Join-Path $TestDrive 'empty'
        New-Item -ItemType Directory -Path $empty | Out-Null
        { Register-AdoBootstrap -AgentRoot $empty -ScriptFolder $script:WindowsScripts -LogFolder $script:LogFolder } | Should -Throw '*no agent in*'
        $script:NssmCalls | Should -HaveCount 0
    }
}
