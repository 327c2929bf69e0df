// Derived values: defaults for empty inputs, tags, and the tool versions from toolset.json (the one
// data file the install scripts read as well).

locals {
  // abspath: packer 1.6.6 resolves file() against the template folder, current Packer against the
  // working directory; an absolute path works in both, from any directory.
  root    = abspath(path.root)
  toolset = jsondecode(file("${local.root}/toolset.json"))

  vm_size = var.vm_size != "" ? var.vm_size : "Standard_D4s_v5"

  // Where the build VM goes. The azure-arm builder takes either location (it creates a group:
  // temp_resource_group_name, or a generated name) or build_resource_group_name (an existing group,
  // whose region it uses), never both; null leaves an argument unset.
  build_in_existing_rg      = var.temp_rg != "" && var.build_in_existing_rg
  build_resource_group_name = local.build_in_existing_rg ? var.temp_rg : null
  temp_resource_group_name  = local.build_in_existing_rg || var.temp_rg == "" ? null : var.temp_rg
  build_location            = local.build_in_existing_rg ? null : var.location

  agent_version = var.agent_version != "" ? var.agent_version : local.toolset.adoAgent.version
  agent_sha256  = var.agent_sha256 != "" ? var.agent_sha256 : lookup(local.toolset.adoAgent.sha256, local.agent_version, "")
  // An exact agent version without its SHA-256 fails here, at packer validate, before any VM
  // exists. packer 1.6.6 lets a validation block read only its own variable, so the check is this
  // local: file() of the message fails evaluation with the message in the error ("no file exists
  // at ..."). Nothing refers to it, so no other local's error can hide it. latest takes its SHA-256
  // from the release notes inside the build.
  agent_sha256_check = local.agent_version == "latest" || local.agent_sha256 != "" ? "" : file("ERROR: agent_version ${local.agent_version} has no known SHA-256: add it to toolset.json (adoAgent.sha256) or pass -var agent_sha256=<the SHA-256 of vsts-agent-win-x64-${local.agent_version}.zip from its release notes>, or use -var agent_version=latest")

  // Where the scripts and toolset.json are copied on the build VM.
  image_folder = "C:\\kiln\\image"
  // Where the software report is written on the build VM (docs/software-report.md; it stays in the
  // image), and where Packer downloads it to.
  report_folder       = "C:\\kiln"
  software_report_dir = var.software_report_dir != "" ? var.software_report_dir : "${local.root}/software-report"
  // The SBOM's download, when there is one. Provisioners cannot be conditional in packer 1.6.6, so
  // without an SBOM this step downloads the JSON report a second time, to the same file.
  sbom_download_source      = var.sbom_enabled ? "${local.report_folder}\\sbom.spdx.json" : "${local.report_folder}\\software-report.json"
  sbom_download_destination = var.sbom_enabled ? "${local.software_report_dir}/sbom.spdx.json" : "${local.software_report_dir}/software-report.json"

  gallery_destinations = var.gallery_name == "" ? [] : [{
    subscription        = var.gallery_subscription != "" ? var.gallery_subscription : var.subscription_id
    resource_group      = var.gallery_resource_group != "" ? var.gallery_resource_group : var.managed_image_rg
    gallery_name        = var.gallery_name
    image_name          = var.gallery_image_name
    image_version       = var.gallery_image_version
    replication_regions = length(var.gallery_replication_regions) > 0 ? var.gallery_replication_regions : [var.location]
  }]

  tags = {
    org       = var.tag_org
    env       = var.tag_env
    image     = "windows-ado-agent"
    agent     = local.agent_version
    createdBy = "kiln-packer"
  }

  script_env = [
    "KILN_IMAGE_FOLDER=${local.image_folder}",
    "AGENT_VERSION=${local.agent_version}",
    "AGENT_SHA256=${local.agent_sha256}",
    "AGENT_ROOT=${var.agent_root}",
    "KILN_REPORT_FOLDER=${local.report_folder}",
    "KILN_SBOM_ENABLED=${var.sbom_enabled}",
  ]
}
