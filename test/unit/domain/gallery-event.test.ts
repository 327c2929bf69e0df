import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGalleryEvent, type GalleryRef } from '../../../src/domain/gallery-event.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', '..', 'reference', 'api-examples', 'eventgrid');
const gallery: GalleryRef = {
  subscriptionId: 'sub-1',
  resourceGroup: 'rg-kiln-images',
  name: 'galKiln',
  definitions: { linux: 'linux-agent', windows: 'windows-agent' },
};
const versionId = (def = 'linux-agent', version = '2026.12.5', rg = 'resourcegroups/RG-KILN-IMAGES') =>
  `/subscriptions/sub-1/${rg}/providers/Microsoft.Compute/galleries/galKiln/images/${def}/versions/${version}`;

/** The official example with its subject pointed at a gallery image version. */
function example(file: string, subject: string): Record<string, unknown> {
  const [event] = JSON.parse(readFileSync(resolve(EXAMPLES, file), 'utf8')) as Record<string, unknown>[];
  return { ...event, subject };
}

describe('readGalleryEvent', () => {
  it('reads a version write from the EventGridEvent and the CloudEvent schema', () => {
    for (const file of [
      'ResourceWriteSuccess.eventgrid-schema.json',
      'ResourceWriteSuccess.cloudevents-schema.json',
    ]) {
      expect(readGalleryEvent(example(file, versionId()), gallery)).toEqual({
        kind: 'version-written',
        definition: 'linux-agent',
        image: 'linux',
        version: '2026.12.5',
        eventId: '4db48cba-50a2-455a-93b4-de41a3b5b7f6',
      });
    }
  });

  it.each([
    [
      'the unmodified example (a storage account)',
      (e: Record<string, unknown>) => e,
      /not a gallery image version/,
    ],
    [
      'another event type',
      (e: Record<string, unknown>) => ({
        ...e,
        subject: versionId(),
        eventType: 'Microsoft.Resources.ResourceDeleteSuccess',
      }),
      /not a resource write/,
    ],
    [
      'another gallery',
      (e: Record<string, unknown>) => ({ ...e, subject: versionId().replace('galKiln', 'galOther') }),
      /not kiln's gallery/,
    ],
    [
      'another subscription',
      (e: Record<string, unknown>) => ({ ...e, subject: versionId().replace('sub-1', 'sub-2') }),
      /not kiln's gallery/,
    ],
    [
      'an unknown definition',
      (e: Record<string, unknown>) => ({ ...e, subject: versionId('other-def') }),
      /not one of kiln's/,
    ],
    [
      'a malformed version',
      (e: Record<string, unknown>) => ({ ...e, subject: versionId('linux-agent', 'latest') }),
      /not a gallery version name/,
    ],
    [
      'a truncated subject',
      (e: Record<string, unknown>) => ({ ...e, subject: versionId().replace(/\/versions\/.*/, '') }),
      /not a gallery image version/,
    ],
  ])('ignores %s', (_name, change, reason) => {
    const event = change(
      JSON.parse(readFileSync(resolve(EXAMPLES, 'ResourceWriteSuccess.eventgrid-schema.json'), 'utf8'))[0],
    );
    const reading = readGalleryEvent(event, gallery);
    expect(reading.kind).toBe('ignored');
    expect(reading.kind === 'ignored' && reading.reason).toMatch(reason);
  });

  it('ignores the subscription validation event and non-objects', () => {
    const [validation] = JSON.parse(
      readFileSync(resolve(EXAMPLES, 'SubscriptionValidationEvent.json'), 'utf8'),
    );
    expect(readGalleryEvent(validation, gallery).kind).toBe('ignored');
    expect(readGalleryEvent(null, gallery).kind).toBe('ignored');
  });
});
