/**
 * @module jarvis_agent/mcp_agents/sample-data/oxygen-data
 * Sample catalogue and enrolments of Oxygen, the internal learning platform, for one demo learner.
 * Deadlines and completion dates are relative ("due in 3 days") and become calendar dates against
 * the agent's clock (see `demo-calendar.ts`), so "due this week" always has answers; tests fix the clock.
 */

export const COURSE_TOPICS = [
  'security',
  'compliance',
  'engineering',
  'data',
  'leadership',
  'communication',
] as const;
export const COURSE_LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export const ENROLMENT_STATUSES = ['not_started', 'in_progress', 'completed'] as const;

export type CourseTopic = (typeof COURSE_TOPICS)[number];
export type CourseLevel = (typeof COURSE_LEVELS)[number];
export type EnrolmentStatus = (typeof ENROLMENT_STATUSES)[number];

export interface SampleCourse {
  readonly id: string;
  readonly title: string;
  readonly topic: CourseTopic;
  readonly level: CourseLevel;
  readonly hours: number;
  readonly mandatory: boolean;
  readonly summary: string;
}

export interface SampleEnrolment {
  readonly courseId: string;
  readonly status: EnrolmentStatus;
  readonly progressPct: number;
  /** Days from today to the deadline (negative: overdue unless completed). */
  readonly dueInDays: number;
  /** Days ago the course was completed, for completed enrolments. */
  readonly completedDaysAgo?: number;
}

/** The learner whose enrolments the demo shows. */
export const DEMO_LEARNER = 'Alex Morgan';

export const SAMPLE_COURSES: readonly SampleCourse[] = [
  {
    id: 'CRS-101',
    title: 'Annual Security Awareness',
    topic: 'security',
    level: 'beginner',
    hours: 1.5,
    mandatory: true,
    summary: 'Phishing, password hygiene, clean desk and how to report a security incident.',
  },
  {
    id: 'CRS-102',
    title: 'Data Protection and GDPR Essentials',
    topic: 'compliance',
    level: 'beginner',
    hours: 2,
    mandatory: true,
    summary: 'Personal data, lawful bases, retention and what to do after a data breach.',
  },
  {
    id: 'CRS-103',
    title: 'Anti-Bribery and Code of Conduct',
    topic: 'compliance',
    level: 'beginner',
    hours: 1,
    mandatory: true,
    summary: 'Gifts and hospitality, conflicts of interest and the speak-up line.',
  },
  {
    id: 'CRS-104',
    title: 'Secure Coding in TypeScript',
    topic: 'engineering',
    level: 'intermediate',
    hours: 4,
    mandatory: false,
    summary: 'Input validation, injection, secrets handling and dependency hygiene in Node.js services.',
  },
  {
    id: 'CRS-105',
    title: 'Designing Resilient APIs',
    topic: 'engineering',
    level: 'advanced',
    hours: 6,
    mandatory: false,
    summary: 'Timeouts, retries with backoff, idempotency keys and graceful degradation.',
  },
  {
    id: 'CRS-106',
    title: 'SQL for Analysts',
    topic: 'data',
    level: 'beginner',
    hours: 5,
    mandatory: false,
    summary: 'Joins, aggregations and window functions on a realistic sales dataset.',
  },
  {
    id: 'CRS-107',
    title: 'Feedback Conversations that Work',
    topic: 'communication',
    level: 'beginner',
    hours: 2,
    mandatory: false,
    summary: 'Giving and receiving feedback with the situation-behaviour-impact model.',
  },
  {
    id: 'CRS-108',
    title: 'First-Time Manager Programme',
    topic: 'leadership',
    level: 'intermediate',
    hours: 8,
    mandatory: false,
    summary: 'One-to-ones, delegation, hiring basics and running effective team rituals.',
  },
  {
    id: 'CRS-109',
    title: 'Threat Modelling Workshop',
    topic: 'security',
    level: 'advanced',
    hours: 3,
    mandatory: false,
    summary: 'STRIDE walkthroughs on real architecture diagrams, with a facilitator.',
  },
  {
    id: 'CRS-110',
    title: 'Presenting with Impact',
    topic: 'communication',
    level: 'intermediate',
    hours: 2.5,
    mandatory: false,
    summary: 'Structuring a story, designing clear slides and handling questions.',
  },
  {
    id: 'CRS-111',
    title: 'Machine Learning Foundations',
    topic: 'data',
    level: 'intermediate',
    hours: 10,
    mandatory: false,
    summary: 'Supervised learning, evaluation metrics and avoiding leakage, in Python notebooks.',
  },
  {
    id: 'CRS-112',
    title: 'Password Managers and Multi-Factor Authentication',
    topic: 'security',
    level: 'beginner',
    hours: 1,
    mandatory: true,
    summary: 'Setting up the company password manager and hardware security keys.',
  },
];

export const SAMPLE_ENROLMENTS: readonly SampleEnrolment[] = [
  { courseId: 'CRS-101', status: 'in_progress', progressPct: 60, dueInDays: 3 },
  { courseId: 'CRS-102', status: 'not_started', progressPct: 0, dueInDays: 5 },
  { courseId: 'CRS-103', status: 'completed', progressPct: 100, dueInDays: -10, completedDaysAgo: 20 },
  { courseId: 'CRS-104', status: 'in_progress', progressPct: 35, dueInDays: 12 },
  { courseId: 'CRS-106', status: 'completed', progressPct: 100, dueInDays: -30, completedDaysAgo: 40 },
  { courseId: 'CRS-108', status: 'in_progress', progressPct: 80, dueInDays: 25 },
  { courseId: 'CRS-109', status: 'not_started', progressPct: 0, dueInDays: -2 },
  { courseId: 'CRS-110', status: 'in_progress', progressPct: 10, dueInDays: 6 },
];
