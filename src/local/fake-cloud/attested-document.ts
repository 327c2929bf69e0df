/**
 * Attested documents as Azure's Instance Metadata Service signs them (GET /metadata/attested/document):
 * a CMS SignedData of the JSON document (keys in IMDS's order, timestamps as `MM/DD/YY hh:mm:ss
 * -0000`, a lifetime of six hours) that carries only the signer's certificate, names the signature
 * algorithm's OID (sha256WithRSAEncryption) where CMS wants the digest's, and has no signed
 * attributes. The fake IMDS signs with a certificate for metadata.azure.com issued by the fake CA,
 * which kiln trusts through NODE_EXTRA_CA_CERTS as it trusts Azure's public roots.
 */
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export interface AttestationSigner {
  /** The signer's certificate (PEM; the first certificate of a chain is taken). */
  certPem: string;
  /** Its RSA private key (PEM). */
  keyPem: string;
}

export interface AttestedContent {
  nonce: string;
  vmId: string;
  subscriptionId: string;
  /** The image's SKU (IMDS's compute/sku); '' for a gallery image. */
  sku?: string;
  /** When IMDS signed it (wall-clock ms). */
  createdAtMs: number;
  lifetimeMs?: number;
}

/** What IMDS gives a document: six hours (Microsoft's documented samples and VMs show it). */
export const ATTESTED_DOCUMENT_LIFETIME_MS = 6 * 3600_000;

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const DATA = '1.2.840.113549.1.7.1';

type WebCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as WebCrypto });

/** The JSON IMDS signs, as it orders it. */
export function attestedJson(content: AttestedContent): string {
  const expiresAtMs = content.createdAtMs + (content.lifetimeMs ?? ATTESTED_DOCUMENT_LIFETIME_MS);
  return JSON.stringify({
    nonce: content.nonce,
    plan: { name: '', product: '', publisher: '' },
    sku: content.sku ?? '',
    subscriptionId: content.subscriptionId,
    timeStamp: { createdOn: imdsTimestamp(content.createdAtMs), expiresOn: imdsTimestamp(expiresAtMs) },
    vmId: content.vmId,
  });
}

/** `11/28/18 00:16:17 -0000`: IMDS's timestamp (UTC). */
export function imdsTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} -0000`;
}

/**
 * The signer's certificate and key, parsed once per signer: a booting fleet asks for a document per
 * VM, and parsing the PEMs each time was most of the fake IMDS's cost at a thousand instances.
 */
const parsedSigners = new WeakMap<
  AttestationSigner,
  Promise<{ certificate: pkijs.Certificate; key: webcrypto.CryptoKey }>
>();

function signingMaterial(
  signer: AttestationSigner,
): Promise<{ certificate: pkijs.Certificate; key: webcrypto.CryptoKey }> {
  let parsed = parsedSigners.get(signer);
  if (!parsed) {
    parsed = webcrypto.subtle
      .importKey(
        'pkcs8',
        createPrivateKey(signer.keyPem).export({ format: 'der', type: 'pkcs8' }),
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        false,
        ['sign'],
      )
      .then((key) => ({
        certificate: pkijs.Certificate.fromBER(new X509Certificate(signer.certPem).raw),
        key,
      }));
    parsedSigners.set(signer, parsed);
  }
  return parsed;
}

/** The base64 `signature` of IMDS's answer for this JSON text. */
export async function signAttestedDocument(json: string, signer: AttestationSigner): Promise<string> {
  const { certificate, key } = await signingMaterial(signer);
  const signed = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: DATA,
      eContent: new asn1js.OctetString({ valueHex: Buffer.from(json, 'utf8') }),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
        }),
      }),
    ],
    certificates: [certificate],
  });
  await signed.sign(key as unknown as Parameters<typeof signed.sign>[0], 0, 'SHA-256', undefined, engine);
  // IMDS's own encoding of the algorithms (neither field is covered by the signature).
  const digest = new pkijs.AlgorithmIdentifier({
    algorithmId: SHA256_WITH_RSA,
    algorithmParams: new asn1js.Null(),
  });
  signed.digestAlgorithms = [digest];
  signed.signerInfos[0]!.digestAlgorithm = digest;
  signed.signerInfos[0]!.signatureAlgorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: RSA_ENCRYPTION,
    algorithmParams: new asn1js.Null(),
  });
  const info = new pkijs.ContentInfo({
    contentType: pkijs.ContentInfo.SIGNED_DATA,
    content: signed.toSchema(true),
  });
  return Buffer.from(info.toSchema().toBER()).toString('base64');
}
