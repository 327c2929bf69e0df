// Derived values: tool versions from toolset.json (the one place they live), defaults that depend on
// other inputs, and the tags every resource of the build carries.

locals {
  // abspath: packer 1.6.6 resolves file() against the template folder, so "${path.root}/..." would
  // double a relative path such as packer/linux; an absolute path works in every version.
  root    = abspath(path.root)
  toolset = jsondecode(file("${local.root}/toolset.json"))

  // A toolset entry's "version" is a line ("latest", "active LTS", "26.x") resolved at build time,
  // or a pin ("2.338.0"), which needs its "sha256". runner_version/runner_sha256 override the
  // runner entry together (kiln's orchestrator passes both).
  runner_version = var.runner_version != "" ? var.runner_version : local.toolset.runner.version
  runner_sha256  = var.runner_version != "" ? var.runner_sha256 : lookup(local.toolset.runner, "sha256", "")

  // Checks that fail `packer validate`, before any VM exists. Packer 1.6.6 lets a variable's
  // validation read only that variable, so these are locals that call file() on a path whose name
  // is the message: evaluating the local fails with "no file exists at /kiln: <the message>" (Packer
  // evaluates every local, used or not). A runner_version without its runner_sha256 used to fail
  // an hour into the build.
  runner_pin_error = var.runner_version != "" && var.runner_sha256 == "" ? file("/kiln: runner_version ${var.runner_version} was given without runner_sha256: add -var runner_sha256=<the SHA-256 of actions-runner-linux-x64-${var.runner_version}.tar.gz from its release notes>, or leave runner_version empty to build the toolset.json line (${local.toolset.runner.version})") : ""
  runner_sha_error = var.runner_version == "" && var.runner_sha256 != "" ? file("/kiln: runner_sha256 was given without runner_version: give the version the checksum belongs to, or neither") : ""
  pinned_without_sha = [
    for name in ["runner", "node", "azd"] : name
    if regex_replace(local.toolset[name].version, "^[0-9]+\\.[0-9]+\\.[0-9]+$", "=PIN=") == "=PIN=" && lookup(local.toolset[name], "sha256", "") == ""
  ]
  toolset_pin_error = length(local.pinned_without_sha) > 0 ? file("/kiln: toolset.json pins ${join(" and ", local.pinned_without_sha)} to a version without its sha256: add \"sha256\" beside \"version\", or name a line such as latest") : ""

  sbom_enabled = var.sbom == "" ? local.toolset.sbom.enabled : var.sbom == "true"

  // Where the software report (and the SBOM) land on the Packer host.
  software_report_dir = var.software_report_dir != "" ? var.software_report_dir : "${local.root}/software-report"

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
    "NODE_VERSION=${local.toolset.node.version}",
    "NODE_SHA256=${lookup(local.toolset.node, "sha256", "")}",
    "AZURE_CLI_VERSION=${local.toolset.azure_cli.version}",
    "MICROSOFT_KEY_FINGERPRINTS=${join(",", local.toolset.azure_cli.keyFingerprints)}",
    "AZD_VERSION=${local.toolset.azd.version}",
    "AZD_SHA256=${lookup(local.toolset.azd, "sha256", "")}",
    "UBUNTU_KEY_FINGERPRINTS=${join(",", local.toolset.apt.keyFingerprints)}",
    "APT_INSTALL=${join(" ", local.toolset.apt.install)}",
    "APT_REMOVE=${join(" ", local.toolset.apt.remove)}",
    "SBOM_ENABLED=${local.sbom_enabled}",
    "SYFT_VERSION=${local.toolset.sbom.version}",
    "SYFT_SHA256=${lookup(local.toolset.sbom, "sha256", "")}",
    "BASE_IMAGE_PUBLISHER=${local.toolset.baseImage.publisher}",
    "BASE_IMAGE_OFFER=${local.toolset.baseImage.offer}",
    "BASE_IMAGE_SKU=${local.toolset.baseImage.sku}",
    // Vendor endpoints (real defaults in variables.linux.pkr.hcl).
    "GITHUB_API_URL=${var.github_api_url}",
    "GITHUB_URL=${var.github_url}",
    "NODE_DIST_URL=${var.node_dist_url}",
    "MICROSOFT_PACKAGES_URL=${var.microsoft_packages_url}",
  ]
}
