import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../src/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
  };
}

describe('createLogger', () => {
  it('writes structured JSON with an ISO time and the service name, and redacts the bearer token', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info', format: 'json', destination: stream });
    logger.info({ req: { headers: { authorization: 'Bearer secret-token' } } }, 'hello');
    logger.debug('hidden');
    const [line] = lines();
    expect(lines()).toHaveLength(1);
    expect(line).toMatchObject({ msg: 'hello', service: 'agent-registry', level: 30 });
    expect(String(line?.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(line)).not.toContain('secret-token');
  });

  it('builds pretty and plain stdout loggers, and a silent one', () => {
    expect(createLogger({ level: 'warn', format: 'pretty' }).level).toBe('warn');
    expect(createLogger({ level: 'error', format: 'json' }).level).toBe('error');
    expect(silentLogger().isLevelEnabled('fatal')).toBe(false);
  });
});
