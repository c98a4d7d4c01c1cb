import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Verifies service credentials against their SHA-256 hashes (`BAZAAR_SERVICE_CREDENTIALS`); a
 * credential is good for its own service only. The registry accepts them for registration and
 * identity for the exchange of service tokens.
 */
export class CredentialCheck {
  readonly #hashes: Map<string, Buffer>;

  constructor(hashes: Record<string, string>) {
    this.#hashes = new Map(
      Object.entries(hashes).map(([service, hex]) => [service, Buffer.from(hex, 'hex')]),
    );
  }

  /** Parses `BAZAAR_SERVICE_CREDENTIALS`: a JSON object of service name → hex SHA-256 of its credential. */
  static fromJson(json: string | undefined): CredentialCheck {
    if (!json) return new CredentialCheck({});
    const parsed = JSON.parse(json) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('BAZAAR_SERVICE_CREDENTIALS must be a JSON object of service name to SHA-256 hex');
    }
    for (const [service, hex] of Object.entries(parsed)) {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
        throw new Error(`BAZAAR_SERVICE_CREDENTIALS: the hash of ${service} is not 64 hex digits`);
      }
    }
    return new CredentialCheck(parsed as Record<string, string>);
  }

  /** The service this credential belongs to, or undefined when it is nobody's. */
  serviceOf(credential: string): string | undefined {
    const digest = createHash('sha256').update(credential).digest();
    let found: string | undefined;
    // Every hash is compared, so the time taken says nothing about which service matched.
    for (const [service, hash] of this.#hashes) {
      if (hash.length === digest.length && timingSafeEqual(hash, digest)) found = service;
    }
    return found;
  }

  /** Whether `service` is one of the services that have a credential. */
  knows(service: string): boolean {
    return this.#hashes.has(service);
  }
}
