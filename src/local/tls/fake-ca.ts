/**
 * The certificate the fake cloud serves HTTPS with. The production clients trust it the way they
 * would trust a private CA in front of GitHub Enterprise Server or a sovereign cloud: through
 * NODE_EXTRA_CA_CERTS, which Node reads at start-up. The certificate is self-signed, marked as a CA,
 * valid for 127.0.0.1 and localhost, and cached on disk so every process of one run shares it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export interface FakeCa {
  certPem: string;
  keyPem: string;
  certPath: string;
}

const DEFAULT_DIR = join(tmpdir(), 'kiln-fake-cloud-ca');

export function ensureFakeCa(dir: string = process.env.KILN_FAKE_CA_DIR ?? DEFAULT_DIR): FakeCa {
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    if (!isExpiringSoon(certPem)) {
      return { certPem, keyPem: readFileSync(keyPath, 'utf8'), certPath };
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { certPem, keyPem } = createSelfSignedCa();
  // Write to temporary names and rename so a concurrent reader never sees half a file.
  const suffix = randomBytes(4).toString('hex');
  writeFileSync(`${keyPath}.${suffix}`, keyPem, { mode: 0o600 });
  writeFileSync(`${certPath}.${suffix}`, certPem, { mode: 0o644 });
  renameSync(`${keyPath}.${suffix}`, keyPath);
  renameSync(`${certPath}.${suffix}`, certPath);
  return { certPem, keyPem, certPath };
}

function isExpiringSoon(certPem: string): boolean {
  try {
    const cert = forge.pki.certificateFromPem(certPem);
    return cert.validity.notAfter.getTime() - Date.now() < 24 * 3600_000;
  } catch {
    return true;
  }
}

function createSelfSignedCa(): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 3600_000);
  cert.validity.notAfter = new Date(now.getTime() + 30 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: 'kiln fake cloud (loopback only)' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}
