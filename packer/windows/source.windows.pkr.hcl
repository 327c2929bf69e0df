// Build VM: Windows Server 2022 Azure Edition (Hyper-V generation 2) reached over WinRM/HTTPS.

source "azure-arm" "windows" {
  subscription_id    = var.subscription_id
  tenant_id          = var.tenant_id
  client_id          = var.client_id
  client_secret      = var.client_secret
  use_azure_cli_auth = var.use_azure_cli_auth

  // Existing group (kiln: rg-<env>-packer-build, Contributor there only) or a group Packer creates.
  location                  = local.build_location
  build_resource_group_name = local.build_resource_group_name
  temp_resource_group_name  = local.temp_resource_group_name
  vm_size                   = local.vm_size
  azure_tags                = local.tags

  os_type         = "Windows"
  image_publisher = local.toolset.baseImage.publisher
  image_offer     = local.toolset.baseImage.offer
  image_sku       = local.toolset.baseImage.sku
  image_version   = "latest"
  os_disk_size_gb = 256

  managed_image_name                = var.managed_image_name
  managed_image_resource_group_name = var.managed_image_rg

  dynamic "shared_image_gallery_destination" {
    for_each = local.gallery_destinations
    content {
      subscription        = shared_image_gallery_destination.value.subscription
      resource_group      = shared_image_gallery_destination.value.resource_group
      gallery_name        = shared_image_gallery_destination.value.gallery_name
      image_name          = shared_image_gallery_destination.value.image_name
      image_version       = shared_image_gallery_destination.value.image_version
      replication_regions = shared_image_gallery_destination.value.replication_regions
    }
  }

  communicator   = "winrm"
  winrm_username = "packer"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "30m"
}
