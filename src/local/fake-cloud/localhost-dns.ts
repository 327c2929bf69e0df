/**
 * Makes `*.localhost` resolve to loopback in this process, as RFC 6761 says it should and as
 * systemd-resolved and browsers already do (glibc's plain `files dns` does not).
 *
 * Why: @azure/keyvault-secrets only accepts a Key Vault challenge whose resource host is a parent
 * domain of the vault host (kv.vault.azure.net under vault.azure.net). A vault at 127.0.0.1 has no
 * parent domain, so the fake vault lives at kiln.vault.localhost with resource
 * https://vault.localhost — the production client then runs unchanged, with its verification on.
 * Only names ending in `.localhost` are touched; everything else resolves as before.
 */
import dns from 'node:dns';

const MARK = Symbol.for('kiln.fake-cloud.localhost-dns');

type LookupFn = typeof dns.lookup;

export function installLocalhostResolver(): void {
  const current = dns.lookup as LookupFn & { [MARK]?: boolean };
  if (current[MARK]) return;
  const original = dns.lookup;
  const patched = function (this: unknown, hostname: string, ...rest: unknown[]) {
    if (typeof hostname === 'string' && /\.localhost\.?$/i.test(hostname)) {
      const callback = rest.at(-1) as (err: Error | null, address: unknown, family?: number) => void;
      const options = rest.length > 1 ? rest[0] : undefined;
      const all =
        typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
      // Always IPv4 loopback: the fake servers listen on 127.0.0.1 only.
      process.nextTick(() =>
        all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
      );
      return;
    }
    return (original as (...a: unknown[]) => unknown).call(this, hostname, ...rest);
  } as unknown as LookupFn & { [MARK]?: boolean };
  patched[MARK] = true;
  dns.lookup = patched;
}
