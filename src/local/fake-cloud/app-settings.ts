/**
 * The app settings the fake cloud sets to point kiln at itself: its endpoints, identities, names, the
 * gallery regions of the scenario and the registration broker's audience. What kiln reaches depends
 * on them, so a scenario's `settings` may not set them, and a report does not list them among the
 * settings a result was obtained with. (GITHUB_AUTH and ADO_AUTH the fake sets to kiln's defaults;
 * a scenario may choose them: the fake serves both ways.)
 */
import type { SettingName } from '../../config/settings.js';

export const FAKE_CLOUD_SETTINGS = [
  'AZURE_SUBSCRIPTION_ID',
  'AZURE_CLIENT_ID',
  'ARM_ENDPOINT',
  'MANAGED_TAG',
  'CANARY_TAG',
  'KEYVAULT_URL',
  'GITHUB_API_URL',
  'GITHUB_SCOPE',
  'GITHUB_OWNER',
  'GITHUB_REPO',
  'GITHUB_APP_ID',
  'GITHUB_APP_INSTALLATION_ID',
  'GITHUB_APP_KEY_SECRET',
  'GITHUB_PAT_SECRET',
  'ADO_ORG_URL',
  'ADO_POOL',
  'ADO_PAT_SECRET',
  'GALLERY_RESOURCE_GROUP',
  'GALLERY_NAME',
  'LINUX_IMAGE_DEFINITION',
  'WINDOWS_IMAGE_DEFINITION',
  'TARGET_REGIONS',
  'PACKER_JOB_ID',
  'PACKER_JOB_IMAGE',
  'PACKER_IMAGE_RG',
  'PACKER_TEMP_RG',
  'AZURE_AUTHORITY_HOST',
  'AZURE_TENANT_ID',
  'KILN_REGISTRATION_AUDIENCE',
  'KILN_TABLE_ENDPOINT',
  'KILN_BLOB_ENDPOINT',
] as const satisfies readonly SettingName[];

export type FakeCloudSetting = (typeof FAKE_CLOUD_SETTINGS)[number];

/** Settings the fake sets to kiln's defaults, which a scenario may choose otherwise. */
export type ChoosableFakeCloudSetting = 'GITHUB_AUTH' | 'ADO_AUTH';
