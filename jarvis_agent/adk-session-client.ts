/**
 * @module jarvis_agent/adk-session-client
 * The ADK part of the session store over HTTP (`/sessions/{id}/adk/{app}`, `/adk/apps/{app}/sessions`), so
 * Jarvis's runners keep their ADK sessions in the service: `new StoreSessionService(new AdkSessionClient(http))`.
 */
import { randomUUID } from 'node:crypto';
import { isServiceCallError, type ServiceHttpClient } from '../src/client/service-http-client.js';
import type {
  AdkEventAppend,
  AdkSessionBackend,
  AdkSessionInput,
  AdkSessionRecord,
  AdkStoredSession,
} from '../src/sessions/adk-session-record.js';

export class AdkSessionClient implements AdkSessionBackend {
  constructor(private readonly http: ServiceHttpClient) {}

  async createAdkSession(input: AdkSessionInput): Promise<AdkSessionRecord> {
    const sessionId = input.session_id ?? randomUUID();
    const response = await this.http.request<AdkSessionRecord>({
      call: `adk.createSession(${JSON.stringify(sessionId)}, ${JSON.stringify(input.app_name)})`,
      method: 'PUT',
      path: this.path(sessionId, input.app_name),
      body: { user_id: input.user_id, state: input.state, last_update_time: input.last_update_time },
    });
    return response.body;
  }

  async getAdkSession(sessionId: string, appName: string): Promise<AdkStoredSession | undefined> {
    try {
      const response = await this.http.request<AdkStoredSession>({
        call: `adk.getSession(${JSON.stringify(sessionId)}, ${JSON.stringify(appName)})`,
        method: 'GET',
        path: this.path(sessionId, appName),
      });
      return response.body;
    } catch (error) {
      if (isServiceCallError(error) && error.code === 'session_not_found') return undefined;
      throw error;
    }
  }

  async listAdkSessions(appName: string, userId?: string): Promise<AdkSessionRecord[]> {
    const response = await this.http.request<{ sessions: AdkSessionRecord[] }>({
      call: `adk.listSessions(${JSON.stringify(appName)})`,
      method: 'GET',
      path: `/adk/apps/${encodeURIComponent(appName)}/sessions`,
      query: { user_id: userId },
    });
    return response.body.sessions;
  }

  async appendAdkEvent(sessionId: string, appName: string, append: AdkEventAppend): Promise<void> {
    await this.http.request({
      call: `adk.appendEvent(${JSON.stringify(sessionId)}, ${JSON.stringify(appName)})`,
      method: 'POST',
      path: `${this.path(sessionId, appName)}/events`,
      body: append,
    });
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.http.request({
      call: `sessions.delete(${JSON.stringify(sessionId)})`,
      method: 'DELETE',
      path: `/sessions/${encodeURIComponent(sessionId)}`,
    });
  }

  private path(sessionId: string, appName: string): string {
    return `/sessions/${encodeURIComponent(sessionId)}/adk/${encodeURIComponent(appName)}`;
  }
}
