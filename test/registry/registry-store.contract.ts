/**
 * @module test/registry/registry-store.contract
 * The behaviour every `RegistryStore` backend must have. A backend's test file calls
 * `describeRegistryStoreContract(name, factory)`; the suite opens a fresh, empty store per test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/registry/agent-record.js';
import type { RegistryChange, RegistryStore } from '../../src/registry/registry-store.js';
import { expectAppError } from '../sessions/session-store.contract.js';
import { makeRecord } from '../support/records.js';

export interface RegistryStoreUnderTest {
  /** Opened and loaded, empty, never seeded. */
  store: RegistryStore;
  /** Close `store` and open (and load) a new one on the same data. */
  reopen(store: RegistryStore): Promise<RegistryStore>;
  /** A second store on the same data, for backends several processes share (`store.shared`). */
  another?(): Promise<RegistryStore>;
  dispose(): Promise<void>;
}

export type RegistryStoreFactory = (options: {
  changesKept?: number;
  versionsKept?: number;
}) => Promise<RegistryStoreUnderTest>;

const names = (changes: readonly RegistryChange[]) => changes.map((change) => change.agent_name);
const recordsOf = async (store: RegistryStore) =>
  (await store.snapshot()).agents.map((agent) => [agent.record.name, agent.version]);

export function describeRegistryStoreContract(name: string, factory: RegistryStoreFactory): void {
  describe(`RegistryStore contract: ${name}`, () => {
    const opened: { store: RegistryStore; dispose(): Promise<void> }[] = [];
    afterEach(async () => {
      for (const { store, dispose } of opened.splice(0).reverse()) {
        await store.close().catch(() => {});
        await dispose();
      }
    });
    const open = async (options: { changesKept?: number; versionsKept?: number } = {}) => {
      const subject = await factory(options);
      const tracked = { store: subject.store, dispose: subject.dispose };
      opened.push(tracked);
      return {
        ...subject,
        async reopen(store: RegistryStore) {
          const next = await subject.reopen(store);
          tracked.store = next;
          return next;
        },
        async another() {
          const second = await subject.another!();
          opened.push({ store: second, dispose: async () => {} });
          return second;
        },
      };
    };

    it('inserts, updates with the version it read, removes; each change is numbered by a store-wide revision', async () => {
      const { store } = await open();
      const start = (await store.snapshot()).revision;
      const registered = await store.insert(makeRecord('alpha'));
      expect(registered).toMatchObject({
        revision: start + 1,
        type: 'registered',
        agent_name: 'alpha',
        record: makeRecord('alpha'),
        version: 1,
      });
      expect(Date.parse(registered.at)).not.toBeNaN();
      const updated = await store.update(makeRecord('alpha', { enabled: false }), 1);
      expect(updated).toMatchObject({ revision: start + 2, type: 'updated', version: 2 });
      expect(updated.record?.enabled).toBe(false);
      const deleted = await store.remove('alpha');
      expect(deleted).toMatchObject({ revision: start + 3, type: 'deleted', record: null, version: 3 });
      const snapshot = await store.snapshot();
      expect(snapshot.revision).toBe(start + 3);
      expect(snapshot.agents).toEqual([]);
      expect(snapshot.last_updated).toBe(deleted.at);
    });

    it('decides name uniqueness itself: a taken name is refused and nothing changes', async () => {
      const { store } = await open();
      await store.insert(makeRecord('alpha'));
      const before = await store.snapshot();
      await expectAppError(
        store.insert(makeRecord('alpha', { description: 'other' })),
        'agent_exists',
        /alpha/,
      );
      expect(await store.snapshot()).toEqual(before);
    });

    it('of many concurrent inserts of one name exactly one wins; distinct names all land', async () => {
      const { store } = await open();
      const start = (await store.snapshot()).revision;
      const same = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => store.insert(makeRecord('contested', { description: `${i}` }))),
      );
      expect(same.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of same) {
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'agent_exists' });
      }
      const distinct = await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.insert(makeRecord(`agent_${String(i).padStart(2, '0')}`))),
      );
      // Revisions are consecutive, with no gap and no duplicate, in the order the store committed them.
      const revisions = distinct.map((change) => change.revision).sort((a, b) => a - b);
      expect(revisions).toEqual(Array.from({ length: 30 }, (_, i) => start + 2 + i));
      expect((await store.snapshot()).agents).toHaveLength(31);
    });

    it('updates by compare-and-swap: a stale version is refused, the record kept', async () => {
      const { store } = await open();
      await store.insert(makeRecord('alpha'));
      await store.update(makeRecord('alpha', { tags: ['first'] }), 1);
      await expectAppError(
        store.update(makeRecord('alpha', { tags: ['stale'] }), 1),
        'version_conflict',
        /alpha/,
      );
      const results = await Promise.allSettled([
        store.update(makeRecord('alpha', { tags: ['a'] }), 2),
        store.update(makeRecord('alpha', { tags: ['b'] }), 2),
      ]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const [agent] = (await store.snapshot()).agents;
      expect(agent?.version).toBe(3);
      expect(['a', 'b']).toContain(agent?.record.tags[0]);
    });

    it('refuses changes to an agent that does not exist', async () => {
      const { store } = await open();
      await expectAppError(store.update(makeRecord('ghost'), 1), 'agent_not_found', /ghost/);
      await expectAppError(store.remove('ghost'), 'agent_not_found', /ghost/);
      expect((await store.snapshot()).agents).toEqual([]);
    });

    it('refuses a record that is not valid, storing nothing (the same validation as every load)', async () => {
      const { store } = await open();
      const before = await store.snapshot();
      const bad: AgentRecord[] = [
        makeRecord('constructor'),
        makeRecord('alpha', { description: 'd'.repeat(4001) }),
        makeRecord('alpha', { capabilities: JSON.parse('{"\\u005f_proto__": 1}') }),
        makeRecord('alpha', { capabilities: { x: Number.POSITIVE_INFINITY } }),
        makeRecord('alpha', { capabilities: { x: 'a\ud800' } }),
      ];
      for (const record of bad) await expectAppError(store.insert(record), 'validation_error');
      await store.insert(makeRecord('alpha'));
      await expectAppError(
        store.update(makeRecord('alpha', { tags: ['Not Valid!'] }), 1),
        'validation_error',
      );
      expect((await store.snapshot()).agents).toHaveLength(1);
      expect((await store.snapshot()).revision).toBe(before.revision + 1);
    });

    it('hands out the changes since a revision, oldest first, in pages', async () => {
      const { store } = await open();
      const start = (await store.snapshot()).revision;
      for (const name of ['a', 'b', 'c', 'd']) await store.insert(makeRecord(name));
      await store.remove('b');
      const all = await store.changesSince(start, 100);
      expect(all.revision).toBe(start + 5);
      expect(names(all.changes)).toEqual(['a', 'b', 'c', 'd', 'b']);
      expect(all.changes.map((change) => change.type)).toEqual([
        'registered',
        'registered',
        'registered',
        'registered',
        'deleted',
      ]);
      expect(names((await store.changesSince(start + 1, 2)).changes)).toEqual(['b', 'c']);
      expect(await store.changesSince(start + 5, 100)).toEqual({ revision: start + 5, changes: [] });
    });

    it('answers history_expired for a revision older than the changes it keeps', async () => {
      const { store } = await open({ changesKept: 3 });
      const start = (await store.snapshot()).revision;
      for (const name of ['a', 'b', 'c', 'd', 'e']) await store.insert(makeRecord(name));
      await expectAppError(store.changesSince(start, 10), 'history_expired', /reload/);
      await expectAppError(store.changesSince(start + 1, 10), 'history_expired');
      expect(names((await store.changesSince(start + 2, 10)).changes)).toEqual(['c', 'd', 'e']);
      // A revision this store never reached (another epoch, another database) cannot be served either.
      await expectAppError(store.changesSince(start + 100, 10), 'history_expired');
    });

    it('keeps every acknowledged change across a reopen; revisions only grow', async () => {
      const subject = await open();
      await subject.store.insert(makeRecord('alpha'));
      await subject.store.insert(makeRecord('beta'));
      await subject.store.update(makeRecord('beta', { enabled: false }), 1);
      await subject.store.remove('alpha');
      const before = await subject.store.snapshot();
      const reopened = await subject.reopen(subject.store);
      const after = await reopened.snapshot();
      expect(after.agents.map((agent) => agent.record)).toEqual(before.agents.map((agent) => agent.record));
      expect(after.last_updated).toBe(before.last_updated);
      expect(after.revision).toBeGreaterThanOrEqual(before.revision);
      const next = await reopened.insert(makeRecord('gamma'));
      expect(next.revision).toBeGreaterThan(before.revision);
    });

    it('seeds only a store that never held an agent, once', async () => {
      const subject = await open();
      const seeded = await subject.store.seed([makeRecord('demo_a'), makeRecord('demo_b')]);
      expect(names(seeded ?? []).sort()).toEqual(['demo_a', 'demo_b']);
      expect(await subject.store.seed([makeRecord('demo_c')])).toBeUndefined();
      await subject.store.remove('demo_a');
      await subject.store.remove('demo_b');
      const reopened = await subject.reopen(subject.store);
      // Emptied by its operator is not new: the demo agents do not come back.
      expect(await reopened.seed([makeRecord('demo_a')])).toBeUndefined();
      expect(await recordsOf(reopened)).toEqual([]);
    });

    it('with several processes on one store: changes are seen by all, names and versions decided once', async (context) => {
      const subject = await open();
      if (!subject.store.shared) {
        context.skip();
        return;
      }
      const other = await subject.another();
      let told = 0;
      const heard = new Promise<void>((resolve) => {
        other.watch(() => {
          told++;
          resolve();
        });
      });
      const change = await subject.store.insert(makeRecord('alpha'));
      await heard;
      expect(told).toBeGreaterThan(0);
      expect((await other.changesSince(change.revision - 1, 10)).changes).toEqual([change]);
      await expectAppError(other.insert(makeRecord('alpha')), 'agent_exists');
      const results = await Promise.allSettled([
        subject.store.update(makeRecord('alpha', { tags: ['one'] }), 1),
        other.update(makeRecord('alpha', { tags: ['other'] }), 1),
      ]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      expect(await recordsOf(other)).toEqual(await recordsOf(subject.store));
      expect(await other.seed([makeRecord('demo')])).toBeUndefined();
    });

    it('keeps a version of every change, newest first, with its revision, type, time and actor', async () => {
      const { store } = await open();
      const first = await store.insert(makeRecord('alpha'), { actor: 'ops' });
      const second = await store.update(makeRecord('alpha', { enabled: false }), 1);
      const third = await store.remove('alpha', { actor: 'ci' });
      const versions = await store.versions('alpha');
      expect(versions).toEqual([
        { version: 3, revision: third.revision, type: 'deleted', at: third.at, actor: 'ci' },
        { version: 2, revision: second.revision, type: 'updated', at: second.at, actor: 'anonymous' },
        { version: 1, revision: first.revision, type: 'registered', at: first.at, actor: 'ops' },
      ]);
      expect(await store.version('alpha', 1)).toEqual(makeRecord('alpha'));
      expect(await store.version('alpha', 2)).toEqual(makeRecord('alpha', { enabled: false }));
      // A deletion's version keeps the record it deleted.
      expect(await store.version('alpha', 3)).toEqual(makeRecord('alpha', { enabled: false }));
      await expectAppError(store.version('alpha', 4), 'version_not_found');
      await expectAppError(store.versions('never'), 'agent_not_found');
      await expectAppError(store.version('never', 1), 'agent_not_found');
    });

    it('continues the numbering of a deleted name when it is registered again; other names number alone', async () => {
      const { store } = await open();
      await store.insert(makeRecord('alpha'));
      await store.remove('alpha');
      const again = await store.insert(makeRecord('alpha', { tags: ['again'] }));
      expect(again).toMatchObject({ type: 'registered', version: 3 });
      expect((await store.snapshot()).agents[0]?.version).toBe(3);
      await expectAppError(store.update(makeRecord('alpha'), 1), 'version_conflict');
      expect((await store.update(makeRecord('alpha'), 3)).version).toBe(4);
      expect((await store.insert(makeRecord('beta'))).version).toBe(1);
      expect((await store.versions('alpha')).map((version) => version.type)).toEqual([
        'updated',
        'registered',
        'deleted',
        'registered',
      ]);
    });

    it('keeps only the newest versions per agent', async () => {
      const { store } = await open({ versionsKept: 2 });
      await store.insert(makeRecord('alpha'));
      for (let version = 1; version <= 3; version++) {
        await store.update(makeRecord('alpha', { tags: [`t${version}`] }), version);
      }
      await store.insert(makeRecord('beta'));
      expect((await store.versions('alpha')).map((version) => version.version)).toEqual([4, 3]);
      expect((await store.version('alpha', 4)).tags).toEqual(['t3']);
      await expectAppError(store.version('alpha', 2), 'version_not_found');
      expect((await store.versions('beta')).map((version) => version.version)).toEqual([1]);
    });

    it('keeps versions across a reopen, and numbering continues from them', async () => {
      const subject = await open();
      await subject.store.insert(makeRecord('alpha'), { actor: 'ops' });
      await subject.store.update(makeRecord('alpha', { enabled: false }), 1);
      await subject.store.insert(makeRecord('gone'));
      await subject.store.remove('gone');
      const before = await subject.store.versions('alpha');
      const reopened = await subject.reopen(subject.store);
      expect(await reopened.versions('alpha')).toEqual(before);
      expect((await reopened.versions('gone')).map((version) => version.type)).toEqual([
        'deleted',
        'registered',
      ]);
      expect((await reopened.snapshot()).agents.map((agent) => [agent.record.name, agent.version])).toEqual([
        ['alpha', 2],
      ]);
      expect((await reopened.update(makeRecord('alpha'), 2)).version).toBe(3);
      expect((await reopened.insert(makeRecord('gone'))).version).toBe(3);
    });

    it('reports its health with its backend named', async () => {
      const { store } = await open();
      expect(store.health()).toMatchObject({ status: 'ok', backend: store.backend, recovery: [] });
    });
  });
}
