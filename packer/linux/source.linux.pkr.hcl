// The build VM: Ubuntu 22.04 LTS (gen2) from Canonical, captured as a managed image and, when
// gallery_name is set, also published as a gallery image version.

source "azure-arm" "linux" {
  use_azure_cli_auth = var.use_azure_cli_auth
  subscription_id    = var.subscription_id

  os_type         = "Linux"
  image_publisher = local.toolset.baseImage.publisher
  image_offer     = local.toolset.baseImage.offer
  image_sku       = local.toolset.baseImage.sku

  // Existing group (kiln: rg-<env>-packer-build, Contributor there only) or a group Packer creates.
  location                  = local.build_location
  build_resource_group_name = local.build_resource_group_name
  temp_resource_group_name  = local.temp_resource_group_name
  vm_size                   = local.vm_size

  managed_image_name                = var.managed_image_name
  managed_image_resource_group_name = var.managed_image_rg

  azure_tags = local.tags

  dynamic "shared_image_gallery_destination" {
    for_each = local.gallery_destinations
    content {
      subscription        = var.gallery_subscription_id
      resource_group      = var.gallery_resource_group != "" ? var.gallery_resource_group : var.managed_image_rg
      gallery_name        = shared_image_gallery_destination.value
      image_name          = var.gallery_image_name
      image_version       = var.gallery_image_version
      replication_regions = local.gallery_regions
    }
  }
}
