# Pester tests of the agent folder permissions in packer/windows/scripts/bootstrap-agent.ps1 (the
# plan, its icacls calls, the comparison with what Get-Acl reports) and of
# configure-agent-permissions.ps1, which applies them at image build.
#
# Limit: these tests run on Linux, where NTFS ACLs do not exist. Invoke-Icacls (the icacls.exe call)
# and Get-AgentPathSecurity (Get-Acl) are mocked: the tests prove the plan, the exact icacls
# arguments, that the apply layer gets exactly them, and how a read-back ACL is judged; not that
# icacls and Get-Acl behave on Windows as assumed.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $script:WindowsScripts 'configure-agent-permissions.ps1')

    function Get-Entry([object[]] $Plan, [string] $Path) { @($Plan | Where-Object { $_.Path -eq $Path })[0] }
}

Describe 'the agent folder plan' {
    BeforeAll {
        $script:Root = '/x/ado-agent'
        $script:Plan = Get-AgentFolderAclPlan -AgentRoot $script:Root
    }

    It 'makes the agent folder Administrators'', not inherited, with full control for Administrators and SYSTEM and read & execute for NETWORK SERVICE' {
        $root = $script:Plan[0]
        $root.Path | Should -Be $script:Root
        $root.Kind | Should -Be 'agent-root'
        $root.Owner | Should -Be 'S-1-5-32-544'
        $root.Protected | Should -BeTrue
        @($root.Access | ForEach-Object { "$($_.Sid)=$($_.Rights)" }) | Should -Be @('S-1-5-32-544=FullControl', 'S-1-5-18=FullControl', 'S-1-5-20=ReadAndExecute')
    }

    It 'covers everything a registration executes, owned by Administrators with nothing but the inherited permissions' {
        $executed = @($script:Plan | Where-Object Kind -EQ 'executed')
        @($executed.Path) | Should -Be @('config.cmd', 'run.cmd', 'bin', 'externals', 'bootstrap-agent.ps1', 'configure-run.ps1' | ForEach-Object { Join-Path $script:Root $_ })
        foreach ($entry in $executed) {
            $entry.Owner | Should -Be 'S-1-5-32-544'
            $entry.Protected | Should -BeFalse
            @($entry.Access) | Should -HaveCount 0
        }
    }

    It 'lets NETWORK SERVICE modify the work folder and _diag only' {
        $writable = @($script:Plan | Where-Object Kind -EQ 'writable')
        @($writable.Path) | Should -Be @((Join-Path $script:Root '_work'), (Join-Path $script:Root '_diag'))
        foreach ($entry in $writable) {
            @($entry.Access | ForEach-Object { "$($_.Sid)=$($_.Rights)" }) | Should -Be @('S-1-5-20=Modify')
        }
        @($script:Plan | ForEach-Object { $_.Access } | Where-Object { $_.Sid -eq 'S-1-5-20' -and $_.Rights -ne 'ReadAndExecute' } | ForEach-Object { $_.Rights }) |
            Should -Be @('Modify', 'Modify')
    }

    It 'uses a work folder outside the agent folder when ADO_WORK_DIR names one' {
        $plan = Get-AgentFolderAclPlan -AgentRoot $script:Root -WorkDir '/y/ado-work'
        @($plan | Where-Object Kind -EQ 'writable' | ForEach-Object { $_.Path }) | Should -Be @('/y/ado-work', (Join-Path $script:Root '_diag'))
    }

    It 'names every principal by its well-known SID, which no Windows language changes' {
        foreach ($sid in @($script:Plan | ForEach-Object { $_.Owner; $_.Access.Sid } | Where-Object { $_ })) {
            $sid | Should -Match '^S-1-5-(18|20|32-544)$'
        }
    }
}

Describe 'the icacls calls of the plan' {
    It 'resets the whole tree, breaks inheritance on the root with exactly its three grants, gives the tree to Administrators, then lets NETWORK SERVICE modify the writable folders' {
        $root = '/x/ado-agent'
        $calls = @(ConvertTo-IcaclsArgumentList -Plan (Get-AgentFolderAclPlan -AgentRoot $root))
        $calls | Should -HaveCount 5
        $calls[0] | Should -Be @($root, '/reset', '/T', '/Q')
        $calls[1] | Should -Be @($root, '/inheritance:r', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '*S-1-5-18:(OI)(CI)F', '*S-1-5-20:(OI)(CI)RX', '/Q')
        $calls[2] | Should -Be @($root, '/setowner', '*S-1-5-32-544', '/T', '/Q')
        $calls[3] | Should -Be @((Join-Path $root '_work'), '/grant:r', '*S-1-5-20:(OI)(CI)M', '/Q')
        $calls[4] | Should -Be @((Join-Path $root '_diag'), '/grant:r', '*S-1-5-20:(OI)(CI)M', '/Q')
    }

    It 'refuses a plan entry of an unknown kind' {
        $plan = @([pscustomobject]@{ Path = '/x'; Kind = 'shared'; Owner = $null; Protected = $false; Access = @() })
        { ConvertTo-IcaclsArgumentList -Plan $plan } | Should -Throw "*unknown kind 'shared'*/x*"
    }
}

Describe 'reading back an ACL' {
    It 'names the access masks Windows reports for icacls'' F, RX and M grants (<Mask>: <Name>)' -ForEach @(
        @{ Mask = 2032127; Name = 'FullControl' },
        @{ Mask = 1179817; Name = 'ReadAndExecute' },
        @{ Mask = 1245631; Name = 'Modify' },
        @{ Mask = 131241; Name = 'ReadAndExecute' },
        # Anything else keeps its own name, so it never passes for a planned grant.
        @{ Mask = 1180063; Name = 'Write, Read' }
    ) {
        Get-FileSystemRightsName -Mask $Mask | Should -Be $Name
    }
}

Describe 'comparing the agent folder with the plan' {
    BeforeEach {
        $script:Root = Join-Path $TestDrive 'ado-agent'
        $script:Plan = Get-AgentFolderAclPlan -AgentRoot $script:Root
        $script:Writable = @((Join-Path $script:Root '_work'), (Join-Path $script:Root '_diag'))
        $script:Overrides = @{}
        Mock Get-AgentPathSecurity {
            if ($script:Overrides.ContainsKey($Path)) { return $script:Overrides[$Path] }
            Get-ImagePathSecurity -Path $Path -AgentRoot $script:Root -Writable $script:Writable
        }
    }

    It 'finds nothing wrong with what the image build leaves' {
        @(Get-AgentFolderAclProblems -Plan $script:Plan) | Should -HaveCount 0
        Should -Invoke Get-AgentPathSecurity -Times $script:Plan.Count -Exactly
    }

    It 'reports the grant config.cmd --runAsService adds for the agent service''s group' {
        $tampered = Get-ImagePathSecurity -Path $script:Root -AgentRoot $script:Root
        $tampered.Explicit += New-AclRecord -Sid 'S-1-5-21-1-2-3-1004' -Mask 2032127
        $script:Overrides[$script:Root] = $tampered
        $problems = @(Get-AgentFolderAclProblems -Plan $script:Plan)
        $problems | Should -Be @("${script:Root}: has an unexpected entry: Allow FullControl to S-1-5-21-1-2-3-1004 (inheritance ContainerInherit, ObjectInherit, propagation None)")
    }

    It 'reports a root that inherits again and lost its NETWORK SERVICE grant' {
        $script:Overrides[$script:Root] = [pscustomobject]@{
            Owner = 'S-1-5-32-544'; Protected = $false
            Explicit = @((New-AclRecord -Sid 'S-1-5-32-544' -Mask 2032127), (New-AclRecord -Sid 'S-1-5-18' -Mask 2032127))
        }
        $problems = @(Get-AgentFolderAclProblems -Plan $script:Plan)
        $problems | Should -HaveCount 2
        $problems[0] | Should -Be "${script:Root}: inherits its parent's permissions (they must not reach it)"
        $problems[1] | Should -Be "${script:Root}: lacks Allow ReadAndExecute to NETWORK SERVICE (S-1-5-20) (inheritance ContainerInherit, ObjectInherit, propagation None)"
    }

    It 'reports an executed file the job''s account owns or may write' {
        $config = Join-Path $script:Root 'config.cmd'
        $script:Overrides[$config] = [pscustomobject]@{ Owner = 'S-1-5-20'; Protected = $true; Explicit = @(New-AclRecord -Sid 'S-1-5-20' -Mask 1245631 -Inheritance 'None') }
        $problems = @(Get-AgentFolderAclProblems -Plan $script:Plan)
        $problems | Should -Be @(
            "${config}: owned by NETWORK SERVICE (S-1-5-20), not Administrators (S-1-5-32-544)",
            "${config}: does not inherit the agent folder's permissions",
            "${config}: has an unexpected entry: Allow Modify to NETWORK SERVICE (S-1-5-20) (inheritance None, propagation None)")
    }

    It 'accepts more grants on a writable folder (config.cmd''s group on a work folder outside the agent folder) but not fewer' {
        $work = Join-Path $script:Root '_work'
        $security = Get-ImagePathSecurity -Path $work -AgentRoot $script:Root -Writable @($work)
        $security.Explicit += New-AclRecord -Sid 'S-1-5-21-1-2-3-1004' -Mask 2032127
        $script:Overrides[$work] = $security
        @(Get-AgentFolderAclProblems -Plan $script:Plan) | Should -HaveCount 0

        $script:Overrides[$work] = [pscustomobject]@{ Owner = 'S-1-5-32-544'; Protected = $false; Explicit = @(New-AclRecord -Sid 'S-1-5-21-1-2-3-1004' -Mask 2032127) }
        @(Get-AgentFolderAclProblems -Plan $script:Plan) | Should -Be @("${work}: lacks Allow Modify to NETWORK SERVICE (S-1-5-20) (inheritance ContainerInherit, ObjectInherit, propagation None)")
    }

    It 'reports a path whose permissions cannot be read' {
        $bin = Join-Path $script:Root 'bin'
        Mock Get-AgentPathSecurity { throw "Cannot find path '$Path' because it does not exist." } -ParameterFilter { $Path -eq $bin }
        @(Get-AgentFolderAclProblems -Plan $script:Plan) | Should -Be @("${bin}: its permissions cannot be read (Cannot find path '$bin' because it does not exist.)")
    }

    It 'refuses before a registration with what differs and how to recover, ignoring the writable folders' {
        $script:Overrides[(Join-Path $script:Root '_work')] = [pscustomobject]@{ Owner = 'S-1-5-20'; Protected = $false; Explicit = @() }
        { Assert-AgentFolderUntouched -Plan $script:Plan } | Should -Not -Throw
        Should -Invoke Get-AgentPathSecurity -ParameterFilter { $Path -like '*_work' -or $Path -like '*_diag' } -Times 0 -Exactly

        $tampered = Get-ImagePathSecurity -Path $script:Root -AgentRoot $script:Root
        $tampered.Explicit += New-AclRecord -Sid 'S-1-5-11' -Mask 1245631
        $script:Overrides[$script:Root] = $tampered
        $failure = $null
        try { Assert-AgentFolderUntouched -Plan $script:Plan } catch { $failure = $_.Exception }
        $failure | Should -BeOfType ([AgentFolderAclError])
        $failure.Message | Should -BeLike "the agent folder's permissions are not the image's, so this VM does not register: ${script:Root}: has an unexpected entry: Allow Modify to Authenticated Users (S-1-5-11)*"
        $failure.Message | Should -BeLike '*The account jobs run as, NETWORK SERVICE (S-1-5-20), may have changed what a registration runs as LocalSystem*'
        $failure.Message | Should -BeLike '*Reimage the instance*'
    }
}

Describe 'applying the plan' {
    BeforeEach {
        $script:Root = Join-Path $TestDrive ('ado-agent-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $script:Root | Out-Null
        $script:Plan = Get-AgentFolderAclPlan -AgentRoot $script:Root
        $script:Calls = New-Object System.Collections.Generic.List[object]
        $script:Applied = $false
        Mock Invoke-Icacls { $script:Calls.Add($Arguments); $script:Applied = $true }
        Mock Get-AgentPathSecurity {
            if (-not $script:Applied) { return [pscustomobject]@{ Owner = 'S-1-5-32-544'; Protected = $false; Explicit = @() } }
            Get-ImagePathSecurity -Path $Path -AgentRoot $script:Root -Writable @((Join-Path $script:Root '_work'), (Join-Path $script:Root '_diag'))
        }
    }

    It 'calls icacls with exactly the plan''s arguments, in order, after creating the writable folders, then checks every path' {
        Set-AgentFolderAcl -Plan $script:Plan *>&1 | Out-Null
        $expected = @(ConvertTo-IcaclsArgumentList -Plan $script:Plan)
        $script:Calls.Count | Should -Be $expected.Count
        for ($i = 0; $i -lt $expected.Count; $i++) { $script:Calls[$i] | Should -Be $expected[$i] }
        Join-Path $script:Root '_work' | Should -Exist
        Join-Path $script:Root '_diag' | Should -Exist
        Should -Invoke Get-AgentPathSecurity -Times $script:Plan.Count -Exactly
    }

    It 'fails, naming the difference, when the read-back ACL is not the plan''s' {
        Mock Invoke-Icacls { $script:Calls.Add($Arguments) }  # icacls "succeeds" but changes nothing
        { Set-AgentFolderAcl -Plan $script:Plan *>&1 | Out-Null } | Should -Throw "icacls did not leave the agent folder as planned: ${script:Root}: inherits its parent's permissions*"
    }

    It 'stops at the first icacls failure' {
        Mock Invoke-Icacls { throw "icacls $($Arguments -join ' ') failed with exit code 5: Access is denied." }
        { Set-AgentFolderAcl -Plan $script:Plan *>&1 | Out-Null } | Should -Throw "icacls $($script:Root) /reset /T /Q failed with exit code 5*"
        Should -Invoke Invoke-Icacls -Times 1 -Exactly
    }
}

Describe 'configure-agent-permissions.ps1 (image build)' {
    BeforeEach {
        $script:Root = New-StubAgentRoot -Parent $TestDrive
        foreach ($file in 'run.cmd', 'bootstrap-agent.ps1', 'configure-run.ps1') { Set-Content -LiteralPath (Join-Path $script:Root $file) -Value '' }
        foreach ($folder in 'bin', 'externals') { New-Item -ItemType Directory -Path (Join-Path $script:Root $folder) | Out-Null }
        $script:Calls = New-Object System.Collections.Generic.List[object]
        Mock Invoke-Icacls { $script:Calls.Add($Arguments) }
        Mock Get-AgentPathSecurity { Get-ImagePathSecurity -Path $Path -AgentRoot $script:Root -Writable @((Join-Path $script:Root '_work'), (Join-Path $script:Root '_diag')) }
    }

    It 'applies the plan for AGENT_ROOT with its default work folder and says what it verified' {
        $output = (Set-ImageAgentFolderAcl -AgentRoot $script:Root 6>&1 | Out-String)
        $expected = @(ConvertTo-IcaclsArgumentList -Plan (Get-AgentFolderAclPlan -AgentRoot $script:Root))
        $script:Calls.Count | Should -Be $expected.Count
        for ($i = 0; $i -lt $expected.Count; $i++) { $script:Calls[$i] | Should -Be $expected[$i] }
        $output | Should -Match 'verified: .* is owned by Administrators'
    }

    It 'fails before touching anything when something a registration executes is missing' {
        Remove-Item -LiteralPath (Join-Path $script:Root 'configure-run.ps1'), (Join-Path $script:Root 'externals')
        { Set-ImageAgentFolderAcl -AgentRoot $script:Root } | Should -Throw "*lacks externals, configure-run.ps1: run install-ado-agent.ps1 and configure-ado-bootstrap.ps1 first"
        $script:Calls.Count | Should -Be 0
    }
}
