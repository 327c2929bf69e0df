/**
 * The one Azure credential kiln uses: DefaultAzureCredential with the user-assigned identity's
 * client id. In Azure Functions the managed identity comes through IDENTITY_ENDPOINT +
 * IDENTITY_HEADER (App Service MSI protocol, api-version 2019-08-01), which @azure/identity 4.x
 * reaches through MSAL's App Service managed identity source; on a VM it falls back to IMDS. The
 * local fake cloud serves the App Service form and sets those two variables, so this code is the
 * same everywhere.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../config/load-settings.js';

export function createCredential(settings: Pick<Settings, 'clientId'>): TokenCredential {
  return new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {});
}
