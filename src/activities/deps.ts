/** What activity factories receive: the clients and the settings they act under. */
import type { Settings } from '../config/load-settings.js';
import type {
  FullAdoClient,
  FullArmClient,
  FullGitHubClient,
  SecretReader,
  SoftwareReportStore,
} from '../clients/types.js';
import type { RegistrationReader } from './registrations.js';

import type { JobDemandStore } from '../demand/job-demand-table.js';
import type { RunHistory } from '../history/run-history.js';
import type { ScaleSetLeases } from '../leases/scale-set-leases.js';
import type { IssuedRegistrations } from '../registration/issued-registrations.js';
import type { KilnMetrics } from '../telemetry/metrics.js';

export interface ActivityDeps {
  settings: Settings;
  arm: FullArmClient;
  github?: FullGitHubClient;
  ado?: FullAdoClient;
  /** Shared registration looks (one fleet list per poll tick for every scale set that looks). */
  registrations: RegistrationReader;
  /** The app's clock (virtual in the simulator). */
  now: () => Date;
  /** The registration broker's record of what it gave each instance provisioning (with the broker on). */
  issuedRegistrations?: IssuedRegistrations;
  /** kiln's metrics (NO_METRICS when no exporter is set): recorded here, in activities, never in orchestrators. */
  metrics: KilnMetrics;
  /** Every run's record (with KILN_TABLE_ENDPOINT set). */
  runHistory?: RunHistory;
  /** The scale sets' leases the autoscaler and rollouts share (with KILN_TABLE_ENDPOINT set). */
  leases?: ScaleSetLeases;
  /** Images' software reports (with KILN_BLOB_ENDPOINT set). */
  softwareReports?: SoftwareReportStore;
  /** GitHub's job demand: workflow_job webhooks and the reconcile's corrections (a GitHub fleet and KILN_TABLE_ENDPOINT set). */
  jobDemand?: JobDemandStore;
  /** Key Vault (KEYVAULT_URL), read with the app's identity: the webhook's secret. Secrets never leave the process. */
  secrets?: SecretReader;
}
