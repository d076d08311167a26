/** Pieces every view shares: how errors read, and the props a view gets. */
import type { Ref } from 'preact';
import { type ApiClient, ApiError } from './api.js';
import type { Tokens } from './tokens.js';

export interface ViewProps {
  api: ApiClient;
  /** The view's main heading: it takes keyboard focus when the view opens. */
  headingRef: Ref<HTMLHeadingElement>;
  /** Views reload when the tokens change. */
  tokens: Tokens;
}

/** What a failure says on screen: the service's status, code and message as they came. */
export function errorText(error: unknown): string {
  return error instanceof ApiError
    ? error.describe()
    : error instanceof Error
      ? error.message
      : String(error);
}

/** A failure, shown until the next attempt; announced to screen readers. `hint` says what to do about it. */
export function ErrorMessage({
  error,
  prefix,
  hint,
}: {
  error: string | undefined;
  prefix?: string;
  hint?: string | undefined;
}) {
  if (error === undefined) return null;
  return (
    <p class="error" role="alert">
      {prefix !== undefined && <strong>{prefix} </strong>}
      {error}
      {hint !== undefined && <span class="error-hint">{hint}</span>}
    </p>
  );
}

/** Waits `ms`, or less if `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
