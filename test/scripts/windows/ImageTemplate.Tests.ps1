# Consistency of the Windows image sources that packer validate cannot see: the promises of the
# seed README (variables, base image, installed tools), the one versions file, the script naming
# and verification rules, and Windows PowerShell 5.1 compatibility (the build VM and a fresh image
# have nothing newer, while these tests run PowerShell 7).

BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../../../packer/windows')).Path
    $script:ImageScripts = @(Get-ChildItem -Path (Join-Path $root 'scripts') -Recurse -File -Include '*.ps1', '*.psm1' |
            Sort-Object Name | ForEach-Object { @{ Path = $_.FullName; Name = $_.Name } })
    $script:BuildScripts = @(Get-ChildItem -Path (Join-Path $root 'scripts') -File -Filter '*.ps1' |
            Where-Object { $_.Name -notin 'bootstrap-agent.ps1', 'configure-run.ps1' } |
            Sort-Object Name | ForEach-Object { @{ Path = $_.FullName; Name = $_.Name } })
}

BeforeAll {
    $script:TemplateDir = (Resolve-Path (Join-Path $PSScriptRoot '../../../packer/windows')).Path
    $script:Hcl = (Get-ChildItem -Path $script:TemplateDir -Filter '*.pkr.hcl' | ForEach-Object { Get-Content -Raw -LiteralPath $_.FullName }) -join "`n"
    $script:Variables = Get-Content -Raw -LiteralPath (Join-Path $script:TemplateDir 'variables.windows.pkr.hcl')
    $script:Build = Get-Content -Raw -LiteralPath (Join-Path $script:TemplateDir 'build.windows.pkr.hcl')
    $script:Toolset = Get-Content -Raw -LiteralPath (Join-Path $script:TemplateDir 'toolset.json') | ConvertFrom-Json

    function Get-VariableBlock([string] $Name) {
        $m = [regex]::Match($script:Variables, '(?s)variable "' + [regex]::Escape($Name) + '" \{(.*?)\n\}')
        if (-not $m.Success) { return $null }
        $m.Groups[1].Value
    }
}

Describe 'Packer template' {
    It 'has the source / variables / locals / build split' {
        foreach ($part in 'source', 'variables', 'locals', 'build') {
            Join-Path $script:TemplateDir "$part.windows.pkr.hcl" | Should -Exist
        }
    }

    It 'defaults <Name> to the environment variable <Env>' -ForEach @(
        @{ Name = 'location'; Env = 'PACKER_LOCATION' },
        @{ Name = 'managed_image_rg'; Env = 'PACKER_IMAGE_RG' },
        @{ Name = 'temp_rg'; Env = 'PACKER_TEMP_RG' },
        @{ Name = 'build_in_existing_rg'; Env = 'PACKER_BUILD_IN_EXISTING_RG' },
        @{ Name = 'vm_size'; Env = 'PACKER_VM_SIZE' },
        @{ Name = 'tag_org'; Env = 'ORG' },
        @{ Name = 'tag_env'; Env = 'ENV' },
        @{ Name = 'software_report_dir'; Env = 'KILN_SOFTWARE_REPORT_DIR' }
    ) {
        Get-VariableBlock $Name | Should -Match ('default\s*=\s*env\("' + $Env + '"\)')
    }

    It 'builds in the existing temp_rg unless build_in_existing_rg is false (an unset env var means true)' {
        $block = Get-VariableBlock 'build_in_existing_rg'
        $block | Should -Match 'type\s*=\s*bool'
        $block | Should -Match 'default\s*=\s*env\("PACKER_BUILD_IN_EXISTING_RG"\) == "" \? true :'
        # location and build_resource_group_name are never both set (the builder refuses that).
        $script:Hcl | Should -Match 'location\s*=\s*local\.build_location'
        $script:Hcl | Should -Match 'build_resource_group_name\s*=\s*local\.build_resource_group_name'
        $script:Hcl | Should -Match 'temp_resource_group_name\s*=\s*local\.temp_resource_group_name'
        $script:Hcl | Should -Match 'build_location\s*=\s*local\.build_in_existing_rg \? null : var\.location'
    }

    It 'reads files through abspath(path.root), so it validates from any directory' {
        $script:Hcl | Should -Match 'abspath\(path\.root\)'
        $script:Hcl | Should -Not -Match 'file\("\$\{path\.root\}'
    }

    It 'requires managed_image_name and defaults agent_root to C:\ado-agent' {
        Get-VariableBlock 'managed_image_name' | Should -Not -Match 'default'
        Get-VariableBlock 'agent_root' | Should -Match 'default\s*=\s*"C:\\\\ado-agent"'
        Get-VariableBlock 'agent_version' | Should -Not -BeNullOrEmpty
    }

    It 'knows the SHA-256 of the default agent version (toolset.json adoAgent.version, one source)' {
        Get-VariableBlock 'agent_version' | Should -Match 'default\s*=\s*""'
        $script:Hcl | Should -Match 'agent_version\s*=\s*var\.agent_version != "" \? var\.agent_version : local\.toolset\.adoAgent\.version'
        $version = $script:Toolset.adoAgent.version
        $version | Should -Match '^\d+\.\d+\.\d+$'
        $script:Toolset.adoAgent.sha256.$version | Should -Match '^[0-9a-f]{64}$'
    }

    It 'builds from Windows Server 2022 Azure Edition over WinRM' {
        # The base image lives in toolset.json (the Bicep and the orchestrator read it there too).
        $script:Hcl | Should -Match 'image_publisher\s*=\s*local\.toolset\.baseImage\.publisher'
        $script:Hcl | Should -Match 'image_offer\s*=\s*local\.toolset\.baseImage\.offer'
        $script:Hcl | Should -Match 'image_sku\s*=\s*local\.toolset\.baseImage\.sku'
        $script:Toolset.baseImage.publisher | Should -Be 'MicrosoftWindowsServer'
        $script:Toolset.baseImage.offer | Should -Be 'WindowsServer'
        $script:Toolset.baseImage.sku | Should -Be '2022-datacenter-azure-edition'
        $script:Hcl | Should -Match 'communicator\s*=\s*"winrm"'
        $script:Hcl | Should -Match 'winrm_use_ssl\s*=\s*true'
    }

    It 'uses nothing Packer 1.6.6 rejects' {
        $script:Hcl | Should -Not -Match 'required_plugins|templatefile\(|security_type|secure_boot_enabled|use_oidc|storage_account_type|^data "'
    }

    It 'runs every build script it names, and the script exists' {
        $named = [regex]::Matches($script:Build, '\$\{path\.root\}/scripts/([\w-]+\.ps1)') | ForEach-Object { $_.Groups[1].Value }
        $named | Should -Not -BeNullOrEmpty
        foreach ($name in $named) { Join-Path $script:TemplateDir "scripts/$name" | Should -Exist }
    }

    It 'restarts Windows after the Visual Studio Build Tools and ends with Sysprep' {
        $vs = $script:Build.IndexOf('install-vs-buildtools.ps1')
        $restart = $script:Build.IndexOf('windows-restart', $vs)
        $restart | Should -BeGreaterThan $vs
        $script:Build.IndexOf('install-az-module.ps1') | Should -BeGreaterThan $restart
        $last = [regex]::Matches($script:Build, '[\w-]+\.ps1') | Select-Object -Last 1
        $last.Value | Should -Be 'invoke-sysprep.ps1'
    }

    It 'makes the agent folder unwritable by the jobs'' account once the agent and the bootstrap scripts are in it' {
        $agent = $script:Build.IndexOf('install-ado-agent.ps1')
        $bootstrap = $script:Build.IndexOf('configure-ado-bootstrap.ps1')
        $permissions = $script:Build.IndexOf('configure-agent-permissions.ps1')
        $agent | Should -BeGreaterThan 0
        $bootstrap | Should -BeGreaterThan $agent
        $permissions | Should -BeGreaterThan $bootstrap
        $script:Build.IndexOf('invoke-sysprep.ps1') | Should -BeGreaterThan $permissions
    }

    It 'writes the software report after the last checks and downloads it before Sysprep' {
        $tests = $script:Build.IndexOf('test-image-tools.ps1')
        $report = $script:Build.IndexOf('write-software-report.ps1')
        $download = $script:Build.IndexOf('direction   = "download"')
        $sysprep = $script:Build.IndexOf('invoke-sysprep.ps1')
        $report | Should -BeGreaterThan $tests
        $download | Should -BeGreaterThan $report
        $sysprep | Should -BeGreaterThan $download
        foreach ($file in 'software-report.json', 'software-report.md') {
            $script:Build | Should -Match ('source\s*=\s*"\$\{local\.report_folder\}\\\\' + [regex]::Escape($file) + '"')
            $script:Build | Should -Match ('destination\s*=\s*"\$\{local\.software_report_dir\}/' + [regex]::Escape($file) + '"')
        }
        $script:Hcl | Should -Match 'report_folder\s*=\s*"C:\\\\kiln"'
        $script:Hcl | Should -Match 'software_report_dir\s*=\s*var\.software_report_dir != "" \? var\.software_report_dir : "\$\{local\.root\}/software-report"'
    }

    It 'makes an SBOM only when sbom_enabled (default false), with syft pinned' {
        Get-VariableBlock 'sbom_enabled' | Should -Match 'type\s*=\s*bool'
        Get-VariableBlock 'sbom_enabled' | Should -Match 'default\s*=\s*false'
        $script:Hcl | Should -Match 'KILN_SBOM_ENABLED=\$\{var\.sbom_enabled\}'
        $script:Toolset.sbom.tool | Should -Be 'syft'
        $script:Toolset.sbom.version | Should -Match '^\d+\.\d+\.\d+$'
        $script:Toolset.sbom.github.checksums | Should -Not -BeNullOrEmpty
    }

    It 'waits for the generalised image state after Sysprep' {
        $sysprep = Get-Content -Raw -LiteralPath (Join-Path $script:TemplateDir 'scripts/invoke-sysprep.ps1')
        $sysprep | Should -Match '/generalize'
        $sysprep | Should -Match 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE'
        $sysprep | Should -Match 'RdAgent'
    }
}

Describe 'build scripts' {
    It '<Name> is used by the template' -ForEach $script:BuildScripts {
        $script:Build | Should -Match ([regex]::Escape($Name))
    }

    It '<Name> is named verb-first with a one-line header' -ForEach $script:BuildScripts {
        $Name | Should -Match '^(install|configure|test|invoke|write)-[a-z0-9-]+\.ps1$'
        (Get-Content -LiteralPath $Path -TotalCount 1) | Should -Match '^# [A-Z].{20,}'
    }

    It '<Name> checks what it installed' -ForEach ($script:BuildScripts | Where-Object { $_.Name -like 'install-*' -or $_.Name -like 'configure-*' }) {
        Get-Content -Raw -LiteralPath $Path | Should -Match 'Assert-ToolOutput|verified:'
    }

    It '<Name> takes every version from toolset.json' -ForEach ($script:BuildScripts | Where-Object { $_.Name -like 'install-*' }) {
        # A literal x.y.z in a script is a version that escaped the data file.
        $code = (Get-Content -LiteralPath $Path | Where-Object { $_ -notmatch '^\s*#' }) -join "`n"
        $code | Should -Not -Match '(?<![\w.])\d+\.\d+\.\d+(?![\w.])'
    }

    It 'toolset.json names every tool the seed README promises' {
        foreach ($tool in 'chocolatey', 'git', 'nodejs', 'python', 'cmake', 'azureCli', 'azd', 'visualStudioBuildTools', 'azPowerShell', 'pip') {
            $script:Toolset.PSObject.Properties[$tool] | Should -Not -BeNullOrEmpty -Because "$tool is promised"
        }
        $script:Toolset.python.version | Should -Match '^3\.12\.'
        $script:Toolset.visualStudioBuildTools.workloads | Should -Contain 'Microsoft.VisualStudio.Workload.VCTools'
        @($script:Toolset.nodePackages.name) | Should -Be @('yarn', 'pnpm')
    }

    It 'toolset.json names a line for <Name>, or a pin with its checksum' -ForEach @(
        @{ Name = 'chocolatey' }, @{ Name = 'git' }, @{ Name = 'nodejs' }, @{ Name = 'python' }, @{ Name = 'cmake' },
        @{ Name = 'azureCli' }, @{ Name = 'azd' }, @{ Name = 'azPowerShell' }, @{ Name = 'pip' }
    ) {
        Import-Module (Join-Path $script:TemplateDir 'scripts/helpers/ImageHelpers.psm1') -Force -DisableNameChecking
        $entry = $script:Toolset.$Name
        $line = Get-KilnVersionLine $entry.version
        $line.Kind | Should -BeIn @('latest', 'line', 'lts', 'pin')
        if ($line.Kind -eq 'pin') { ($entry.sha256 + $entry.sha512) | Should -Match '^[0-9a-f]{64,128}$' }
    }

    It 'toolset.json lines the npm packages' {
        Import-Module (Join-Path $script:TemplateDir 'scripts/helpers/ImageHelpers.psm1') -Force -DisableNameChecking
        foreach ($package in $script:Toolset.nodePackages) { (Get-KilnVersionLine $package.version).Kind | Should -BeIn @('latest', 'line') }
    }
}

Describe 'Windows PowerShell 5.1 compatibility' {
    It '<Name> uses no PowerShell 7-only syntax' -ForEach $script:ImageScripts {
        $tokens = $null
        $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref] $tokens, [ref] $errors)
        $newSyntax = @($ast.FindAll({
                    param($node)
                    $node -is [System.Management.Automation.Language.TernaryExpressionAst] -or
                    $node -is [System.Management.Automation.Language.PipelineChainAst]
                }, $true))
        $newTokens = @($tokens | Where-Object { $_.Kind -in 'QuestionQuestion', 'QuestionQuestionEquals', 'QuestionDot', 'QuestionLBracket' })
        ($newSyntax + $newTokens | ForEach-Object { "line $($_.Extent.StartLineNumber): $($_.Extent.Text)" }) -join "`n" | Should -BeNullOrEmpty
    }

    It '<Name> guards PowerShell 7-only parameters' -ForEach $script:ImageScripts {
        # -NoProxy, -SkipHttpErrorCheck, -StatusCodeVariable, -Parallel do not exist in 5.1 unless behind a version check.
        $text = Get-Content -Raw -LiteralPath $Path
        $text | Should -Not -Match '\s-(SkipHttpErrorCheck|StatusCodeVariable|Parallel|ResponseHeadersVariable)\b'
        if ($text -match 'NoProxy') { $text | Should -Match 'PSVersion\.Major -ge 7' }
    }
}
