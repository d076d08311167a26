/**
 * @module a2a/card-fetcher
 * Fetches an A2A agent card without letting a registration steer the service's requests: the URL must be on
 * an allowed host (host-guard.ts), the name is resolved here and every address it resolves to is checked
 * before connecting (the connection uses exactly the checked address, so a second DNS answer cannot swap in
 * another), redirects are followed by hand and every hop is checked again, and the body is read as a stream
 * that is cut off at the size limit, all within one deadline.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { AppError, isAppError, messageOf } from '../errors.js';
import type { HostGuard } from './host-guard.js';

export const DEFAULT_MAX_CARD_BYTES = 256 * 1024;
export const DEFAULT_CARD_TIMEOUT_MS = 5000;
export const MAX_REDIRECTS = 3;

/** What a host name resolves to (injectable so tests can make a name point anywhere). */
export type ResolveHost = (host: string) => Promise<{ address: string; family: number }[]>;

export interface CardFetcherOptions {
  guard: HostGuard;
  /** A card larger than this is refused (default 256 KiB). */
  maxBytes?: number;
  /** The whole fetch, redirects included, must finish within this (default 5 s). */
  timeoutMs?: number;
  resolve?: ResolveHost;
}

export interface FetchedDocument {
  /** The URL the body came from (after redirects). */
  readonly url: string;
  readonly body: unknown;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class CardFetcher {
  private readonly guard: HostGuard;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly resolve: ResolveHost;

  constructor(options: CardFetcherOptions) {
    this.guard = options.guard;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_CARD_BYTES;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CARD_TIMEOUT_MS;
    this.resolve = options.resolve ?? ((host) => dnsLookup(host, { all: true, verbatim: true }));
  }

  get limits(): { maxBytes: number; timeoutMs: number } {
    return { maxBytes: this.maxBytes, timeoutMs: this.timeoutMs };
  }

  /**
   * GET `rawUrl` as JSON. Throws `host_not_allowed` (a hop leaves the allowed hosts or reaches a forbidden
   * address), `invalid_agent_card` (too large, not JSON) or `card_fetch_failed` (unreachable, not 2xx, too
   * many redirects, too slow).
   */
  async fetchJson(rawUrl: string): Promise<FetchedDocument> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      let url = this.guard.checkUrl(rawUrl);
      for (let hop = 0; ; hop++) {
        const response = await this.get(url, controller.signal);
        if (REDIRECTS.has(response.status)) {
          const location = response.location;
          if (location === undefined) {
            throw fetchFailed(url, `it answered HTTP ${response.status} without a Location`);
          }
          if (hop >= MAX_REDIRECTS) throw fetchFailed(url, `more than ${MAX_REDIRECTS} redirects`);
          url = this.guard.checkUrl(new URL(location, url).href, 'redirect target');
          continue;
        }
        if (response.status < 200 || response.status > 299) {
          throw fetchFailed(url, `it answered HTTP ${response.status}`);
        }
        let body: unknown;
        try {
          body = JSON.parse(response.text);
        } catch {
          throw new AppError('invalid_agent_card', `The agent card at ${url.href} is not JSON`);
        }
        return { url: url.href, body };
      }
    } catch (error) {
      if (controller.signal.aborted) {
        throw new AppError(
          'card_fetch_failed',
          `Fetching the agent card at ${rawUrl} took longer than ${this.timeoutMs} ms`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request, no redirects followed; the body only for a 2xx. */
  private async get(
    url: URL,
    signal: AbortSignal,
  ): Promise<{ status: number; location: string | undefined; text: string }> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const address = await this.pickAddress(host);
    // The connection goes to the address checked above, never to a second resolution of the name.
    const lookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all === true) {
        (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [address]);
      } else callback(null, address.address, address.family);
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.get(
        url,
        {
          lookup,
          // A fresh connection each time: a pooled one would skip the address check above.
          agent: false,
          signal,
          headers: { accept: 'application/json', 'user-agent': 'agent-registry-service (A2A card fetch)' },
          ...(isIP(host) === 0 && url.protocol === 'https:' && { servername: host }),
        },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status < 200 || status > 299) {
            response.resume();
            resolve({ status, location: response.headers.location, text: '' });
            return;
          }
          this.readBody(url, response).then(
            (text) => resolve({ status, location: undefined, text }),
            (error: unknown) => {
              request.destroy();
              reject(error);
            },
          );
        },
      );
      request.on('error', (error) => {
        reject(signal.aborted ? error : isAppError(error) ? error : fetchFailed(url, messageOf(error)));
      });
    });
  }

  private readBody(url: URL, response: IncomingMessage): Promise<string> {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      response.destroy();
      return Promise.reject(tooLarge(url, this.maxBytes));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBytes) {
          // Rejected first: destroying the stream reports its own error, which must not win.
          reject(tooLarge(url, this.maxBytes));
          response.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      response.on('error', (error) => reject(fetchFailed(url, messageOf(error))));
      response.on('aborted', () => reject(fetchFailed(url, 'the connection was cut')));
    });
  }

  /** The address to connect to: every address the name resolves to must be allowed, or none is used. */
  private async pickAddress(host: string): Promise<{ address: string; family: number }> {
    let addresses: { address: string; family: number }[];
    if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await this.resolve(host);
      } catch (error) {
        throw new AppError('card_fetch_failed', `Host "${host}" could not be resolved: ${messageOf(error)}`);
      }
    }
    if (addresses.length === 0) {
      throw new AppError('card_fetch_failed', `Host "${host}" resolves to no address`);
    }
    for (const { address } of addresses) this.guard.checkAddress(host, address);
    return addresses[0]!;
  }
}

function fetchFailed(url: URL, reason: string): AppError {
  return new AppError('card_fetch_failed', `Could not fetch the agent card at ${url.href}: ${reason}`);
}

function tooLarge(url: URL, maxBytes: number): AppError {
  return new AppError(
    'invalid_agent_card',
    `The agent card at ${url.href} is larger than ${maxBytes} bytes (${Math.round(maxBytes / 1024)} KiB), the limit`,
  );
}
