/**
 * The bearer tokens the operator typed in, kept in this tab's sessionStorage only: they are gone when the
 * tab closes and never reach another tab or the disk's long-lived storage.
 */
export interface Tokens {
  /** REGISTRY_ADMIN_TOKEN: register, change and delete agents. */
  admin: string;
  /** REGISTRY_API_TOKEN: every `/sessions` call. */
  api: string;
  /** REGISTRY_READ_TOKEN: registry reads and routing (the admin token also works). */
  read: string;
}

const KEY = 'agent-registry-ui:tokens';

export function loadTokens(): Tokens {
  const empty: Tokens = { admin: '', api: '', read: '' };
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Partial<Tokens>;
    return {
      admin: typeof stored.admin === 'string' ? stored.admin : '',
      api: typeof stored.api === 'string' ? stored.api : '',
      read: typeof stored.read === 'string' ? stored.read : '',
    };
  } catch {
    return empty;
  }
}

export function saveTokens(tokens: Tokens): void {
  sessionStorage.setItem(KEY, JSON.stringify(tokens));
}
