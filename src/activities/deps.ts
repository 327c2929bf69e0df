/** What activity factories receive: the clients and the settings they act under. */
import type { Settings } from '../config/load-settings.js';
import type { FullAdoClient, FullArmClient, FullGitHubClient } from '../clients/types.js';

export interface ActivityDeps {
  settings: Settings;
  arm: FullArmClient;
  github?: FullGitHubClient;
  ado?: FullAdoClient;
}
