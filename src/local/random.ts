/**
 * Seeded randomness for the fake cloud and the simulator: every id and random choice (VM ids,
 * operation ids, Packer execution names, Event Grid event ids, Key Vault secret versions, the app
 * host's invocation ids) comes from the scenario's `seed`, so the same scenario and seed give the same
 * ids and the same report (`kiln explore` writes each world's seed into it).
 *
 * Not for anything secret: credentials stay random (node:crypto) — the TLS keys and serials, the
 * GitHub App key, tokens and their signatures, PATs, registration tokens, the identity header, the
 * host's function key — since the fakes serve them on loopback, where any local process could
 * otherwise guess them. None of them reaches a report.
 */
export type Random = () => number;

/** mulberry32: a small, fast 32-bit generator with a good enough spread for ids and test worlds. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A stable 32-bit seed from text (FNV-1a). */
export function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A version 4 UUID drawn from `random`. */
export function randomUuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(random() * 4) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
