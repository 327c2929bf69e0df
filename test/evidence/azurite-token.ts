/**
 * A storage token Azurite's basic OAuth check accepts: it judges a token's audience, issuer and
 * lifetime, not its signature. For requests on the wire in the Azurite suites.
 */
export function unsignedStorageToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/00000000-0000-4000-8000-0000000ten7/',
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
  };
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.${Buffer.from('unsigned').toString('base64url')}`;
}
