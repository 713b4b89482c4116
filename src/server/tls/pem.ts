// Certificate chains and keys in PEM: parsed and checked against each other before they are
// served, so a wrong file is refused with its name instead of failing every handshake.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { TlsError } from './errors.ts';

export interface CertInfo {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** The DNS names in subjectAltName. */
  names: string[];
}

/** A leaf certificate (with its chain) and its private key, as served. */
export interface CertPair {
  cert: string;
  key: string;
  info: CertInfo;
}

const BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

export function certInfo(cert: X509Certificate): CertInfo {
  const names = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4).toLowerCase());
  return { serial: cert.serialNumber, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo), names };
}

/**
 * Check that `cert` (PEM, leaf first, then intermediates) and `key` (unencrypted PEM) belong
 * together. `certName` and `keyName` say where they came from, for the error message.
 */
export function checkPair(cert: string, key: string, certName: string, keyName: string): CertPair {
  const blocks = cert.match(BLOCK) ?? [];
  if (blocks.length === 0) throw new TlsError(`${certName} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(blocks[0]!);
    for (const b of blocks.slice(1)) new X509Certificate(b);
  } catch (err) {
    throw new TlsError(`${certName} holds a certificate that cannot be read: ${(err as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    const why = /passphrase/i.test((err as Error).message) ? 'it is encrypted; give an unencrypted key' : (err as Error).message;
    throw new TlsError(`${keyName} is not a usable PEM private key: ${why}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new TlsError(`${keyName} is not the key of the certificate in ${certName} (the first certificate must be the server's own, followed by its chain)`);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsError(`${certName} and ${keyName} cannot be used for TLS: ${(err as Error).message}`);
  }
  return { cert, key, info: certInfo(leaf) };
}
