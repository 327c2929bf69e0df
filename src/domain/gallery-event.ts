/**
 * What an Azure Resource Manager event says about kiln's gallery: a pure reading of one Event Grid
 * event (EventGridEvent or CloudEvent schema) into "a version of one of our image definitions was
 * written" or a reason to ignore it. Events are hints: the orchestration re-reads the version.
 */
export type GalleryEventReading =
  | {
      kind: 'version-written';
      definition: string;
      image?: 'linux' | 'windows';
      version: string;
      eventId: string;
    }
  | { kind: 'ignored'; reason: string };

export interface GalleryRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  definitions: { linux: string; windows: string };
}

const VERSION_SUBJECT =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.compute\/galleries\/([^/]+)\/images\/([^/]+)\/versions\/([^/]+)$/i;

export function readGalleryEvent(event: unknown, gallery: GalleryRef): GalleryEventReading {
  if (!event || typeof event !== 'object') return { kind: 'ignored', reason: 'the event is not an object' };
  const e = event as Record<string, unknown>;
  const type = String(e.eventType ?? e.type ?? '');
  const id = String(e.id ?? '');
  if (type !== 'Microsoft.Resources.ResourceWriteSuccess')
    return { kind: 'ignored', reason: `event type "${type}" is not a resource write` };
  const subject = String(e.subject ?? '');
  const match = VERSION_SUBJECT.exec(subject);
  if (!match)
    return { kind: 'ignored', reason: `subject "${subject.slice(0, 300)}" is not a gallery image version` };
  const [, subscriptionId, resourceGroup, galleryName, definition, version] = match as unknown as string[];
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (
    !same(subscriptionId!, gallery.subscriptionId) ||
    !same(resourceGroup!, gallery.resourceGroup) ||
    !same(galleryName!, gallery.name)
  ) {
    return { kind: 'ignored', reason: `gallery ${galleryName} in ${resourceGroup} is not kiln's gallery` };
  }
  if (!/^\d{1,10}\.\d{1,10}\.\d{1,10}$/.test(version!))
    return { kind: 'ignored', reason: `"${version}" is not a gallery version name` };
  const image = same(definition!, gallery.definitions.linux)
    ? 'linux'
    : same(definition!, gallery.definitions.windows)
      ? 'windows'
      : undefined;
  if (!image) return { kind: 'ignored', reason: `image definition "${definition}" is not one of kiln's` };
  const canonical = image === 'linux' ? gallery.definitions.linux : gallery.definitions.windows;
  return { kind: 'version-written', definition: canonical, image, version: version!, eventId: id };
}
