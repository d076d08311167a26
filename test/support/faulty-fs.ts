/**
 * @module test/support/faulty-fs
 * The real filesystem with injectable failures at the OS boundary: "the Nth rename fails with EIO",
 * "fsync of a directory fails". Everything else really happens on disk.
 */
import { type DurableFileHandle, type DurableFs, realFs } from '../../src/registry/durable-file.js';

type Method = 'open' | 'rename' | 'link' | 'unlink' | 'readFile' | 'readdir' | 'mkdir' | 'write' | 'sync';

interface Fault {
  method: Method;
  /** Fail only calls whose first argument (the path) matches. */
  match?: (file: string) => boolean;
  /** Fail the Nth matching call (1-based; default 1) and every one after it when `sticky`. */
  nth?: number;
  sticky?: boolean;
  code: string;
  seen: number;
}

export class FaultyFs implements DurableFs {
  readonly calls: { method: Method; file: string }[] = [];
  private readonly faults: Fault[] = [];

  /** Make a call fail with a Node.js system error `code`. */
  fail(
    method: Method,
    code: string,
    options: { match?: (file: string) => boolean; nth?: number; sticky?: boolean } = {},
  ): this {
    this.faults.push({ method, code, seen: 0, ...options });
    return this;
  }

  clear(): void {
    this.faults.length = 0;
  }

  private check(method: Method, file: string): void {
    this.calls.push({ method, file });
    for (const fault of this.faults) {
      if (fault.method !== method || (fault.match && !fault.match(file))) continue;
      fault.seen++;
      const nth = fault.nth ?? 1;
      if (fault.seen === nth || (fault.sticky && fault.seen > nth)) {
        throw Object.assign(new Error(`${fault.code}: injected failure, ${method} '${file}'`), {
          code: fault.code,
        });
      }
    }
  }

  async open(file: string, flags: string, mode?: number): Promise<DurableFileHandle> {
    this.check('open', file);
    const handle = await realFs.open(file, flags, mode);
    return {
      writev: async (buffers, position) => {
        this.check('write', file);
        return handle.writev(buffers, position);
      },
      sync: async () => {
        this.check('sync', file);
        return handle.sync();
      },
      close: () => handle.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', to);
    return realFs.rename(from, to);
  }

  async link(existing: string, created: string): Promise<void> {
    this.check('link', created);
    return realFs.link(existing, created);
  }

  async unlink(file: string): Promise<void> {
    this.check('unlink', file);
    return realFs.unlink(file);
  }

  async readFile(file: string): Promise<Buffer> {
    this.check('readFile', file);
    return realFs.readFile(file);
  }

  async readdir(dir: string): Promise<string[]> {
    this.check('readdir', dir);
    return realFs.readdir(dir);
  }

  async mkdir(dir: string, options: { recursive: true }): Promise<string | undefined> {
    this.check('mkdir', dir);
    return realFs.mkdir(dir, options);
  }
}
