import { BlockList, isIP } from 'node:net';

/** The proxies whose `X-Forwarded-For` is believed (`BAZAAR_TRUSTED_PROXIES`: addresses and CIDRs). */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  /** Parses a comma-separated list such as `10.0.0.0/8, 192.168.1.7, fd00::/8`; throws on a bad entry. */
  constructor(spec = '') {
    const entries = spec
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) throw new Error(`BAZAAR_TRUSTED_PROXIES: "${entry}" is not an address or CIDR`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        this.#list.addAddress(address, type);
        continue;
      }
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`BAZAAR_TRUSTED_PROXIES: "${entry}" has a bad prefix length`);
      }
      this.#list.addSubnet(address, prefix, type);
    }
  }

  contains(address: string): boolean {
    if (this.#empty) return false;
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The address a request comes from: the socket's peer, unless that peer is a trusted proxy — then
 * `X-Forwarded-For` is read from the right, skipping trusted hops, and the first untrusted hop is
 * the client. Entries a client wrote itself (to the left of it) are never believed.
 */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string {
  let client = normalize(socketAddress ?? '');
  if (!trusted.contains(client) || forwardedFor === undefined) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]!.trim());
    // A hop that is not an address: the trusted proxy on its right is as far as we can see.
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.contains(hop)) return hop;
  }
  return client;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; `[::1]:80` and `1.2.3.4:80` → the address alone. */
function normalize(address: string): string {
  let a = address;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}
