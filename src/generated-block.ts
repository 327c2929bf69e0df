/**
 * Generated blocks in the docs: text between a begin and an end marker that a script rewrites
 * (`npm run docs:settings`) and a test compares with what it would write.
 */
export function replaceGeneratedBlock(
  text: string,
  markers: { begin: string; end: string; what: string },
  block: string,
): string {
  const start = text.indexOf(markers.begin);
  const end = text.indexOf(markers.end);
  if (start < 0 || end < start) throw new Error(`README has no ${markers.what} markers`);
  return text.slice(0, start) + block + text.slice(end + markers.end.length);
}
