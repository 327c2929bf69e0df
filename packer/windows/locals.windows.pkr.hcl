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

  // Where the scripts and toolset.json are copied on the build VM.
  image_folder = "C:\\kiln\\image"

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
  ]
}
