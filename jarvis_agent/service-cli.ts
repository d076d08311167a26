#!/usr/bin/env node
/**
 * @module jarvis_agent/service-cli
 * The `agent-registry` command as the project ships it (`npm start`, the package's bin, the image): the core
 * command (`src/cli.ts`) with the demo agents registered on the first start and the offline model handed to
 * factories when there is no `GOOGLE_API_KEY`.
 */
import { runCli } from '../src/cli.js';
import { demoServiceOptions } from './demo-service.js';

runCli(process.argv.slice(2), { service: demoServiceOptions() });
