# Generalises Windows for Azure with Sysprep and waits until the image state says it is ready to capture.
$ErrorActionPreference = 'Stop'
$deadline = (Get-Date).AddMinutes(30)

# Sysprep run before the Azure guest agent is up leaves an image that never finishes provisioning.
foreach ($name in 'RdAgent', 'WindowsAzureGuestAgent') {
    while ((Get-Service -Name $name -ErrorAction SilentlyContinue).Status -ne 'Running') {
        if ((Get-Date) -gt $deadline) { throw "$name did not reach Running" }
        Write-Host "waiting for $name"
        Start-Sleep -Seconds 5
    }
}

# The build-time copies of the scripts are not part of the image (the agent folder has its own).
Remove-Item -LiteralPath $env:KILN_IMAGE_FOLDER -Recurse -Force -ErrorAction SilentlyContinue

& (Join-Path $env:SystemRoot 'System32\Sysprep\Sysprep.exe') /oobe /generalize /quiet /quit /mode:vm
$stateKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State'
while ($true) {
    $state = (Get-ItemProperty -Path $stateKey).ImageState
    if ($state -eq 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { break }
    if ((Get-Date) -gt $deadline) { throw "Sysprep did not finish: image state is $state" }
    Write-Host "image state: $state"
    Start-Sleep -Seconds 10
}
Write-Host 'image state: IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE; ready to capture'
