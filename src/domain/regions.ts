/** Azure region names: ARM answers "West Europe" in some places and "westeurope" in others. */
export function regionKey(region: string): string {
  return region.replace(/\s+/g, '').toLowerCase();
}
