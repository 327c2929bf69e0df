// Build steps of the Windows Azure DevOps agent image. Scripts are named verb-first and each one
// ends by checking that what it installed works and recording it for the software report; each
// tool's line comes from toolset.json and is resolved and verified inside the build. Windows
// restarts wherever an installer asks for one (the VS Build Tools) and once before the final checks.

build {
  name    = "windows-ado-agent"
  sources = ["source.azure-arm.windows"]

  provisioner "powershell" {
    inline = ["New-Item -ItemType Directory -Force -Path '${local.image_folder}\\scripts' | Out-Null"]
  }

  provisioner "file" {
    sources     = ["${path.root}/scripts", "${path.root}/toolset.json"]
    destination = "${local.image_folder}\\"
  }

  provisioner "powershell" {
    environment_vars = local.script_env
    scripts = [
      "${path.root}/scripts/install-chocolatey.ps1",
      "${path.root}/scripts/install-git.ps1",
      "${path.root}/scripts/install-nodejs.ps1",
      "${path.root}/scripts/install-python.ps1",
      "${path.root}/scripts/install-cmake.ps1",
      "${path.root}/scripts/install-azure-cli.ps1",
      "${path.root}/scripts/install-azd.ps1",
      "${path.root}/scripts/install-nssm.ps1",
    ]
  }

  // The VS installer needs a full (non-network) logon token: run it as a scheduled task.
  provisioner "powershell" {
    environment_vars  = local.script_env
    scripts           = ["${path.root}/scripts/install-vs-buildtools.ps1"]
    valid_exit_codes  = [0, 3010]
    elevated_user     = "packer"
    elevated_password = build.Password
  }

  provisioner "windows-restart" {
    restart_timeout = "30m"
  }

  provisioner "powershell" {
    environment_vars = local.script_env
    scripts = [
      "${path.root}/scripts/install-az-module.ps1",
      "${path.root}/scripts/configure-package-caches.ps1",
      "${path.root}/scripts/install-ado-agent.ps1",
      "${path.root}/scripts/configure-ado-bootstrap.ps1",
      // Last: once the agent and the bootstrap scripts are in the agent folder, it makes them
      // unwritable by the account jobs run as.
      "${path.root}/scripts/configure-agent-permissions.ps1",
    ]
  }

  provisioner "windows-restart" {
    restart_timeout = "30m"
  }

  provisioner "powershell" {
    environment_vars = local.script_env
    scripts = [
      "${path.root}/scripts/test-image-tools.ps1",
      // What the image holds, from the records the install steps left (and the SBOM when enabled).
      "${path.root}/scripts/write-software-report.ps1",
    ]
  }

  // The report comes back to the Packer host (software_report_dir) before Sysprep; the copies in
  // C:\kiln stay in the image.
  provisioner "file" {
    direction   = "download"
    source      = "${local.report_folder}\\software-report.json"
    destination = "${local.software_report_dir}/software-report.json"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.report_folder}\\software-report.md"
    destination = "${local.software_report_dir}/software-report.md"
  }

  provisioner "file" {
    direction   = "download"
    source      = local.sbom_download_source
    destination = local.sbom_download_destination
  }

  provisioner "powershell" {
    environment_vars = local.script_env
    scripts          = ["${path.root}/scripts/invoke-sysprep.ps1"]
  }
}
