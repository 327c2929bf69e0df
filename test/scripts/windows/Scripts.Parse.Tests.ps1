# Every PowerShell script of the Windows image (and of its tests) must parse with PowerShell's own
# parser: a syntax error found on the build VM costs a 40-minute image build.

BeforeDiscovery {
    $repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
    $script:ScriptFiles = @(
        Get-ChildItem -Path (Join-Path $repoRoot 'packer/windows'), $PSScriptRoot -Recurse -File -Include '*.ps1', '*.psm1' |
            Sort-Object FullName |
            ForEach-Object { @{ Path = $_.FullName; Name = $_.FullName.Substring($repoRoot.Length + 1) } }
    )
}

Describe 'PowerShell scripts parse' {
    It 'finds the image scripts' {
        $repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
        @(Get-ChildItem -Path (Join-Path $repoRoot 'packer/windows/scripts') -Recurse -File -Filter '*.ps1').Count | Should -BeGreaterThan 10
    }

    It '<Name> parses without errors' -ForEach $script:ScriptFiles {
        $tokens = $null
        $errors = $null
        $null = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref] $tokens, [ref] $errors)
        ($errors | ForEach-Object { "line $($_.Extent.StartLineNumber): $($_.Message)" }) -join "`n" | Should -BeNullOrEmpty
    }
}
