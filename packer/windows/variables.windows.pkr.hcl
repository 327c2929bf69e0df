// Inputs of the Windows Azure DevOps agent image. Defaults read the same environment variables as
// the seed README's table, so CI can run `packer build` without editing anything.

// Validation uses regex_replace(value, "^(?:pattern)$", "=VALID=") because packer 1.6.6 offers no
// regex() or regexall() inside validation blocks; current Packer accepts the same form.

variable "location" {
  type        = string
  description = "Azure region of the build (PACKER_LOCATION) and the default gallery replication region. When building in an existing temp_rg, Packer uses that group's region instead: keep them the same."
  default     = env("PACKER_LOCATION")
  validation {
    condition     = regex_replace(var.location, "^(?:[a-z][a-z0-9]+)$", "=VALID=") == "=VALID="
    error_message = "The location must be an Azure region name such as swedencentral: export PACKER_LOCATION or pass -var location=..."
  }
}

variable "managed_image_rg" {
  type        = string
  description = "Existing resource group that receives the managed image (PACKER_IMAGE_RG)."
  default     = env("PACKER_IMAGE_RG")
}

variable "managed_image_name" {
  type        = string
  description = "Name of the managed image to create, e.g. windows-ado-agent-202611280300. Required."
}

variable "temp_rg" {
  type        = string
  description = "Resource group of the build VM (PACKER_TEMP_RG). With build_in_existing_rg (the default) an existing group Packer only builds in, e.g. kiln's rg-<env>-packer-build; with build_in_existing_rg=false a group Packer creates and deletes, which must not exist. Empty: Packer creates and deletes a group with a generated name in location."
  default     = env("PACKER_TEMP_RG")
  validation {
    condition     = var.temp_rg == "" || regex_replace(var.temp_rg, "^(?:[-\\w.()]{0,89}[-\\w()])$", "=VALID=") == "=VALID="
    error_message = "The temp_rg must be a resource group name (letters, digits, '-', '_', '.', '(', ')'; not ending in '.'), or empty."
  }
}

// How temp_rg is used. true (default): build in that existing group (build_resource_group_name):
// the identity needs Contributor on that group only, and the build region is the group's. false:
// Packer creates temp_rg in location and deletes it (temp_resource_group_name), which needs the
// right to create resource groups in the subscription. Ignored while temp_rg is empty.
// The env value must be empty, true or false; anything else fails as "a bool is required".
variable "build_in_existing_rg" {
  type        = bool
  description = "Build in the existing resource group temp_rg (PACKER_BUILD_IN_EXISTING_RG: true or false; unset: true). false: Packer creates and deletes temp_rg itself. Ignored when temp_rg is empty."
  default     = env("PACKER_BUILD_IN_EXISTING_RG") == "" ? true : env("PACKER_BUILD_IN_EXISTING_RG")
}

variable "vm_size" {
  type        = string
  description = "Build VM size (PACKER_VM_SIZE); empty means Standard_D4s_v5."
  default     = env("PACKER_VM_SIZE")
}

variable "agent_version" {
  type        = string
  description = "Azure DevOps agent version to download: an exact version, or latest (the newest microsoft/azure-pipelines-agent release, its SHA-256 read from the release notes at build time); empty means toolset.json's adoAgent.version. An exact version's SHA-256 must be in toolset.json (adoAgent.sha256) or in agent_sha256: packer validate refuses it otherwise."
  default     = ""
  validation {
    condition     = var.agent_version == "" || regex_replace(var.agent_version, "^(?:latest|[0-9]+\\.[0-9]+\\.[0-9]+)$", "=VALID=") == "=VALID="
    error_message = "The agent_version must be an exact agent version such as 4.269.0, or latest."
  }
}

variable "agent_sha256" {
  type        = string
  description = "SHA-256 of vsts-agent-win-x64-<agent_version>.zip, from the agent's release notes; overrides toolset.json."
  default     = ""
  validation {
    condition     = var.agent_sha256 == "" || regex_replace(var.agent_sha256, "^(?:[0-9a-fA-F]{64})$", "=VALID=") == "=VALID="
    error_message = "The agent_sha256 must be 64 hexadecimal digits (the SHA-256 in the agent's release notes)."
  }
}

variable "agent_root" {
  type        = string
  description = "Folder the agent is unpacked into; bootstrap-agent.ps1 and configure-run.ps1 live there too."
  default     = "C:\\ado-agent"
}

// Where the software report (software-report.json, .md and, with sbom_enabled, sbom.spdx.json) is
// downloaded to on the machine running Packer; kiln's Packer job stores it as blobs from there.
variable "software_report_dir" {
  type        = string
  description = "Folder on the Packer host that receives the build VM's software report (KILN_SOFTWARE_REPORT_DIR); empty means software-report beside the template."
  default     = env("KILN_SOFTWARE_REPORT_DIR")
}

variable "sbom_enabled" {
  type        = bool
  description = "Also make an SPDX JSON SBOM of the image with syft (toolset.json sbom: pinned, checked against its checksums file) and download it with the report."
  default     = false
}

variable "tag_org" {
  type        = string
  description = "Value of the org tag on every resource the build creates (ORG)."
  default     = env("ORG")
}

variable "tag_env" {
  type        = string
  description = "Value of the env tag on every resource the build creates (ENV)."
  default     = env("ENV")
}

// Authentication. All empty: Packer falls back to the managed identity of the machine it runs on
// (kiln's Container Apps job) or, with use_azure_cli_auth, to `az login`.
variable "subscription_id" {
  type    = string
  default = env("ARM_SUBSCRIPTION_ID")
}

variable "tenant_id" {
  type    = string
  default = env("ARM_TENANT_ID")
}

variable "client_id" {
  type        = string
  description = "Service principal or user-assigned managed identity client id (ARM_CLIENT_ID)."
  default     = env("ARM_CLIENT_ID")
}

variable "client_secret" {
  type      = string
  default   = env("ARM_CLIENT_SECRET")
  sensitive = true
}

variable "use_azure_cli_auth" {
  type    = bool
  default = false
}

// Optional Azure Compute Gallery destination: set gallery_name to publish a version as well. The
// managed image is always produced too (Packer 1.6.6 needs it alongside a gallery destination).
variable "gallery_name" {
  type        = string
  description = "Gallery to publish into; empty publishes nothing."
  default     = ""
}

variable "gallery_resource_group" {
  type        = string
  description = "Resource group of the gallery; empty means managed_image_rg."
  default     = ""
}

variable "gallery_subscription" {
  type        = string
  description = "Subscription of the gallery; empty means subscription_id."
  default     = ""
}

variable "gallery_image_name" {
  type        = string
  description = "Image definition in the gallery (Hyper-V generation 2, Windows, generalized)."
  default     = "windows-agent"
}

variable "gallery_image_version" {
  type        = string
  description = "Version to create, Major.Minor.Patch (e.g. 2026.11.28)."
  default     = ""
}

variable "gallery_replication_regions" {
  type        = list(string)
  description = "Regions to replicate the version to at build time; kiln replicates further after the canary."
  default     = []
}
