/**
 * The attested document check (src/registration/attestation.ts) on documents signed as IMDS signs
 * them (src/local/fake-cloud/attested-document.ts) by certificates of test CAs, and on forged,
 * tampered, expired and misnamed ones. OpenSSL verifies the documents too, so the signer and the
 * verifier do not merely agree with each other.
 */
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import {
  attestedJson,
  signAttestedDocument,
  type AttestationSigner,
  type AttestedContent,
} from '../../src/local/fake-cloud/attested-document.js';
import { issueLeaf } from '../../src/local/fake-cloud/tls.js';
import { ensureFakeCa, type FakeCa } from '../../src/local/tls/fake-ca.js';
import {
  certificatesFromPem,
  defaultTrust,
  imdsTime,
  issuerUrlAllowed,
  verifyAttestedDocument,
  type AttestationTrust,
} from '../../src/registration/attestation.js';

const VM_ID = '02aab8a4-74ef-476e-8182-f6d2ba4166a6';
const SUBSCRIPTION = '8d2b5c6e-2f44-4b6a-9d3e-1c1f5a7e0b11';
const NONCE = '0123456789';
const HOUR = 3600_000;

const newCa = (): FakeCa => ensureFakeCa(mkdtempSync(join(tmpdir(), 'kiln-attest-ca-')));
const trustedCa = newCa();
const forgerCa = newCa();
const signerOf = (ca: FakeCa, names: string[]): AttestationSigner => {
  const leaf = issueLeaf(ca, names);
  return { certPem: leaf.cert, keyPem: leaf.key };
};
const imds = signerOf(trustedCa, ['westeurope.metadata.azure.com', 'metadata.azure.com']);

const noFetch = async (url: string): Promise<ArrayBuffer> => {
  throw new Error(`no fetch expected, asked for ${url}`);
};
const trustOf = (
  ca: { certPem: string },
  fetchIssuer: AttestationTrust['fetchIssuer'] = noFetch,
): AttestationTrust => ({ roots: certificatesFromPem(ca.certPem), fetchIssuer });
const trust = trustOf(trustedCa);

function content(overrides: Partial<AttestedContent> = {}): string {
  return attestedJson({
    nonce: NONCE,
    vmId: VM_ID,
    subscriptionId: SUBSCRIPTION,
    createdAtMs: Date.now(),
    ...overrides,
  });
}

describe('verifyAttestedDocument', () => {
  it("accepts IMDS's document signed under a trusted root and returns the VM it names", async () => {
    const document = await signAttestedDocument(content(), imds);
    expect(await verifyAttestedDocument(document, { now: new Date(), trust, expectedNonce: NONCE })).toEqual({
      ok: true,
      vmId: VM_ID,
      subscriptionId: SUBSCRIPTION,
      nonce: NONCE,
    });
  });

  it('reads the encoding IMDS really sends, and a changed byte of the signed JSON breaks the signature', async () => {
    // As in Microsoft's documented sample: the digest named by the signature algorithm's OID
    // (sha256WithRSAEncryption), no signed attributes, the signer's certificate alone.
    const document = await signAttestedDocument(content(), imds);
    const der = Buffer.from(document, 'base64');
    const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(der).content });
    expect(signed.signerInfos[0]!.digestAlgorithm.algorithmId).toBe('1.2.840.113549.1.1.11');
    expect(signed.signerInfos[0]!.signedAttrs).toBeUndefined();
    expect(signed.certificates).toHaveLength(1);
    expect(await verifyAttestedDocument(document, { now: new Date(), trust })).toMatchObject({ ok: true });

    der[der.indexOf(NONCE) + 9] = '8'.charCodeAt(0);
    expect(await verifyAttestedDocument(der.toString('base64'), { now: new Date(), trust })).toMatchObject({
      ok: false,
      kind: 'refused',
      reason: expect.stringMatching(/signature is invalid/),
    });
  });

  it('OpenSSL verifies the documents IMDS-style signing makes, chain included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-attest-openssl-'));
    writeFileSync(join(dir, 'doc.der'), Buffer.from(await signAttestedDocument(content(), imds), 'base64'));
    writeFileSync(join(dir, 'ca.pem'), trustedCa.certPem);
    const out = execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        join(dir, 'doc.der'),
        '-CAfile',
        join(dir, 'ca.pem'),
        '-purpose',
        'any',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(JSON.parse(out)).toMatchObject({ nonce: NONCE, vmId: VM_ID, subscriptionId: SUBSCRIPTION });
  });

  it('refuses a document forged under an untrusted CA, even one naming metadata.azure.com', async () => {
    const forged = await signAttestedDocument(content(), signerOf(forgerCa, ['metadata.azure.com']));
    expect(await verifyAttestedDocument(forged, { now: new Date(), trust })).toMatchObject({
      ok: false,
      kind: 'refused',
      reason: expect.stringMatching(/signer is not trusted/),
    });
  });

  it("refuses a document whose signature is not its certificate's key", async () => {
    const other = signerOf(trustedCa, ['metadata.azure.com']);
    const mismatched = await signAttestedDocument(content(), { certPem: imds.certPem, keyPem: other.keyPem });
    expect(await verifyAttestedDocument(mismatched, { now: new Date(), trust })).toMatchObject({
      ok: false,
      kind: 'refused',
      reason: expect.stringMatching(/signature is invalid/),
    });
  });

  it('refuses a signer of a trusted CA that is not IMDS (by its names), and accepts every Azure cloud', async () => {
    for (const names of [
      ['kiln.example.com'],
      ['metadata.azure.com.example.com'],
      ['evilmetadata.azure.com'],
    ]) {
      const document = await signAttestedDocument(content(), signerOf(trustedCa, names));
      expect(await verifyAttestedDocument(document, { now: new Date(), trust }), names[0]).toMatchObject({
        ok: false,
        kind: 'refused',
        reason: expect.stringContaining(`signed for ${names[0]}`),
      });
    }
    for (const name of [
      'usgovvirginia.metadata.azure.us',
      'chinanorth.metadata.azure.cn',
      'metadata.microsoftazure.de',
    ]) {
      const document = await signAttestedDocument(content(), signerOf(trustedCa, [name]));
      expect(await verifyAttestedDocument(document, { now: new Date(), trust }), name).toMatchObject({
        ok: true,
      });
    }
  });

  it('refuses an expired document (past a minute of clock skew) and an expired signer certificate', async () => {
    const now = Date.now();
    const stale = await signAttestedDocument(content({ createdAtMs: now - 7 * HOUR }), imds);
    expect(await verifyAttestedDocument(stale, { now: new Date(now), trust })).toMatchObject({
      ok: false,
      kind: 'refused',
      reason: expect.stringMatching(/expired at .*ask IMDS for a new one/),
    });
    const justExpired = await signAttestedDocument(content({ createdAtMs: now - 6 * HOUR - 30_000 }), imds);
    expect(await verifyAttestedDocument(justExpired, { now: new Date(now), trust })).toMatchObject({
      ok: true,
    });
    const future = await signAttestedDocument(content({ createdAtMs: now + 10 * 60_000 }), imds);
    expect(await verifyAttestedDocument(future, { now: new Date(now), trust })).toMatchObject({
      reason: expect.stringMatching(/created in the future/),
    });
    // The signer's certificate is valid a week (issueLeaf); the document itself is fresh then.
    const later = now + 8 * 24 * HOUR;
    const afterCertificate = await signAttestedDocument(content({ createdAtMs: later }), imds);
    expect(await verifyAttestedDocument(afterCertificate, { now: new Date(later), trust })).toMatchObject({
      ok: false,
      kind: 'refused',
      reason: expect.stringMatching(/signer is not trusted: .*expired/),
    });
  });

  it('refuses a document without a nonce, or with another nonce than expected', async () => {
    const document = await signAttestedDocument(content(), imds);
    expect(
      await verifyAttestedDocument(document, { now: new Date(), trust, expectedNonce: '9999999999' }),
    ).toMatchObject({
      ok: false,
      reason: `the attested document's nonce is ${NONCE}, not 9999999999`,
    });
    const withoutNonce = await signAttestedDocument(content({ nonce: '' }), imds);
    expect(await verifyAttestedDocument(withoutNonce, { now: new Date(), trust })).toMatchObject({
      ok: false,
      reason: 'the attested document carries no nonce',
    });
    const withoutVm = await signAttestedDocument(content({ vmId: '' }), imds);
    expect(await verifyAttestedDocument(withoutVm, { now: new Date(), trust })).toMatchObject({
      ok: false,
      reason: 'the attested document names no VM (vmId)',
    });
  });

  it('says a text that is no PKCS#7 SignedData is malformed, naming why', async () => {
    const certificateDer = Buffer.from(certificatesFromPem(trustedCa.certPem)[0]!.toSchema().toBER());
    const cases: [string, string, RegExp][] = [
      ['not base64', 'eyJ{not base64}', /not base64/],
      ['base64 of text', Buffer.from('hello attestation').toString('base64'), /PKCS#7/],
      ['a certificate', certificateDer.toString('base64'), /PKCS#7/],
      [
        'a whole IMDS answer',
        Buffer.from('{"encoding":"pkcs7","signature":"x"}').toString('base64'),
        /PKCS#7/,
      ],
    ];
    for (const [what, text, reason] of cases)
      expect(await verifyAttestedDocument(text, { now: new Date(), trust }), what).toMatchObject({
        ok: false,
        kind: 'malformed',
        reason: expect.stringMatching(reason),
      });
  });
});

describe('the issuing CA named by Authority Information Access', () => {
  // Azure's chain: root (trusted) → issuing CA (not in the document) → IMDS's certificate, whose
  // caIssuers URL names where the issuing CA's certificate is published.
  const ISSUER_URL = 'http://www.microsoft.com/pkiops/certs/Test%20Issuing%20CA.crt';

  it('fetches the missing issuing CA from its URL (once), and accepts the chain', async () => {
    const pki = await azureLikePki(ISSUER_URL);
    const fetched: string[] = [];
    const fetchIssuer = async (url: string) => {
      fetched.push(url);
      return pki.issuingCaDer;
    };
    const document = await signAttestedDocument(content(), pki.imds);
    const result = await verifyAttestedDocument(document, {
      now: new Date(),
      trust: trustOf(pki.root, fetchIssuer),
    });
    expect(result).toMatchObject({ ok: true, vmId: VM_ID });
    expect(fetched).toEqual([ISSUER_URL]);
  });

  it('answers unavailable (not refused) when the issuing CA cannot be fetched', async () => {
    const pki = await azureLikePki(ISSUER_URL);
    const fetchIssuer = async () => {
      throw new Error('connect ETIMEDOUT');
    };
    const document = await signAttestedDocument(content(), pki.imds);
    expect(
      await verifyAttestedDocument(document, { now: new Date(), trust: trustOf(pki.root, fetchIssuer) }),
    ).toEqual({
      ok: false,
      kind: 'unavailable',
      reason: `the issuer of the attested document's signer could not be fetched from ${ISSUER_URL}: connect ETIMEDOUT`,
    });
  });

  it("never fetches from a host that is not one of Azure's certificate hosts", async () => {
    const pki = await azureLikePki('http://169.254.169.254/metadata/identity/oauth2/token');
    const document = await signAttestedDocument(content(), pki.imds);
    const result = await verifyAttestedDocument(document, {
      now: new Date(),
      trust: trustOf(pki.root, noFetch),
    });
    expect(result).toMatchObject({
      ok: false,
      kind: 'refused',
      reason: expect.stringContaining(
        "169.254.169.254/metadata/identity/oauth2/token, not one of Azure's certificate hosts",
      ),
    });
  });

  it('allows only http(s) on the default port of the certificate hosts', () => {
    expect(
      issuerUrlAllowed(
        'http://www.microsoft.com/pkiops/certs/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2003.crt',
      ),
    ).toBe(true);
    expect(issuerUrlAllowed('http://cacerts.digicert.com/DigiCertGlobalRootG2.crt')).toBe(true);
    expect(issuerUrlAllowed('https://CAISSUERS.microsoft.com/x.crt')).toBe(true);
    for (const url of [
      'http://localhost/x.crt',
      'http://www.microsoft.com:8080/x.crt',
      'http://user:pw@www.microsoft.com/x.crt',
      'http://www.microsoft.com.example.com/x.crt',
      'ftp://www.microsoft.com/x.crt',
      'file:///etc/passwd',
      'not a url',
    ])
      expect(issuerUrlAllowed(url), url).toBe(false);
  });
});

describe('the trust roots', () => {
  it("are Node's roots plus the certificates of the file NODE_EXTRA_CA_CERTS names", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-attest-extra-'));
    writeFileSync(join(dir, 'bundle.pem'), `${forgerCa.certPem}\n${trustedCa.certPem}`);
    const withExtra = defaultTrust({ NODE_EXTRA_CA_CERTS: join(dir, 'bundle.pem') });
    expect(withExtra.roots).toHaveLength(rootCertificates.length + 2);
    const document = await signAttestedDocument(content(), imds);
    expect(await verifyAttestedDocument(document, { now: new Date(), trust: withExtra })).toMatchObject({
      ok: true,
    });

    const without = defaultTrust({});
    expect(without.roots).toHaveLength(rootCertificates.length);
    expect(await verifyAttestedDocument(document, { now: new Date(), trust: without })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not trusted/),
    });
    // A file that cannot be read adds nothing, as Node warns and goes on.
    expect(defaultTrust({ NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') }).roots).toHaveLength(
      rootCertificates.length,
    );
  });
});

describe('imdsTime', () => {
  it("reads IMDS's MM/DD/YY hh:mm:ss ±hhmm timestamps, and nothing else", () => {
    expect(imdsTime('11/28/18 00:16:17 -0000')).toBe(Date.UTC(2018, 10, 28, 0, 16, 17));
    expect(imdsTime('09/25/26 08:42:17 +0200')).toBe(Date.UTC(2026, 8, 25, 6, 42, 17));
    expect(imdsTime('09/25/26 08:42:17 -0130')).toBe(Date.UTC(2026, 8, 25, 10, 12, 17));
    for (const text of ['2018-11-28T00:16:17Z', '11/28/2018 00:16:17 -0000', '11/28/18 00:16:17', ''])
      expect(imdsTime(text), text).toBeUndefined();
  });
});

/** root → issuing CA → IMDS's certificate with the issuing CA's Authority Information Access URL. */
async function azureLikePki(issuerUrl: string) {
  const root = await certificate({ name: 'Test Root', ca: true });
  const issuing = await certificate({ name: 'Test Issuing CA', ca: true, issuer: root });
  const leaf = await certificate({
    name: 'metadata.azure.com',
    dnsNames: ['metadata.azure.com'],
    issuer: issuing,
    caIssuersUrl: issuerUrl,
  });
  return {
    root: { certPem: root.certPem },
    issuingCaDer: issuing.cert.toSchema().toBER(),
    imds: { certPem: leaf.certPem, keyPem: leaf.keyPem },
  };
}

interface TestCertificate {
  name: string;
  cert: pkijs.Certificate;
  certPem: string;
  keyPem: string;
  privateKey: webcrypto.CryptoKey;
}

type WebCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as WebCrypto });
let serial = 1;

/** A certificate built with pkijs (OpenSSL-free), valid from an hour ago for a week. */
async function certificate(options: {
  name: string;
  ca?: boolean;
  issuer?: TestCertificate;
  dnsNames?: string[];
  caIssuersUrl?: string;
}): Promise<TestCertificate> {
  const keys = (await webcrypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const commonName = (value: string) =>
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value }) });
  const extension = (extnID: string, value: { toSchema(): asn1js.BaseBlock }, critical = false) =>
    new pkijs.Extension({ extnID, critical, extnValue: value.toSchema().toBER(false) });
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: serial++ });
  cert.subject.typesAndValues.push(commonName(options.name));
  cert.issuer.typesAndValues.push(commonName(options.issuer?.name ?? options.name));
  cert.notBefore.value = new Date(Date.now() - HOUR);
  cert.notAfter.value = new Date(Date.now() + 7 * 24 * HOUR);
  cert.extensions = [extension('2.5.29.19', new pkijs.BasicConstraints({ cA: options.ca ?? false }), true)];
  if (options.dnsNames)
    cert.extensions.push(
      extension(
        '2.5.29.17',
        new pkijs.AltName({
          altNames: options.dnsNames.map((value) => new pkijs.GeneralName({ type: 2, value })),
        }),
      ),
    );
  if (options.caIssuersUrl)
    cert.extensions.push(
      extension(
        '1.3.6.1.5.5.7.1.1',
        new pkijs.InfoAccess({
          accessDescriptions: [
            new pkijs.AccessDescription({
              accessMethod: '1.3.6.1.5.5.7.48.2',
              accessLocation: new pkijs.GeneralName({ type: 6, value: options.caIssuersUrl }),
            }),
          ],
        }),
      ),
    );
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  await cert.sign(options.issuer?.privateKey ?? keys.privateKey, 'SHA-256', engine);
  const pem = (label: string, der: ArrayBuffer) =>
    `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
  return {
    name: options.name,
    cert,
    certPem: pem('CERTIFICATE', cert.toSchema().toBER()),
    keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    privateKey: keys.privateKey,
  };
}
