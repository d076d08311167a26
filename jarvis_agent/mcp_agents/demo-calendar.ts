/**
 * @module jarvis_agent/mcp_agents/demo-calendar
 * Dates of the demo data, relative to an injectable clock: sample records say "created 3 days ago" or
 * "due in 5 days", so the demo reads naturally on any day and tests pin "today" with a fixed clock.
 * All dates are UTC calendar days (`YYYY-MM-DD`) and months (`YYYY-MM`).
 */

export type Clock = () => Date;

export interface DemoAgentOptions {
  /** Source of "today" for the sample data and the agent's instruction (default: the system clock). */
  readonly now?: Clock;
}

const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export class DemoCalendar {
  constructor(private readonly clock: Clock = () => new Date()) {}

  private start(): Date {
    const now = this.clock();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  }

  /** Today as `YYYY-MM-DD`. */
  today(): string {
    return isoDay(this.start());
  }

  /** The day `days` from today (negative: in the past) as `YYYY-MM-DD`. */
  day(days: number): string {
    return isoDay(new Date(this.start().getTime() + days * DAY_MS));
  }

  /** Whole days from today to `isoDate` (negative when it is past). */
  daysUntil(isoDate: string): number {
    return Math.round((Date.parse(`${isoDate}T00:00:00Z`) - this.start().getTime()) / DAY_MS);
  }

  /** The month `offset` months from the current one (negative: earlier) as `YYYY-MM`. */
  month(offset = 0): string {
    const today = this.start();
    return isoDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + offset, 1))).slice(0, 7);
  }

  /** Share of the current month elapsed, counting today as a full day: (0, 1]. */
  monthElapsed(): number {
    const today = this.start();
    const days = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 0)).getUTCDate();
    return today.getUTCDate() / days;
  }

  /**
   * The sentence every demo agent's instruction starts with, so Gemini and the offline model resolve
   * "this week" or "last month" against the same day as the tools.
   */
  todayLine(): string {
    return `Today is ${this.today()} (${WEEKDAYS[this.start().getUTCDay()]}).`;
  }
}
