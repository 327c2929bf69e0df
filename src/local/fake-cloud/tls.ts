/**
 * Server certificates for the fake cloud. Most fakes serve the fake CA's own certificate (valid for
 * 127.0.0.1 and localhost); the fake Key Vault needs a vault-style host name (see keyvault.ts), so it
 * gets a leaf certificate for *.vault.localhost issued by the same CA, which every client already
 * trusts through NODE_EXTRA_CA_CERTS.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { FakeCa } from '../tls/fake-ca.js';

const leafCache = new Map<string, { cert: string; key: string }>();

export function issueLeaf(ca: FakeCa, dnsNames: string[]): { cert: string; key: string } {
  const cacheKey = `${ca.certPath}|${ca.certPem.length}|${dnsNames.join(',')}`;
  const hit = leafCache.get(cacheKey);
  if (hit) return hit;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '02' + randomBytes(8).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3600_000);
  cert.validity.notAfter = new Date(Math.min(caCert.validity.notAfter.getTime(), now + 7 * 24 * 3600_000));
  cert.setSubject([{ name: 'commonName', value: dnsNames[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...dnsNames.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }],
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  const out = { cert: forge.pki.certificateToPem(cert) + ca.certPem, key: privateKey };
  leafCache.set(cacheKey, out);
  return out;
}
