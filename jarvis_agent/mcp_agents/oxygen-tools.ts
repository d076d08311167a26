/**
 * @module jarvis_agent/mcp_agents/oxygen-tools
 * Function tools of the Oxygen learning-platform agent: the course catalogue, the demo learner's
 * enrolments and deadlines, and enrolling (kept in memory by this set of tools, one per agent instance).
 */
import { FunctionTool } from '@google/adk';
import { z } from 'zod';
import type { DemoCalendar } from './demo-calendar.js';
import {
  COURSE_LEVELS,
  COURSE_TOPICS,
  DEMO_LEARNER,
  ENROLMENT_STATUSES,
  type EnrolmentStatus,
  SAMPLE_COURSES,
  SAMPLE_ENROLMENTS,
  type SampleCourse,
} from './sample-data/oxygen-data.js';

/** Days a new enrolment has to finish: mandatory courses are due sooner. */
const NEW_ENROLMENT_DAYS = { mandatory: 14, optional: 30 } as const;

interface Enrolment {
  readonly courseId: string;
  readonly status: EnrolmentStatus;
  readonly progressPct: number;
  readonly deadline: string;
  readonly completedOn: string | null;
}

const COURSE_ID = z.string().min(1).describe('The course id, e.g. CRS-101');

export function createOxygenTools(calendar: DemoCalendar): FunctionTool[] {
  const added: Enrolment[] = [];

  const enrolments = (): Enrolment[] => [
    ...SAMPLE_ENROLMENTS.map((e) => ({
      courseId: e.courseId,
      status: e.status,
      progressPct: e.progressPct,
      deadline: calendar.day(e.dueInDays),
      completedOn: e.completedDaysAgo === undefined ? null : calendar.day(-e.completedDaysAgo),
    })),
    ...added,
  ];

  const course = (id: string): SampleCourse => {
    const normalized = id.trim().toUpperCase();
    const found = SAMPLE_COURSES.find((c) => c.id === normalized);
    if (found === undefined) {
      throw new Error(
        `There is no course ${normalized}. Course ids look like CRS-101; list_courses shows the catalogue.`,
      );
    }
    return found;
  };

  const isOverdue = (e: Enrolment): boolean => e.status !== 'completed' && calendar.daysUntil(e.deadline) < 0;

  const describeEnrolment = (e: Enrolment) => ({
    course_id: e.courseId,
    title: course(e.courseId).title,
    status: isOverdue(e) ? 'overdue' : e.status,
    progress_pct: e.progressPct,
    deadline: e.deadline,
    days_left: e.status === 'completed' ? null : calendar.daysUntil(e.deadline),
    ...(e.completedOn === null ? {} : { completed_on: e.completedOn }),
  });

  const listCourses = new FunctionTool({
    name: 'list_courses',
    description:
      'Browse the Oxygen course catalogue (the internal learning platform): courses with topic, level, ' +
      'length in hours and whether they are mandatory; filter by topic, level or mandatory.',
    parameters: z.object({
      topic: z.enum(COURSE_TOPICS).optional().describe('Only courses on this topic'),
      level: z.enum(COURSE_LEVELS).optional().describe('Only courses of this level'),
      mandatory: z
        .boolean()
        .optional()
        .describe('true: only mandatory (required) training; false: only optional ones'),
    }),
    execute: ({ topic, level, mandatory }) => {
      const courses = SAMPLE_COURSES.filter(
        (c) =>
          (topic === undefined || c.topic === topic) &&
          (level === undefined || c.level === level) &&
          (mandatory === undefined || c.mandatory === mandatory),
      ).map(({ id, title, topic: t, level: l, hours, mandatory: m }) => ({
        id,
        title,
        topic: t,
        level: l,
        hours,
        mandatory: m,
      }));
      return { count: courses.length, courses };
    },
  });

  const getCourseDetails = new FunctionTool({
    name: 'get_course_details',
    description:
      'Details of one Oxygen course by its id: summary, topic, level, length in hours, whether it is ' +
      'mandatory, and my enrolment status and deadline if I am enrolled.',
    parameters: z.object({ course_id: COURSE_ID }),
    execute: ({ course_id }) => {
      const found = course(course_id);
      const enrolment = enrolments().find((e) => e.courseId === found.id);
      const { id, ...rest } = found;
      return {
        course_id: id,
        ...rest,
        my_enrolment: enrolment === undefined ? 'not enrolled' : describeEnrolment(enrolment),
      };
    },
  });

  const getMyEnrolments = new FunctionTool({
    name: 'get_my_enrolments',
    description:
      'My Oxygen enrolments (the courses I am enrolled in) with progress, status and deadline, soonest ' +
      'deadline first; filter by status.',
    parameters: z.object({
      status: z
        .enum([...ENROLMENT_STATUSES, 'overdue'])
        .optional()
        .describe('Only enrolments with this status (overdue: past the deadline and not completed)'),
    }),
    execute: ({ status }) => {
      const list = enrolments()
        .map(describeEnrolment)
        .filter((e) => status === undefined || e.status === status)
        .sort((a, b) => a.deadline.localeCompare(b.deadline));
      return { learner: DEMO_LEARNER, count: list.length, enrolments: list };
    },
  });

  const upcomingDeadlines = new FunctionTool({
    name: 'upcoming_deadlines',
    description:
      'Upcoming course deadlines: courses I have not finished yet that are due within the next N days ' +
      '(7 = this week), overdue ones included, soonest first.',
    parameters: z.object({
      days: z.number().int().min(0).max(365).optional().describe('Look-ahead window in days (default 7)'),
    }),
    execute: ({ days = 7 }) => {
      const due = enrolments()
        .filter((e) => e.status !== 'completed' && calendar.daysUntil(e.deadline) <= days)
        .sort((a, b) => a.deadline.localeCompare(b.deadline))
        .map(describeEnrolment);
      return { as_of: calendar.today(), window_days: days, count: due.length, deadlines: due };
    },
  });

  const enrolInCourse = new FunctionTool({
    name: 'enrol_in_course',
    description:
      'Enrol (enroll, sign up or register) me in an Oxygen course by its id. Demo: the enrolment is kept ' +
      'in memory by this agent instance only.',
    parameters: z.object({ course_id: COURSE_ID }),
    execute: ({ course_id }) => {
      const found = course(course_id);
      const existing = enrolments().find((e) => e.courseId === found.id);
      if (existing !== undefined) {
        return { enrolled: false, reason: 'already enrolled', enrolment: describeEnrolment(existing) };
      }
      const enrolment: Enrolment = {
        courseId: found.id,
        status: 'not_started',
        progressPct: 0,
        deadline: calendar.day(found.mandatory ? NEW_ENROLMENT_DAYS.mandatory : NEW_ENROLMENT_DAYS.optional),
        completedOn: null,
      };
      added.push(enrolment);
      return {
        enrolled: true,
        enrolment: describeEnrolment(enrolment),
        note: 'Demo data: this enrolment is kept in memory by this agent instance only.',
      };
    },
  });

  return [listCourses, getCourseDetails, getMyEnrolments, upcomingDeadlines, enrolInCourse];
}
