/**
 * @module a2a/host-guard
 * Where the service may send a request on behalf of a registration: only to hosts in `A2A_ALLOWED_HOSTS`,
 * and never to an address that reaches the machine's own metadata or link-local services, whatever the
 * allow-list says. Loopback and private addresses are reachable only through a host the operator listed
 * (listing a host is the decision to trust what it resolves to); link-local, metadata, unspecified,
 * multicast and reserved addresses never are.
 */
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors.js';

/** Addresses no request from the service may reach, even through an allowed host. */
const NEVER = new BlockList();
NEVER.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", unspecified
NEVER.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, incl. 169.254.169.254 (cloud metadata)
NEVER.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
NEVER.addAddress('192.0.0.192', 'ipv4'); // Oracle Cloud metadata
NEVER.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
NEVER.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, broadcast
NEVER.addAddress('::', 'ipv6'); // unspecified
NEVER.addSubnet('fe80::', 10, 'ipv6'); // link-local
NEVER.addSubnet('ff00::', 8, 'ipv6'); // multicast
NEVER.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6

/** The address a request would connect to, IPv4-mapped IPv6 (`::ffff:a.b.c.d`) read as the IPv4 address. */
export function normaliseAddress(address: string): { address: string; family: 4 | 6 } {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped !== null) return { address: mapped[1]!, family: 4 };
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare);
  if (hexMapped !== null) {
    const high = Number.parseInt(hexMapped[1]!, 16);
    const low = Number.parseInt(hexMapped[2]!, 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 4 };
  }
  return { address: bare, family: isIP(bare) === 6 ? 6 : 4 };
}

/** Why an address may never be reached, or undefined when it may (through an allowed host). */
export function forbiddenAddressReason(address: string): string | undefined {
  const { address: normal, family } = normaliseAddress(address);
  if (isIP(normal) === 0) return 'it is not an IP address';
  if (NEVER.check(normal, family === 4 ? 'ipv4' : 'ipv6')) {
    return 'it is a link-local, metadata, unspecified, multicast or reserved address';
  }
  return undefined;
}

export class HostGuard {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedHosts: readonly string[]) {
    this.allowed = new Set(allowedHosts.map((host) => host.replace(/^\[(.*)\]$/, '$1').toLowerCase()));
  }

  get allowedHosts(): readonly string[] {
    return [...this.allowed];
  }

  /**
   * The URL, parsed, if it is http(s) without credentials on an allowed host; else `host_not_allowed`
   * (or `validation_error` for something that is not such a URL).
   */
  checkUrl(raw: string, what = 'card_url'): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new AppError('validation_error', `${what} "${raw.slice(0, 200)}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AppError(
        'validation_error',
        `${what} must be an http:// or https:// URL, not ${url.protocol}`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw new AppError('validation_error', `${what} must not carry credentials`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    if (!this.allowed.has(host)) {
      throw new AppError(
        'host_not_allowed',
        this.allowed.size === 0
          ? `${what} host "${host}" is not allowed: no A2A hosts are allowed (set A2A_ALLOWED_HOSTS)`
          : `${what} host "${host}" is not in A2A_ALLOWED_HOSTS (${[...this.allowed].join(', ')})`,
      );
    }
    return url;
  }

  /** Throws `host_not_allowed` when `address` (what `host` resolved to) may never be reached. */
  checkAddress(host: string, address: string): void {
    const reason = forbiddenAddressReason(address);
    if (reason !== undefined) {
      throw new AppError(
        'host_not_allowed',
        `Host "${host}" resolves to ${address}, which is never fetched: ${reason}`,
      );
    }
  }
}
