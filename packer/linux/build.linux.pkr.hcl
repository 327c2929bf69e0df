// Provisioning order: apt, tools, the runner, the service, hardening, a check that every promised
// tool runs, the SBOM (when asked for) and the software report, their download to the Packer host,
// cleanup, and the Azure agent's deprovision step last (it generalises the image).

build {
  sources = ["source.azure-arm.linux"]

  provisioner "shell" {
    inline = ["mkdir -p ${local.staging}"]
  }

  // scripts/ (helpers, bootstrap.sh, github-runner.service) for the steps below.
  provisioner "file" {
    source      = "${local.scripts}/"
    destination = "${local.staging}/"
  }

  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = "{{ .Vars }} sudo -E bash '{{ .Path }}'"
    scripts = [
      "${local.scripts}/configure-apt.sh",
      "${local.scripts}/install-apt-common.sh",
      "${local.scripts}/install-nodejs.sh",
      "${local.scripts}/install-azure-cli.sh",
      "${local.scripts}/install-azd.sh",
      "${local.scripts}/install-actions-runner.sh",
      "${local.scripts}/configure-runner-service.sh",
      "${local.scripts}/configure-hardening.sh",
    ]
  }

  // Fails the build when any promised tool is missing or broken.
  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = "{{ .Vars }} sudo -E bash '{{ .Path }}'"
    scripts          = ["${local.scripts}/verify-tools.sh"]
  }

  // What the image holds: /var/lib/kiln/software-report.json and .md (docs/software-report.md),
  // and /var/lib/kiln/sbom.spdx.json when an SBOM is asked for; copies go to the staging folder.
  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = "{{ .Vars }} sudo -E bash '{{ .Path }}'"
    scripts = [
      "${local.scripts}/write-sbom.sh",
      "${local.scripts}/write-software-report.sh",
    ]
  }

  // The report (and SBOM) to the Packer host, into software_report_dir. A glob source: the files
  // land directly in the folder, and the SBOM is taken only when it was made.
  provisioner "file" {
    direction   = "download"
    source      = "${local.staging}/software-report/*"
    destination = "${local.software_report_dir}/"
  }

  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = "{{ .Vars }} sudo -E bash '{{ .Path }}'"
    scripts          = ["${local.scripts}/cleanup-image.sh"]
  }

  // Last: generalise. This removes the build user, so Packer cannot clean up after it (skip_clean).
  provisioner "shell" {
    execute_command = "sudo -E sh '{{ .Path }}'"
    inline          = ["/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"]
    inline_shebang  = "/bin/sh -e"
    skip_clean      = true
  }
}
