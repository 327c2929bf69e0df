/**
 * The attested document of Azure's Instance Metadata Service (IMDS). A VM asks its own IMDS for
 * `GET http://169.254.169.254/metadata/attested/document?api-version=2018-10-01&nonce=<10 digits>`
 * (header `Metadata: true`) and gets `{"encoding": "pkcs7", "signature": "<base64 DER>"}`: a CMS
 * SignedData whose content is JSON naming the VM (`vmId`, `subscriptionId`, `nonce`, `sku`, `plan`,
 * `licenseType`, `timeStamp: {createdOn, expiresOn}` as `MM/DD/YY hh:mm:ss -0000`), signed with a
 * certificate for `*.metadata.azure.com` (sovereign clouds: metadata.azure.us, metadata.azure.cn,
 * metadata.microsoftazure.de) that chains to a public root. Only the IMDS of the VM's own host signs
 * a document naming that VM, so the document proves which VM is asking: the registration broker
 * compares its `vmId` with the one ARM gives the instance named in the request.
 *
 * `pkijs` parses the CMS structure, checks the signature and builds the certificate chain. The trust
 * roots are those of every other TLS connection kiln makes: Node's (`tls.rootCertificates`) plus the
 * certificates of NODE_EXTRA_CA_CERTS (a private CA; the fake cloud's CA in simulations). IMDS puts
 * only the signer's certificate in the document, so its issuing CA comes from the certificate's
 * Authority Information Access URL, fetched only from Microsoft's and DigiCert's certificate hosts
 * (the URL is in a certificate that is not trusted yet) and kept a day.
 */
import { X509Certificate, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ensureError } from '../clients/errors.js';
import { expiringPromise } from './expiring-promise.js';

export interface AttestedVm {
  ok: true;
  vmId: string;
  subscriptionId: string;
  nonce: string;
}

export type AttestationCheck =
  | AttestedVm
  /**
   * `malformed`: not an attested document at all (the caller sent something else); `refused`: a
   * document that does not prove anything (forged, untrusted, expired...); `unavailable`: the
   * signer's issuing CA could not be fetched, so the document was not judged.
   */
  | { ok: false; kind: 'malformed' | 'refused' | 'unavailable'; reason: string };

/** Where trust comes from; production uses {@link defaultTrust}. */
export interface AttestationTrust {
  roots: pkijs.Certificate[];
  /** The DER certificate an Authority Information Access URL names; throws when it cannot be had. */
  fetchIssuer(url: string): Promise<ArrayBuffer>;
}

/** How a VM gets the document the broker asks for (in refusals and the request's validation). */
export const HOW_TO_GET_ATTESTED_DOCUMENT =
  "the `signature` field of the VM's IMDS answer to GET http://169.254.169.254/metadata/attested/document?api-version=2018-10-01&nonce=<10 random digits> with the header Metadata: true";

/** IMDS's hosts and the broker's clock may differ a little (the same allowance as the token's). */
const CLOCK_SKEW_MS = 60_000;
/** The names IMDS signs with, in every Azure cloud; any host under them (e.g. eastus.metadata.azure.com). */
const SIGNER_NAME = /^([a-z0-9-]+\.)*metadata\.(azure\.com|azure\.us|azure\.cn|microsoftazure\.de)$/i;
/** The hosts Azure's certificate authorities publish their CA certificates on (Authority Information Access). */
export const ISSUER_HOSTS = [
  'www.microsoft.com',
  'caissuers.microsoft.com',
  'cacerts.digicert.com',
  'cacerts.digicert.cn',
  'cacerts.geotrust.com',
];
const ISSUER_CACHE_MS = 24 * 3600_000;
const ISSUER_FETCH_TIMEOUT_MS = 10_000;
const MAX_ISSUER_BYTES = 64 * 1024;
/** A chain longer than this many fetched CAs is not Azure's (issuing CA, then a cross-signed root). */
const MAX_ISSUER_FETCHES = 3;
const CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const SUBJECT_ALT_NAME = '2.5.29.17';
const COMMON_NAME = '2.5.4.3';
const DNS_NAME = 2;
const URI_NAME = 6;

type WebCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as WebCrypto });

/**
 * Verifies an attested document (the `signature` field of IMDS's answer) at `now`: a PKCS#7
 * SignedData with one signer, whose signature holds, whose signer is IMDS (by name) and chains to a
 * trusted root, and whose content names a VM, carries a nonce (`expectedNonce` when given) and has
 * not expired.
 */
export async function verifyAttestedDocument(
  signatureBase64: string,
  options: { expectedNonce?: string; now: Date; trust?: AttestationTrust },
): Promise<AttestationCheck> {
  const refused = (reason: string): AttestationCheck => ({ ok: false, kind: 'refused', reason });
  const signed = parseSignedData(signatureBase64);
  if (typeof signed === 'string')
    return {
      ok: false,
      kind: 'malformed',
      reason: `the attested document is not IMDS's base64 PKCS#7 signature: ${signed}`,
    };
  const { data, signer } = signed;

  try {
    if (!(await data.verify({ signer: 0 }, engine)))
      return refused("the attested document's signature is invalid: it was not signed by its certificate");
  } catch (thrown) {
    return refused(`the attested document's signature is invalid: ${ensureError(thrown).message}`);
  }

  const names = signerNames(signer);
  if (!names.some((name) => SIGNER_NAME.test(name)))
    return refused(
      `the attested document is signed for ${names.join(', ') || 'no name'}, not by Azure's instance metadata service (*.metadata.azure.com)`,
    );

  const chain = await checkChain(signer, options.now, options.trust ?? defaultTrust());
  if (chain) return chain;

  return checkContent(data, options);
}

/** The SignedData and its signer's certificate, or why the text is not one. */
function parseSignedData(
  signatureBase64: string,
): { data: pkijs.SignedData; signer: pkijs.Certificate } | string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return 'it is not base64';
  let data: pkijs.SignedData;
  try {
    const content = pkijs.ContentInfo.fromBER(Buffer.from(signatureBase64, 'base64'));
    if (content.contentType !== pkijs.ContentInfo.SIGNED_DATA) return 'it is not SignedData';
    data = new pkijs.SignedData({ schema: content.content });
  } catch (thrown) {
    return ensureError(thrown).message;
  }
  if (data.signerInfos.length !== 1) return `it has ${data.signerInfos.length} signers, not one`;
  if (!data.encapContentInfo.eContent) return 'it carries no content';
  const signerInfo = data.signerInfos[0]!;
  const sid = signerInfo.sid;
  const signer = data.certificates?.find(
    (c): c is pkijs.Certificate =>
      c instanceof pkijs.Certificate &&
      sid instanceof pkijs.IssuerAndSerialNumber &&
      c.issuer.isEqual(sid.issuer) &&
      c.serialNumber.isEqual(sid.serialNumber),
  );
  if (!signer) return "it does not carry its signer's certificate";
  // IMDS names the signature algorithm (sha256WithRSAEncryption) where CMS wants the digest
  // (sha-256), as Windows' CryptoAPI does; the field is not signed, so naming the digest it implies
  // changes nothing the signature covers.
  const named = engine.getAlgorithmByOID(signerInfo.digestAlgorithm.algorithmId);
  if ('hash' in named && named.hash)
    signerInfo.digestAlgorithm = new pkijs.AlgorithmIdentifier({
      algorithmId: engine.getOIDByAlgorithm(
        named.hash as Parameters<typeof engine.getOIDByAlgorithm>[0],
        true,
      ),
      algorithmParams: new asn1js.Null(),
    });
  return { data, signer };
}

/** The DNS names of the certificate (its subject's common name when it has no alternative names). */
function signerNames(certificate: pkijs.Certificate): string[] {
  const altNames = certificate.extensions?.find((e) => e.extnID === SUBJECT_ALT_NAME)?.parsedValue;
  if (altNames instanceof pkijs.AltName)
    return altNames.altNames.filter((n) => n.type === DNS_NAME).map((n) => String(n.value));
  return certificate.subject.typesAndValues
    .filter((t) => t.type === COMMON_NAME)
    .map((t) => String(t.value.valueBlock.value));
}

/** Undefined when the signer chains to a trusted root at `now`; else why not. */
async function checkChain(
  signer: pkijs.Certificate,
  now: Date,
  trust: AttestationTrust,
): Promise<AttestationCheck | undefined> {
  let fetches = 0;
  let unavailable: string | undefined;
  const notAllowed: string[] = [];
  // The engine compares every certificate it holds with every other (about 70 ms a document with
  // Node's 140-odd roots): when a root issued the signer itself, that root is all it needs.
  const issuedByRoot = trust.roots.filter((root) => root.subject.isEqual(signer.issuer));
  const chain = new pkijs.CertificateChainValidationEngine({
    certs: [signer],
    trustedCerts: issuedByRoot.length > 0 ? issuedByRoot : trust.roots,
    checkDate: now,
    // The chain's CAs are the roots and what the certificates' Authority Information Access names.
    findIssuer: async (certificate, validation, crypto) => {
      const known = await validation.defaultFindIssuer(certificate, validation, crypto);
      if (known.length > 0 || unavailable) return known;
      for (const url of caIssuerUrls(certificate)) {
        if (!issuerUrlAllowed(url)) {
          notAllowed.push(url);
          continue;
        }
        if (++fetches > MAX_ISSUER_FETCHES) break;
        try {
          validation.certs.push(pkijs.Certificate.fromBER(await trust.fetchIssuer(url)));
        } catch (thrown) {
          unavailable = `the issuer of the attested document's signer could not be fetched from ${url}: ${ensureError(thrown).message}`;
          return [];
        }
      }
      return validation.defaultFindIssuer(certificate, validation, crypto);
    },
  });
  let result: { result: boolean; resultMessage?: string };
  try {
    result = await chain.verify({ passedWhenNotRevValues: true }, engine);
  } catch (thrown) {
    result = { result: false, resultMessage: ensureError(thrown).message };
  }
  if (unavailable) return { ok: false, kind: 'unavailable', reason: unavailable };
  if (result.result) return undefined;
  const where =
    notAllowed.length > 0
      ? ` (its issuer is at ${notAllowed.join(', ')}, not one of Azure's certificate hosts)`
      : '';
  return {
    ok: false,
    kind: 'refused',
    reason: `the attested document's signer is not trusted: ${result.resultMessage || 'no chain to a trusted root'}${where}`,
  };
}

function caIssuerUrls(certificate: pkijs.Certificate): string[] {
  const access = certificate.extensions?.find((e) => e.extnID === AUTHORITY_INFO_ACCESS)?.parsedValue;
  if (!(access instanceof pkijs.InfoAccess)) return [];
  return access.accessDescriptions
    .filter((d) => d.accessMethod === CA_ISSUERS && d.accessLocation.type === URI_NAME)
    .map((d) => String(d.accessLocation.value));
}

export function issuerUrlAllowed(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    ISSUER_HOSTS.includes(parsed.hostname.toLowerCase()) &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
}

/** The signed JSON: names a VM, carries the nonce, is within its lifetime. */
function checkContent(
  data: pkijs.SignedData,
  options: { expectedNonce?: string; now: Date },
): AttestationCheck {
  const refused = (reason: string): AttestationCheck => ({ ok: false, kind: 'refused', reason });
  let document: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(data.encapContentInfo.eContent!.getValue()).toString('utf8'),
    );
    if (!parsed || typeof parsed !== 'object') throw new Error('not an object');
    document = parsed as Record<string, unknown>;
  } catch {
    return refused('the attested document signs no JSON object');
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const stamp = (document.timeStamp ?? {}) as Record<string, unknown>;
  const createdOn = imdsTime(text(stamp.createdOn));
  const expiresOn = imdsTime(text(stamp.expiresOn));
  if (createdOn === undefined || expiresOn === undefined)
    return refused(
      `the attested document's timeStamp is not IMDS's (createdOn and expiresOn as MM/DD/YY hh:mm:ss -0000): ${JSON.stringify(stamp)}`,
    );
  const now = options.now.getTime();
  if (now > expiresOn + CLOCK_SKEW_MS)
    return refused(
      `the attested document expired at ${new Date(expiresOn).toISOString()}: ask IMDS for a new one right before each request`,
    );
  if (createdOn > now + CLOCK_SKEW_MS)
    return refused(`the attested document was created in the future (${new Date(createdOn).toISOString()})`);
  const nonce = text(document.nonce);
  if (nonce === '') return refused('the attested document carries no nonce');
  if (options.expectedNonce !== undefined && nonce !== options.expectedNonce)
    return refused(`the attested document's nonce is ${nonce}, not ${options.expectedNonce}`);
  const vmId = text(document.vmId);
  if (vmId === '') return refused('the attested document names no VM (vmId)');
  return { ok: true, vmId, subscriptionId: text(document.subscriptionId), nonce };
}

/** IMDS's timestamps, `11/28/18 00:16:17 -0000` (month/day/two-digit year, UTC offset), in ms. */
export function imdsTime(value: string): number | undefined {
  const m = /^(\d{2})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [month, day, year, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const local = Date.UTC(2000 + year, month - 1, day, hour, minute, second);
  // The offset is local time minus UTC: 13:00 +0100 is 12:00 UTC.
  const offsetMs = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  return local - offsetMs;
}

let defaultTrustFor: { extraCaCerts: string | undefined; trust: AttestationTrust } | undefined;

/**
 * Node's roots plus NODE_EXTRA_CA_CERTS (read as Node reads it: a file of PEM certificates; one that
 * cannot be read adds nothing, as Node warns and goes on), and issuers fetched from Azure's
 * certificate hosts, each kept a day.
 */
export function defaultTrust(env: NodeJS.ProcessEnv = process.env): AttestationTrust {
  const extraCaCerts = env.NODE_EXTRA_CA_CERTS;
  if (defaultTrustFor && defaultTrustFor.extraCaCerts === extraCaCerts) return defaultTrustFor.trust;
  const extra = readIfAny(extraCaCerts);
  const trust = { roots: certificatesFromPem([...rootCertificates, extra].join('\n')), fetchIssuer };
  defaultTrustFor = { extraCaCerts, trust };
  return trust;
}

function readIfAny(path: string | undefined): string {
  try {
    return path ? readFileSync(path, 'utf8') : '';
  } catch {
    return '';
  }
}

/** Every certificate of a PEM text (a bundle). */
export function certificatesFromPem(pem: string): pkijs.Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) =>
    pkijs.Certificate.fromBER(new X509Certificate(block).raw),
  );
}

const issuers = new Map<string, (nowMs: number) => Promise<ArrayBuffer>>();

/** An issuing CA's certificate from an allowed Authority Information Access URL, kept a day. */
function fetchIssuer(url: string): Promise<ArrayBuffer> {
  let cached = issuers.get(url);
  if (!cached) {
    cached = expiringPromise(ISSUER_CACHE_MS, async () => {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(ISSUER_FETCH_TIMEOUT_MS),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.arrayBuffer();
      if (body.byteLength > MAX_ISSUER_BYTES) throw new Error(`${body.byteLength} bytes is no certificate`);
      return body;
    });
    issuers.set(url, cached);
  }
  return cached(Date.now());
}

/**
 * The registration broker's check of a request's attested document against the instance it names:
 * undefined when the document is IMDS's, fresh and from that instance's VM (ARM's vmId); else the
 * answer (400 not a document, 403 a document that proves nothing or is another VM's, 503 when the
 * signer's issuer could not be fetched). Certificates and the document's timestamps are real-world
 * time: checked on the wall clock, as TLS and the token's expiry are.
 */
export async function attestationRefusal(
  attestedDocument: string,
  instance: { name: string; vmId: string | undefined },
): Promise<{ status: number; reason: string; headers?: Record<string, string> } | undefined> {
  if (!instance.vmId)
    return {
      status: 503,
      reason: `ARM gave no vmId for ${instance.name}, so its attested document cannot be checked; try again later`,
      headers: { 'Retry-After': '30' },
    };
  const checked = await verifyAttestedDocument(attestedDocument, { now: new Date() });
  if (!checked.ok) {
    if (checked.kind === 'malformed')
      return { status: 400, reason: `${checked.reason}; send ${HOW_TO_GET_ATTESTED_DOCUMENT}` };
    if (checked.kind === 'unavailable')
      return { status: 503, reason: checked.reason, headers: { 'Retry-After': '30' } };
    return { status: 403, reason: checked.reason };
  }
  if (checked.vmId.toLowerCase() !== instance.vmId.toLowerCase())
    return {
      status: 403,
      reason: `the attested document is from another VM (vmId ${checked.vmId}) than ${instance.name} (vmId ${instance.vmId}): a VM may only register itself`,
    };
  return undefined;
}
