/**
 * The log writer of scripts/start_registry_service.sh: appends its standard input (the service's output)
 * to FILE and rotates before FILE would pass MAX_BYTES (FILE -> FILE.1 -> ... -> FILE.KEEP, the oldest
 * dropped), so the logs never take more than (KEEP + 1) x MAX_BYTES. Files are cut at line ends; only a
 * single line longer than MAX_BYTES is split.
 *
 * Usage: node scripts/rotate-log.mjs FILE [MAX_BYTES=10485760] [KEEP=5]
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

const [file, maxArg = '10485760', keepArg = '5'] = process.argv.slice(2);
const maxBytes = Number(maxArg);
const keep = Number(keepArg);
if (
  file === undefined ||
  !Number.isInteger(maxBytes) ||
  maxBytes < 1 ||
  !Number.isInteger(keep) ||
  keep < 1
) {
  console.error('usage: node scripts/rotate-log.mjs FILE [MAX_BYTES >= 1] [KEEP >= 1]');
  process.exit(2);
}

// The writer lives in the service's process group and ends when the service closes its output, not on a
// signal sent to the group (the stop script's SIGTERM) or to a terminal (Ctrl-C, hang-up): the last lines
// the service writes while stopping still reach the file.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {});

mkdirSync(path.dirname(file), { recursive: true });
let fd = openSync(file, 'a');
let size = fstatSync(fd).size;

function rotate() {
  closeSync(fd);
  try {
    for (let index = keep - 1; index >= 1; index--)
      renameIfPresent(`${file}.${index}`, `${file}.${index + 1}`);
    renameIfPresent(file, `${file}.1`);
  } catch {
    // Cannot rotate (permissions?): keep appending to FILE and try again after another MAX_BYTES.
  }
  fd = openSync(file, 'a');
  size = 0;
}

function renameIfPresent(from, to) {
  try {
    renameSync(from, to);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}

function write(bytes) {
  try {
    writeSync(fd, bytes);
  } catch {
    // A full or failing log disk must not stop the service: this part of the log is lost.
  }
  size += bytes.length;
}

/** Write `chunk`, rotating first wherever it would not fit, at the last line end that does. */
function append(chunk) {
  let rest = chunk;
  while (rest.length > 0) {
    const room = maxBytes - size;
    if (rest.length <= room) {
      write(rest);
      return;
    }
    const lineEnd = room > 0 ? rest.lastIndexOf(0x0a, room - 1) : -1;
    if (lineEnd >= 0) {
      write(rest.subarray(0, lineEnd + 1));
      rest = rest.subarray(lineEnd + 1);
    } else if (size === 0) {
      // One line longer than the cap: split it.
      write(rest.subarray(0, maxBytes));
      rest = rest.subarray(maxBytes);
    }
    rotate();
  }
}

process.stdin.on('data', append);
process.stdin.on('end', () => closeSync(fd));
