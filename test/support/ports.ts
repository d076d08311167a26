/**
 * @module test/support/ports
 * Free TCP ports for real servers started by a test, and whether a port is free again afterwards.
 */
import { createServer } from 'node:net';

/** A port nothing listens on right now (the kernel's choice of an ephemeral port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True when this process can listen on `port` (on every address): nothing else holds it. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, () => resolve(true));
  });
  if (free) await new Promise((resolve) => server.close(resolve));
  return free;
}
