# Pester tests of infra/hooks/registration-app.ps1, the Windows twin of registration-app.sh (whose
# bats tests cover every case): the same cases against the same fake az and azd (fake/), which the
# hook runs as real processes. In-process (dot-sourced, Start-Sleep mocked) for most cases; one run
# as azd runs it, pwsh -File, for the exit codes and the streams.

BeforeAll {
    $script:Hook = (Resolve-Path (Join-Path $PSScriptRoot '../../../infra/hooks/registration-app.ps1')).Path
    . $script:Hook
    $script:Tenant = '7a1e0000-0000-4000-8000-00000000cafe'
    $script:SavedPath = $env:PATH
    $env:PATH = (Join-Path $PSScriptRoot 'fake') + [IO.Path]::PathSeparator + $env:PATH
    # The variables azd hands its hooks that the hook reads; each test starts from none of them.
    $script:HookVariables = 'AZURE_ENV_NAME', 'AZURE_TENANT_ID', 'KILN_GITHUB_REGISTRATION', 'KILN_ADO_REGISTRATION', 'KILN_REGISTRATION_AUDIENCE'
    $script:SavedVariables = @{}
    foreach ($name in $script:HookVariables) { $script:SavedVariables[$name] = [Environment]::GetEnvironmentVariable($name) }

    function Set-AzdValue {
        # A value of the azd environment (azd hands them all to its hooks).
        param([string] $Name, [string] $Value)
        Set-Content -LiteralPath (Join-Path $env:FAKE_AZ_STATE "azd-env/$Name") -Value $Value -NoNewline
    }

    function Invoke-Hook {
        # The hook in-process, its environment the azd environment; returns its exit code and streams.
        foreach ($name in $script:HookVariables) { [Environment]::SetEnvironmentVariable($name, $null) }
        foreach ($file in Get-ChildItem -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'azd-env')) {
            [Environment]::SetEnvironmentVariable($file.Name, (Get-Content -Raw -LiteralPath $file.FullName))
        }
        $stderr = [IO.StringWriter]::new()
        $savedError = [Console]::Error
        [Console]::SetError($stderr)
        try {
            $all = @(Invoke-RegistrationAppHook *>&1)
        } finally {
            [Console]::SetError($savedError)
        }
        $codes = @($all | Where-Object { $_ -is [int] })
        [pscustomobject]@{
            Code   = if ($codes.Count -eq 1) { $codes[0] } else { "unexpected output: $($codes -join ',')" }
            Output = ($all | Where-Object { $_ -isnot [int] } | ForEach-Object { [string] $_ }) -join "`n"
            Error  = $stderr.ToString()
        }
    }

    function Get-Calls { @(Get-Content -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'calls')) }
    function Get-Writes { @(Get-Calls | Where-Object { $_ -match '^(az ad app create|az ad app update|az ad sp create|azd env set)' }) }
    function Get-Apps { @(Get-ChildItem -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'apps') -Directory | ForEach-Object Name | Sort-Object) }
    function Get-Stored { param([string] $Name) Get-Content -Raw -LiteralPath (Join-Path $env:FAKE_AZ_STATE "azd-env/$Name") }
}

AfterAll {
    $env:PATH = $script:SavedPath
    foreach ($name in $script:HookVariables) { [Environment]::SetEnvironmentVariable($name, $script:SavedVariables[$name]) }
    Remove-Item Env:FAKE_AZ_STATE -ErrorAction SilentlyContinue
}

Describe 'registration-app.ps1' {
    BeforeEach {
        $env:FAKE_AZ_STATE = Join-Path $TestDrive ('state-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path (Join-Path $env:FAKE_AZ_STATE 'apps'), (Join-Path $env:FAKE_AZ_STATE 'azd-env') | Out-Null
        Set-Content -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'calls') -Value $null
        Set-Content -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'tenant') -Value $script:Tenant
        Set-AzdValue AZURE_ENV_NAME dev
        Mock Start-Sleep { }
    }

    It 'absent: creates the single-tenant application and its service principal, stores the audience' {
        $result = Invoke-Hook
        $result.Code | Should -Be 0
        $result.Error | Should -BeNullOrEmpty
        $id = '1111aaaa-0000-4000-8000-000000000001'
        Get-Apps | Should -Be @($id)
        $app = Join-Path $env:FAKE_AZ_STATE "apps/$id"
        (Get-Content -Raw "$app/uris").Trim() | Should -Be 'api://kiln-dev-registrations'
        (Get-Content -Raw "$app/sign-in-audience").Trim() | Should -Be 'AzureADMyOrg'
        "$app/sp" | Should -Exist
        Get-Stored KILN_REGISTRATION_AUDIENCE | Should -Be 'api://kiln-dev-registrations'
        (Get-Calls)[1] | Should -Be 'az ad app list --identifier-uri api://kiln-dev-registrations --query [].appId -o tsv'
        $result.Output | Should -Match "registration-app: created application $id \(api://kiln-dev-registrations\)"
        $result.Output | Should -Match 'registration-app: stored KILN_REGISTRATION_AUDIENCE=api://kiln-dev-registrations'
        (Get-Calls) -join "`n" | Should -Not -Match 'credential|password|secret'
    }

    It 'idempotent: a second run only reads' {
        (Invoke-Hook).Code | Should -Be 0
        Set-Content -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'calls') -Value $null
        $result = Invoke-Hook
        $result.Code | Should -Be 0
        Get-Writes | Should -BeNullOrEmpty
        $result.Output | Should -Match 'KILN_REGISTRATION_AUDIENCE is api://kiln-dev-registrations already'
    }

    It 'present without a service principal: only the service principal is created' {
        $app = Join-Path $env:FAKE_AZ_STATE 'apps/2222cccc-0000-4000-8000-000000000002'
        New-Item -ItemType Directory -Path $app | Out-Null
        Set-Content "$app/name" 'kiln-dev-registrations'
        Set-Content "$app/uris" 'api://kiln-dev-registrations'
        Set-AzdValue KILN_REGISTRATION_AUDIENCE 'api://kiln-dev-registrations'
        (Invoke-Hook).Code | Should -Be 0
        Get-Writes | Should -Be @('az ad sp create --id 2222cccc-0000-4000-8000-000000000002 --query id -o tsv')
    }

    It 'a new application not yet replicated: the service principal is tried again after a 10 s wait' {
        Set-Content (Join-Path $env:FAKE_AZ_STATE 'replication-lag') 2
        $result = Invoke-Hook
        $result.Code | Should -Be 0
        @(Get-Calls | Where-Object { $_ -like 'az ad sp create*' }).Count | Should -Be 3
        Should -Invoke Start-Sleep -Times 2 -Exactly -ParameterFilter { $Seconds -eq 10 }
        $result.Output | Should -Match 'trying again in 10 s \(1 of 6\)'
    }

    It 'PAT mode on both platforms: skipped without a single az call' {
        Set-AzdValue KILN_GITHUB_REGISTRATION pat
        Set-AzdValue KILN_ADO_REGISTRATION pat
        $result = Invoke-Hook
        $result.Code | Should -Be 0
        $result.Output | Should -Match 'no registration broker, no Entra application needed'
        Get-Calls | Should -BeNullOrEmpty
    }

    It 'Azure DevOps broker mode alone needs the application too' {
        Set-AzdValue KILN_GITHUB_REGISTRATION pat
        Set-AzdValue KILN_ADO_REGISTRATION broker
        (Invoke-Hook).Code | Should -Be 0
        Get-Stored KILN_REGISTRATION_AUDIENCE | Should -Be 'api://kiln-dev-registrations'
    }

    It 'a mode that does not exist is refused by name, before any az call' {
        Set-AzdValue KILN_GITHUB_REGISTRATION JIT
        $result = Invoke-Hook
        $result.Code | Should -Be 1
        $result.Error | Should -Match "registration-app: error: KILN_GITHUB_REGISTRATION is 'JIT'; it must be jit or pat"
        Get-Calls | Should -BeNullOrEmpty
    }

    It "the default audience is main.bicep's: environment name in lower case, _ and . as -" {
        Set-AzdValue AZURE_ENV_NAME 'Dev_Team.One'
        (Invoke-Hook).Code | Should -Be 0
        Get-Stored KILN_REGISTRATION_AUDIENCE | Should -Be 'api://kiln-dev-team-one-registrations'
    }

    It 'a tenant that refuses api://name URIs: the default falls back to api://(app id); a second run changes nothing' {
        New-Item -ItemType File -Path (Join-Path $env:FAKE_AZ_STATE 'tenant-identifier-policy') | Out-Null
        $result = Invoke-Hook
        $result.Code | Should -Be 0
        $id = '1111aaaa-0000-4000-8000-000000000001'
        Get-Apps | Should -Be @($id)
        (Get-Content -Raw (Join-Path $env:FAKE_AZ_STATE "apps/$id/uris")).Trim() | Should -Be "api://$id"
        Get-Stored KILN_REGISTRATION_AUDIENCE | Should -Be "api://$id"
        Set-Content -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'calls') -Value $null
        (Invoke-Hook).Code | Should -Be 0
        Get-Writes | Should -BeNullOrEmpty
    }

    It 'a chosen audience the policy refuses: stops, naming a URI the policy accepts' {
        New-Item -ItemType File -Path (Join-Path $env:FAKE_AZ_STATE 'tenant-identifier-policy') | Out-Null
        Set-AzdValue KILN_REGISTRATION_AUDIENCE 'api://kiln-broker'
        $result = Invoke-Hook
        $result.Code | Should -Be 1
        $result.Error | Should -Match "refuses the Application ID URI api://kiln-broker \(KILN_REGISTRATION_AUDIENCE\)"
        $result.Error | Should -Match ([regex]::Escape("api://$($script:Tenant)/kiln-dev-registrations"))
        Get-Apps | Should -BeNullOrEmpty
    }

    It 'an account that may not register applications: names the role, the tenant setting and the manual way' {
        New-Item -ItemType File -Path (Join-Path $env:FAKE_AZ_STATE 'deny-app-create') | Out-Null
        $result = Invoke-Hook
        $result.Code | Should -Be 1
        $result.Error | Should -Match 'registration-app: error: creating the application kiln-dev-registrations was refused'
        $result.Error | Should -Match 'Application Developer'
        $result.Error | Should -Match '"Users can register applications"'
        $result.Error | Should -Match ([regex]::Escape("infra/README.md, `"The registration broker's Entra application`""))
        $result.Error | Should -Match 'az said: ERROR: Directory permission is needed'
        Join-Path $env:FAKE_AZ_STATE 'azd-env/KILN_REGISTRATION_AUDIENCE' | Should -Not -Exist
    }

    It 'az signed in to another tenant than the deployment''s: stops before creating anything' {
        Set-AzdValue AZURE_TENANT_ID '0b0e0000-0000-4000-8000-00000000beef'
        $result = Invoke-Hook
        $result.Code | Should -Be 1
        $result.Error | Should -Match 'deploys to tenant 0b0e0000-0000-4000-8000-00000000beef: az login --tenant 0b0e0000-0000-4000-8000-00000000beef'
        Get-Writes | Should -BeNullOrEmpty
    }

    It 'az not signed in: says that azd''s sign-in is not az''s' {
        Remove-Item -LiteralPath (Join-Path $env:FAKE_AZ_STATE 'tenant')
        $result = Invoke-Hook
        $result.Code | Should -Be 1
        $result.Error | Should -Match "az is not signed in \(azd's sign-in is separate\): az login --tenant"
    }

    It 'run as azd runs it (pwsh -File): exit code 0 with progress on standard output, 1 with the error on standard error' {
        $pwsh = [Environment]::ProcessPath
        $env:AZURE_ENV_NAME = 'dev'
        $env:KILN_GITHUB_REGISTRATION = $null
        $out = & $pwsh -NoProfile -NonInteractive -File $script:Hook 2>$null
        $LASTEXITCODE | Should -Be 0
        $out -join "`n" | Should -Match 'registration-app: stored KILN_REGISTRATION_AUDIENCE=api://kiln-dev-registrations'

        $env:KILN_GITHUB_REGISTRATION = 'nope'
        $errorFile = Join-Path $TestDrive 'stderr.txt'
        $out = & $pwsh -NoProfile -NonInteractive -File $script:Hook 2>$errorFile
        $LASTEXITCODE | Should -Be 1
        $out | Should -BeNullOrEmpty
        Get-Content -Raw $errorFile | Should -Match "registration-app: error: KILN_GITHUB_REGISTRATION is 'nope'"
    }
}
