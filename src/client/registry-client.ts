/**
 * @module client/registry-client
 * Typed client of the service's `/registry` API, its types taken from the service's own schemas. Listing
 * is conditional (ETag); `changes` follows the change feed (long poll) instead of polling the list.
 */
import type { Static } from 'typebox';
import type {
  AgentListSchema,
  CapabilitiesUpdateSchema,
  ChangesResponseSchema,
  EnabledStatusSchema,
  HealthResponseSchema,
  RegisteredResponseSchema,
  RouteRequestSchema,
  RouteResponseSchema,
  statusResponse,
} from '../api/schemas.js';
import type { AgentRegistrationSchema, AgentSchema, RegistryExportSchema } from '../registry/agent-record.js';
import type { ServiceHttpClient } from './service-http-client.js';

export type Agent = Static<typeof AgentSchema>;
export type AgentList = Static<typeof AgentListSchema>;
export type AgentRegistration = Static<typeof AgentRegistrationSchema>;
export type Capabilities = Static<typeof CapabilitiesUpdateSchema>['capabilities'];
export type RegisteredResponse = Static<typeof RegisteredResponseSchema>;
export type EnabledStatus = Static<typeof EnabledStatusSchema>;
export type UpdatedResponse = Static<ReturnType<typeof statusResponse<'updated'>>>;
export type DeletedResponse = Static<ReturnType<typeof statusResponse<'deleted'>>>;
export type RouteRequest = Static<typeof RouteRequestSchema>;
export type RouteResponse = Static<typeof RouteResponseSchema>;
export type RegistryExport = Static<typeof RegistryExportSchema>;
export type ServiceHealth = Static<typeof HealthResponseSchema>;

export type ChangePage = Static<typeof ChangesResponseSchema>;
export type RegistryChange = ChangePage['changes'][number];

/** `POST /registry/route/replay`: how the recorded routing decisions would change under one registry change. */
export type RouteReplayChange =
  | { register: Record<string, unknown> }
  | { update: { name: string; capabilities: Record<string, unknown> } }
  | { delete: string };
export interface RouteReplayRequest {
  change: RouteReplayChange;
  since?: string;
  limit?: number;
}
export interface RouteReplayResponse {
  replayed: number;
  changed: { query: string; before: string[]; after: string[] }[];
  summary: { moved: Record<string, number>; newly_none: number; newly_routed: number };
}

export interface ChangesOptions {
  since?: number;
  limit?: number;
  /** Seconds the service may hold the call waiting for a change (at most 30). */
  waitSeconds?: number;
  signal?: AbortSignal;
}

export interface ListAgentsOptions {
  enabledOnly?: boolean;
  /** Only agents having every one of these tags. */
  tags?: readonly string[];
  /** The ETag of an earlier listing: the service answers "not modified" while nothing changed. */
  ifNoneMatch?: string;
}

/** A listing, or the news that the one with `ifNoneMatch` is still current. */
export type AgentListing =
  | { readonly notModified: true; readonly etag: string }
  | {
      readonly notModified: false;
      /** Send it back as `ifNoneMatch` to poll cheaply. */
      readonly etag: string | undefined;
      readonly agents: Agent[];
      readonly total: number;
    };

/** Longest query text quoted in a call's name. */
const QUERY_IN_CALL_NAME = 40;

export class RegistryClient {
  constructor(private readonly http: ServiceHttpClient) {}

  /** The service's base URL. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `GET /registry/agents`, conditional when `ifNoneMatch` is given. */
  async listAgents(options: ListAgentsOptions = {}): Promise<AgentListing> {
    const response = await this.http.request<AgentList | undefined>({
      call: 'registry.list()',
      method: 'GET',
      path: '/registry/agents',
      query: {
        enabled_only: options.enabledOnly === true ? true : undefined,
        tags: options.tags !== undefined && options.tags.length > 0 ? options.tags.join(',') : undefined,
      },
      ...(options.ifNoneMatch !== undefined && { headers: { 'if-none-match': options.ifNoneMatch } }),
      accept: [304],
    });
    // A 304 names the ETag that still holds; it is the one sent.
    if (response.status === 304) return { notModified: true, etag: options.ifNoneMatch ?? '' };
    const etag = response.headers.get('etag') ?? undefined;
    const list = response.body as AgentList;
    return { notModified: false, etag, agents: list.agents, total: list.total };
  }

  /**
   * `GET /registry/changes`: the changes after `since` (none, and the current revision, without it). With
   * `waitSeconds` the service holds the call until a change arrives; a `since` older than the kept changes is
   * a `ServiceCallError` with code `history_expired` (reload the list).
   */
  async changes(options: ChangesOptions = {}): Promise<ChangePage> {
    const wait = options.waitSeconds ?? 0;
    const response = await this.http.request<ChangePage>({
      call: `registry.changes(${options.since ?? ''})`,
      method: 'GET',
      path: '/registry/changes',
      query: { since: options.since, limit: options.limit, wait: wait > 0 ? wait : undefined },
      // The service answers a long poll after `wait` seconds at the latest.
      timeoutMs: (wait + 10) * 1000,
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    return response.body;
  }

  /** `GET /registry/agents/{name}`; a missing agent is a `ServiceCallError` with code `agent_not_found`. */
  async getAgent(name: string): Promise<Agent> {
    const response = await this.http.request<Agent>({
      call: `registry.get(${JSON.stringify(name)})`,
      method: 'GET',
      path: `/registry/agents/${encodeURIComponent(name)}`,
    });
    return response.body;
  }

  /** `POST /registry/agents` (admin). Not retried after it may have reached the service. */
  async registerAgent(registration: AgentRegistration): Promise<RegisteredResponse> {
    const label = registration.name ?? registration.factory_function;
    const response = await this.http.request<RegisteredResponse>({
      call: `registry.register(${JSON.stringify(label)})`,
      method: 'POST',
      path: '/registry/agents',
      body: registration,
      admin: true,
    });
    return response.body;
  }

  /** `PUT /registry/agents/{name}/capabilities` (admin): replaces them. */
  async updateCapabilities(name: string, capabilities: Capabilities): Promise<UpdatedResponse> {
    const response = await this.http.request<UpdatedResponse>({
      call: `registry.updateCapabilities(${JSON.stringify(name)})`,
      method: 'PUT',
      path: `/registry/agents/${encodeURIComponent(name)}/capabilities`,
      body: { capabilities },
      admin: true,
    });
    return response.body;
  }

  /** `PATCH /registry/agents/{name}/status` (admin): enable or disable. */
  async setEnabled(name: string, enabled: boolean): Promise<EnabledStatus> {
    const response = await this.http.request<EnabledStatus>({
      call: `registry.setStatus(${JSON.stringify(name)}, ${enabled})`,
      method: 'PATCH',
      path: `/registry/agents/${encodeURIComponent(name)}/status`,
      body: { enabled },
      admin: true,
    });
    return response.body;
  }

  /**
   * `DELETE /registry/agents/{name}` (admin). When an earlier attempt may have deleted the agent before
   * failing (a 5xx or a lost answer), a 404 on the retry means the delete happened.
   */
  async deleteAgent(name: string): Promise<DeletedResponse> {
    const response = await this.http.request<DeletedResponse | undefined>({
      call: `registry.delete(${JSON.stringify(name)})`,
      method: 'DELETE',
      path: `/registry/agents/${encodeURIComponent(name)}`,
      admin: true,
      doneOnRetry: 404,
    });
    return response.body ?? { status: 'deleted' };
  }

  /** `POST /registry/route`: only reads, so it is retried like a GET. */
  async route(request: RouteRequest): Promise<RouteResponse> {
    const quoted =
      request.query.length > QUERY_IN_CALL_NAME
        ? `${request.query.slice(0, QUERY_IN_CALL_NAME)}…`
        : request.query;
    const response = await this.http.request<RouteResponse>({
      call: `registry.route(${JSON.stringify(quoted)})`,
      method: 'POST',
      path: '/registry/route',
      body: request,
      idempotent: true,
    });
    return response.body;
  }

  /**
   * Resolves once the service's router has learned every registry change so far (`/health` `router.trained`),
   * polling every `intervalMs`; false if that takes longer than `timeoutMs`. Routing works meanwhile, with an
   * untrained scorer for the changed agents: wait when the trained answer is what matters (route checks).
   */
  async whenRouterTrained(timeoutMs = 30_000, intervalMs = 50): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.http.request<ServiceHealth>({
        call: 'service.health()',
        method: 'GET',
        path: '/health',
        accept: [503],
      });
      if (response.body.router.trained) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /**
   * `POST /registry/route/replay` (admin: it reads the logged queries). It changes nothing, so it is retried
   * like a GET.
   */
  async replayRoute(request: RouteReplayRequest): Promise<RouteReplayResponse> {
    const response = await this.http.request<RouteReplayResponse>({
      call: 'registry.replayRoute()',
      method: 'POST',
      path: '/registry/route/replay',
      body: request,
      admin: true,
      idempotent: true,
    });
    return response.body;
  }

  /** `GET /registry/export`: the registry in its file format. */
  async exportRegistry(): Promise<RegistryExport> {
    const response = await this.http.request<RegistryExport>({
      call: 'registry.export()',
      method: 'GET',
      path: '/registry/export',
    });
    return response.body;
  }
}
