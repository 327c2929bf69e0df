/** What activity factories receive: the clients and the settings they act under. */
import type { Settings } from '../config/load-settings.js';
import type { Clients } from '../clients/types.js';

export interface ActivityDeps extends Clients {
  settings: Settings;
}
