#!/usr/bin/env node
/**
 * @module jarvis_agent/service-cli
 * The `agent-registry` command as the project ships it (`npm start`, the package's bin, the image): the core
 * command (`src/cli.ts`) with the demo agents registered on the first start and the offline model handed to
 * factories when there is no `GOOGLE_API_KEY`. Only `serve` loads them (with ADK), so a client command
 * such as `agent-registry agents ls` starts fast.
 */
import { runCli } from '../src/cli.js';

const argv = process.argv.slice(2);
const serves = argv[0] === undefined || argv[0] === 'serve' || argv[0].startsWith('-');
runCli(argv, serves ? { service: (await import('./demo-service.js')).demoServiceOptions() } : {});
