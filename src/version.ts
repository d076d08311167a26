/**
 * @module version
 * The service version, shown by `/`, `/health`, the OpenAPI document and `agent-registry --version`.
 * A test keeps it equal to package.json's.
 */
export const SERVICE_NAME = 'Agent Registry Service';
export const VERSION = '1.0.0';
