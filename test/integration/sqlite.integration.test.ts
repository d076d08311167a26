/** The seed's integration scenarios on the embedded backends (registry JSON file and SQLite in DATA_DIR). */
import { runScenarios } from './scenarios.js';
import { SQLITE } from './stack.js';

runScenarios(SQLITE);
