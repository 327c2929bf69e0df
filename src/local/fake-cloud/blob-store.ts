/**
 * The blobs of the fake cloud's storage account: containers and their block blobs, in the world's
 * state, so that both the fake Blob service (blobs.ts, what kiln's client reaches) and the simulated
 * Packer job (world-gallery.ts, which stores each build's software report) reach the same store.
 */
import { createHash } from 'node:crypto';

export interface StoredBlob {
  body: Buffer;
  contentType: string;
  /** Quoted, as the service sends it (`"0x8DD…"`). */
  etag: string;
  /** Virtual ms of the last write and of the first. */
  lastModified: number;
  createdAt: number;
  /** Base64 MD5 of the body, as the service computes it for a Put Blob. */
  contentMd5: string;
}

export class FakeBlobStore {
  private readonly containers = new Map<string, Map<string, StoredBlob>>();
  private writes = 0;

  constructor(private readonly now: () => number) {}

  createContainer(name: string): void {
    if (!this.containers.has(name)) this.containers.set(name, new Map());
  }

  hasContainer(name: string): boolean {
    return this.containers.has(name);
  }

  get(container: string, name: string): StoredBlob | undefined {
    return this.containers.get(container)?.get(name);
  }

  /** Writes a block blob whole (a Put Blob); throws when the container does not exist. */
  put(container: string, name: string, body: Buffer, contentType = 'application/octet-stream'): StoredBlob {
    const blobs = this.containers.get(container);
    if (!blobs) throw new Error(`no container ${container}`);
    const now = this.now();
    // Strictly increasing, as the service's ETags are: a later write never repeats an earlier ETag.
    const etag = `"0x8DE${(BigInt(now) * 10_000n + BigInt(++this.writes)).toString(16).toUpperCase()}"`;
    const stored: StoredBlob = {
      body,
      contentType,
      etag,
      lastModified: now,
      createdAt: blobs.get(name)?.createdAt ?? now,
      contentMd5: createHash('md5').update(body).digest('base64'),
    };
    blobs.set(name, stored);
    return stored;
  }

  /** Blob names of a container under a prefix, sorted (tests and the simulator look with it). */
  list(container: string, prefix = ''): string[] {
    return [...(this.containers.get(container)?.keys() ?? [])].filter((n) => n.startsWith(prefix)).sort();
  }

  /** Removes a blob (a test's way of making a report go missing); true when there was one. */
  delete(container: string, name: string): boolean {
    return this.containers.get(container)?.delete(name) ?? false;
  }
}
