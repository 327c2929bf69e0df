# Installs CMake (version from toolset.json) on the system PATH and checks `cmake --version`.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $env:KILN_IMAGE_FOLDER 'scripts\helpers\ImageHelpers.psm1') -Force
$toolset = Get-Toolset

Install-ChocoPackage -Name $toolset.cmake.package -Version $toolset.cmake.version -InstallArguments $toolset.cmake.installArguments
Assert-ToolOutput -Command 'cmake' -Arguments @('--version') -Pattern $toolset.cmake.versionPattern
