// Derived values: tool versions from toolset.json (the one place they live), defaults that depend on
// other inputs, and the tags every resource of the build carries.

locals {
  // abspath: packer 1.6.6 resolves file() against the template folder, so "${path.root}/..." would
  // double a relative path such as packer/linux; an absolute path works in every version.
  root    = abspath(path.root)
  toolset = jsondecode(file("${local.root}/toolset.json"))

  // runner_version/runner_sha256 override toolset.json together; install-actions-runner.sh refuses
  // an overridden version without its checksum.
  runner_version = var.runner_version != "" ? var.runner_version : local.toolset.runner.version
  runner_sha256  = var.runner_version != "" ? var.runner_sha256 : local.toolset.runner.sha256

  vm_size = var.vm_size != "" ? var.vm_size : "Standard_D4s_v5"

  // Where the build VM goes. The azure-arm builder takes either location (it creates a group:
  // temp_resource_group_name, or a generated name) or build_resource_group_name (an existing group,
  // whose region it uses), never both; null leaves an argument unset.
  build_in_existing_rg      = var.temp_rg != "" && var.build_in_existing_rg
  build_resource_group_name = local.build_in_existing_rg ? var.temp_rg : null
  temp_resource_group_name  = local.build_in_existing_rg || var.temp_rg == "" ? null : var.temp_rg
  build_location            = local.build_in_existing_rg ? null : var.location

  tags = {
    org            = var.tag_org
    env            = var.tag_env
    image          = "linux-gh-runner"
    runner_version = local.runner_version
    built_by       = "packer"
  }

  gallery_destinations = var.gallery_name == "" ? [] : [var.gallery_name]
  gallery_regions      = length(var.gallery_replication_regions) > 0 ? var.gallery_replication_regions : [var.location]

  scripts = "${local.root}/scripts"
  // Where the file provisioner puts scripts/ on the build VM: helpers, bootstrap.sh, the unit.
  staging = "/tmp/kiln-image"

  script_env = [
    "DEBIAN_FRONTEND=noninteractive",
    "HELPER_DIR=${local.staging}/helpers",
    "STAGING_DIR=${local.staging}",
    "RUNNER_USER=${var.runner_user}",
    "RUNNER_VERSION=${local.runner_version}",
    "RUNNER_SHA256=${local.runner_sha256}",
    "NODE_MAJOR=${local.toolset.node.major}",
    "AZURE_CLI_VERSION=${local.toolset.azure_cli.version}",
    "AZD_VERSION=${local.toolset.azd.version}",
    "AZD_SHA256=${local.toolset.azd.sha256}",
    "APT_INSTALL=${join(" ", local.toolset.apt.install)}",
    "APT_REMOVE=${join(" ", local.toolset.apt.remove)}",
  ]
}
