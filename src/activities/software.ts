/**
 * What a new image version holds next to the promoted one: reads both software reports
 * (docs/software-report.md) and diffs them, so the rebuild can decide on its promotion gate without
 * carrying whole reports in orchestration state.
 */
import { newestPromoted } from '../domain/release.js';
import {
  diffSoftware,
  parseSoftwareReport,
  SOFTWARE_REPORT_TAG,
  softwareReportBlobs,
  type SoftwareChange,
  type SoftwareReport,
} from '../domain/software-report.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export interface ReadSoftwareChangesInput {
  definition: string;
  /** The name the Packer job stored the report under: the version the rebuild chose before the build. */
  builtAs: string;
}

export interface SoftwareChanges {
  /** false: kiln has no reports store (KILN_BLOB_ENDPOINT is empty), so there is nothing to compare. */
  configured: boolean;
  /** The new version's report blob, or null when the build stored none (or one kiln cannot read). */
  report: string | null;
  /** The runner or agent the new version holds, from its report. */
  agent?: { name: string; version: string };
  /** The promoted version compared with, and its report blob (null: it has none). */
  against?: { version: string; report: string | null };
  /** undefined: the new version has no report. Empty: nothing changed, or nothing to compare with. */
  changes?: SoftwareChange[];
  /** Why something above is missing. */
  note?: string;
}

export type ReadSoftwareChangesOutput = ActivityResult<SoftwareChanges>;

/** Reads only: safe to retry. A missing or unreadable report is an answer (null), not a failure. */
export function createReadSoftwareChangesActivity({ arm, softwareReports }: ActivityDeps) {
  return (input: ReadSoftwareChangesInput): Promise<ReadSoftwareChangesOutput> =>
    attempt(`read the software reports of ${input.definition}`, async (): Promise<SoftwareChanges> => {
      if (!softwareReports)
        return {
          configured: false,
          report: null,
          note: 'KILN_BLOB_ENDPOINT is not set, so kiln reads no software reports',
        };
      const blob = softwareReportBlobs(input.definition, input.builtAs).json;
      const built = await readReport(softwareReports, blob);
      if (!built.report) return { configured: true, report: null, note: built.note };

      const promoted = newestPromoted(await arm.listImageVersions(input.definition));
      const answer: SoftwareChanges = {
        configured: true,
        report: blob,
        agent: built.report.agent,
        changes: [],
      };
      if (!promoted) return { ...answer, note: 'no promoted version to compare with' };
      const promotedBlob = promoted.tags[SOFTWARE_REPORT_TAG];
      if (!promotedBlob)
        return {
          ...answer,
          against: { version: promoted.name, report: null },
          note: `the promoted version ${promoted.name} has no software report to compare with`,
        };
      const before = await readReport(softwareReports, promotedBlob);
      if (!before.report)
        return {
          ...answer,
          against: { version: promoted.name, report: null },
          note: `the promoted version ${promoted.name}: ${before.note}`,
        };
      return {
        ...answer,
        against: { version: promoted.name, report: promotedBlob },
        changes: diffSoftware(before.report, built.report),
      };
    });
}

async function readReport(
  store: NonNullable<ActivityDeps['softwareReports']>,
  blob: string,
): Promise<{ report?: SoftwareReport; note?: string }> {
  const text = await store.read(blob);
  if (text === undefined) return { note: `no software report at ${blob}` };
  try {
    return { report: parseSoftwareReport(text, blob) };
  } catch (error) {
    return { note: (error as Error).message };
  }
}
