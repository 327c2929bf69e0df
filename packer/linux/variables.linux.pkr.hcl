// Inputs of the Linux GitHub Actions runner image. Defaults come from the environment exactly as the
// seed README's table says (PACKER_LOCATION, PACKER_IMAGE_RG, PACKER_TEMP_RG, PACKER_VM_SIZE, ORG,
// ENV); any variable can also be set with -var or PKR_VAR_<name>.

// Validation uses regex_replace(value, "^(?:pattern)$", "=VALID=") because packer 1.6.6 offers no
// regex() or regexall() inside validation blocks; current Packer accepts the same form.

variable "runner_version" {
  type        = string
  default     = ""
  description = "GitHub Actions runner version, e.g. 2.338.0. Empty: the runner line in toolset.json (latest), resolved at build time. Setting it requires runner_sha256 (packer validate refuses it alone)."
  validation {
    condition     = var.runner_version == "" || regex_replace(var.runner_version, "^(?:[0-9]+\\.[0-9]+\\.[0-9]+)$", "=VALID=") == "=VALID="
    error_message = "The runner_version must look like 2.338.0 (no leading v), or be empty to use the toolset.json line."
  }
}

variable "runner_sha256" {
  type        = string
  default     = ""
  description = "SHA-256 of actions-runner-linux-x64-<runner_version>.tar.gz, from the release notes. Required with runner_version."
  validation {
    condition     = var.runner_sha256 == "" || regex_replace(var.runner_sha256, "^(?:[0-9a-f]{64})$", "=VALID=") == "=VALID="
    error_message = "The runner_sha256 must be 64 lowercase hex digits (the SHA-256 listed in the runner's release notes)."
  }
}

variable "runner_user" {
  type        = string
  default     = "runner"
  description = "Unprivileged system user that owns /opt/actions-runner and runs the github-runner service."
  validation {
    condition     = regex_replace(var.runner_user, "^(?:[a-z_][a-z0-9_-]{0,31})$", "=VALID=") == "=VALID=" && var.runner_user != "root"
    error_message = "The runner_user must be a Linux user name (lowercase, at most 32 characters) and not root."
  }
}

variable "location" {
  type        = string
  default     = env("PACKER_LOCATION")
  description = "Azure region of the build (env PACKER_LOCATION) and the default gallery replication region. When building in an existing temp_rg, Packer uses that group's region instead: keep them the same."
  validation {
    condition     = regex_replace(var.location, "^(?:[a-z][a-z0-9]+)$", "=VALID=") == "=VALID="
    error_message = "The location must be an Azure region name such as swedencentral: export PACKER_LOCATION or pass -var location=..."
  }
}

variable "managed_image_rg" {
  type        = string
  default     = env("PACKER_IMAGE_RG")
  description = "Existing resource group that receives the managed image (env PACKER_IMAGE_RG)."
  validation {
    condition     = regex_replace(var.managed_image_rg, "^(?:[-\\w.()]{0,89}[-\\w()])$", "=VALID=") == "=VALID="
    error_message = "The managed_image_rg must name an existing resource group: export PACKER_IMAGE_RG or pass -var managed_image_rg=..."
  }
}

variable "managed_image_name" {
  type        = string
  description = "Name of the managed image to create, e.g. linux-gh-runner-202611280300 (must not exist yet)."
  validation {
    condition     = regex_replace(var.managed_image_name, "^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,78}[A-Za-z0-9_])$", "=VALID=") == "=VALID="
    error_message = "The managed_image_name must be 2-80 letters, digits, '.', '_' or '-', start with a letter or digit and end with a letter, digit or '_'."
  }
}

variable "temp_rg" {
  type        = string
  default     = env("PACKER_TEMP_RG")
  description = "Resource group of the build VM (env PACKER_TEMP_RG). With build_in_existing_rg (the default) an existing group Packer only builds in, e.g. kiln's rg-<env>-packer-build; with build_in_existing_rg=false a group Packer creates and deletes, which must not exist. Empty: Packer creates and deletes a group with a unique generated name in location."
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
  default     = env("PACKER_BUILD_IN_EXISTING_RG") == "" ? true : env("PACKER_BUILD_IN_EXISTING_RG")
  description = "Build in the existing resource group temp_rg (env PACKER_BUILD_IN_EXISTING_RG: true or false; unset: true). false: Packer creates and deletes temp_rg itself. Ignored when temp_rg is empty."
}

variable "vm_size" {
  type        = string
  default     = env("PACKER_VM_SIZE")
  description = "Size of the build VM (env PACKER_VM_SIZE). Empty: Standard_D4s_v5."
  validation {
    condition     = var.vm_size == "" || regex_replace(var.vm_size, "^(?:(Standard|Basic)_[A-Za-z0-9_]+)$", "=VALID=") == "=VALID="
    error_message = "The vm_size must be an Azure VM size such as Standard_D4s_v5, or empty."
  }
}

variable "tag_org" {
  type        = string
  default     = env("ORG")
  description = "Value of the org tag on the image and build resources (env ORG)."
  validation {
    condition     = length(var.tag_org) <= 256
    error_message = "The tag_org must be at most 256 characters (Azure tag value limit)."
  }
}

variable "tag_env" {
  type        = string
  default     = env("ENV")
  description = "Value of the env tag on the image and build resources (env ENV)."
  validation {
    condition     = length(var.tag_env) <= 256
    error_message = "The tag_env must be at most 256 characters (Azure tag value limit)."
  }
}

variable "subscription_id" {
  type        = string
  default     = env("ARM_SUBSCRIPTION_ID")
  description = "Subscription to build in (env ARM_SUBSCRIPTION_ID). Empty: the Azure CLI's current subscription."
}

variable "use_azure_cli_auth" {
  type        = bool
  default     = true
  description = "Authenticate as the signed-in Azure CLI identity (az login; the Packer job logs in with its managed identity). False: the azure-arm builder's own defaults, e.g. the build host's managed identity."
}

// Optional direct publishing to an Azure Compute Gallery (kiln's rebuild publishes from the managed
// image itself; these let a hand-run build skip that step). Publishing is on when gallery_name is set.

variable "gallery_subscription_id" {
  type        = string
  default     = ""
  description = "Subscription of the gallery. Empty: the build subscription."
}

variable "gallery_resource_group" {
  type        = string
  default     = ""
  description = "Resource group of the gallery. Empty: managed_image_rg."
}

variable "gallery_name" {
  type        = string
  default     = ""
  description = "Azure Compute Gallery to publish to. Empty: no gallery version, only the managed image."
  validation {
    condition     = var.gallery_name == "" || regex_replace(var.gallery_name, "^(?:[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9])$", "=VALID=") == "=VALID="
    error_message = "The gallery_name must be letters, digits, '_' and '.', starting and ending with a letter or digit, or empty."
  }
}

variable "gallery_image_name" {
  type        = string
  default     = "linux-agent"
  description = "Image definition in the gallery (the seed README's linux-agent)."
}

variable "gallery_image_version" {
  type        = string
  default     = ""
  description = "Version to create, MAJOR.MINOR.PATCH, e.g. 2026.11.28. Required when gallery_name is set."
  validation {
    condition     = var.gallery_image_version == "" || regex_replace(var.gallery_image_version, "^(?:[0-9]+\\.[0-9]+\\.[0-9]+)$", "=VALID=") == "=VALID="
    error_message = "The gallery_image_version must be MAJOR.MINOR.PATCH with numbers only, e.g. 2026.11.28."
  }
}

variable "gallery_replication_regions" {
  type        = list(string)
  default     = []
  description = "Regions to replicate the gallery version to. Empty: the build location only."
}

// Where the build VM fetches its tools. Real defaults; change them for a mirror (or a test server).
// Empty values are refused: the scripts would fall back to the same defaults anyway.

variable "github_api_url" {
  type        = string
  default     = "https://api.github.com"
  description = "GitHub REST API the build resolves actions/runner and azd releases from (unauthenticated)."
  validation {
    condition     = regex_replace(var.github_api_url, "^(?:https?://[^ ]+)$", "=VALID=") == "=VALID="
    error_message = "The github_api_url must be an http(s) URL, e.g. https://api.github.com."
  }
}

variable "github_url" {
  type        = string
  default     = "https://github.com"
  description = "Where GitHub release assets are downloaded from (…/<owner>/<repo>/releases/download/<tag>/<file>)."
  validation {
    condition     = regex_replace(var.github_url, "^(?:https?://[^ ]+)$", "=VALID=") == "=VALID="
    error_message = "The github_url must be an http(s) URL, e.g. https://github.com."
  }
}

variable "node_dist_url" {
  type        = string
  default     = "https://nodejs.org/dist"
  description = "Node.js release index (index.json), checksums (SHASUMS256.txt) and tarballs."
  validation {
    condition     = regex_replace(var.node_dist_url, "^(?:https?://[^ ]+)$", "=VALID=") == "=VALID="
    error_message = "The node_dist_url must be an http(s) URL, e.g. https://nodejs.org/dist."
  }
}

variable "microsoft_packages_url" {
  type        = string
  default     = "https://packages.microsoft.com"
  description = "Microsoft's package server: keys/microsoft.asc and repos/azure-cli/."
  validation {
    condition     = regex_replace(var.microsoft_packages_url, "^(?:https?://[^ ]+)$", "=VALID=") == "=VALID="
    error_message = "The microsoft_packages_url must be an http(s) URL, e.g. https://packages.microsoft.com."
  }
}

// The software report (and SBOM) the build downloads to the Packer host.

variable "software_report_dir" {
  type        = string
  default     = env("KILN_SOFTWARE_REPORT_DIR")
  description = "Folder on the Packer host that receives software-report.json, software-report.md and, when made, sbom.spdx.json (env KILN_SOFTWARE_REPORT_DIR). Empty: software-report/ beside the template."
}

variable "sbom" {
  type        = string
  default     = ""
  description = "true: also write an SPDX JSON SBOM (syft, version in toolset.json sbom); false: none. Empty: toolset.json sbom.enabled (false)."
  validation {
    condition     = var.sbom == "" || var.sbom == "true" || var.sbom == "false"
    error_message = "The sbom must be true, false or empty (toolset.json sbom.enabled)."
  }
}
