import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import { NO_FAULTS } from '../../apps/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { isLeaseMarker } from '../../src/lease/account-lease.js';
import type { RunReport } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/exports.js';
import { type CliResult, spawnCli } from '../support/spawn-cli.js';

/**
 * Issue 23 end to end, no mocks: one migration at a time per Cliniko account, whatever state
 * folder each process uses, and one process per state folder. Every command is a process of its
 * own, as two operators (or one operator in two terminals) would start it, against one sandbox.
 */
const KEY = 'TwoWritersKey0000000000000001-au1';
const PATIENTS = 12;
/** The documented code of a refused run (docs/RUNNING.md: unusable input, configuration, arguments). */
const REFUSED = 2;

let zip: string;
let home: string;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  home = await tempDir('two-writers-');
  zip = join(home, 'export.zip');
  await generateExport(zip, {
    patients: PATIENTS,
    appointmentsPerPatient: 2,
    documentsPer100: 0,
    seed: 23,
    messy: false,
  });
});

afterAll(async () => {
  for (const s of sandboxes) await s.close();
});

/** A fresh Cliniko account: the sandbox answers every process from this one. */
async function freshAccount(): Promise<Sandbox> {
  const sandbox = await startSandbox({
    rateLimit: 0,
    attachmentProcessingMs: 10,
    seed: sandboxSeedForGenerated(KEY),
  });
  sandboxes.push(sandbox);
  return sandbox;
}

const env = () => ({ ...process.env, CLINIKO_API_KEY: KEY });
const liveRun = (sandbox: Sandbox, stateDir: string, out: string) =>
  spawnCli(
    ['run', zip, '--mode', 'live', '--cliniko-url', sandbox.baseUrl, '--state-dir', stateDir, '--out', out],
    { cwd: home, env: env() },
  );
const rollbackOf = (sandbox: Sandbox, runId: string, stateDir: string) =>
  spawnCli(['rollback', runId, '--cliniko-url', sandbox.baseUrl, '--state-dir', stateDir], {
    cwd: home,
    env: env(),
  });

const report = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
const markerOf = (r: Record<string, unknown>) =>
  isLeaseMarker({ company_name: typeof r.company_name === 'string' ? r.company_name : null });
/** Lease markers not archived: a run that ended left none behind. */
const liveMarkers = (sandbox: Sandbox) =>
  sandbox.state.all('contacts').filter((c) => markerOf(c) && !c.archived_at);
const activePatients = (sandbox: Sandbox) => sandbox.state.all('patients').filter((p) => !p.archived_at);
/** Patients that share a source id: a second writer's duplicates. */
function duplicatedPatients(sandbox: Sandbox): string[] {
  const seen = new Map<string, number>();
  for (const p of activePatients(sandbox)) {
    const ref = String(p.old_reference_id ?? '');
    seen.set(ref, (seen.get(ref) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([ref]) => ref);
}

/** The refusal line names the holder: its run, its start time, and where it runs (host, pid). */
function expectNamesHolder(refused: CliResult, holderRunId: RegExp) {
  const line = refused.err.split('\n').find((l) => l.includes('is being migrated by run'));
  expect({ line, err: refused.err.slice(-1500) }).toMatchObject({ line: expect.any(String) });
  expect(line).toMatch(new RegExp(`run ${holderRunId.source}, started`));
  expect(line).toMatch(/started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+/);
  expect(line).toContain(`on ${hostname()} (pid `);
}

async function until(what: () => boolean, ms: number): Promise<void> {
  const started = Date.now();
  while (!what()) {
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms in vain`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The winner of the first race: its account, state folder and run, for the rollback cases. */
let earlier: { sandbox: Sandbox; stateDir: string; runId: string; patients: number } | undefined;

describe('two live runs of one export into one Cliniko account, from two state folders', () => {
  it('started at the same moment: exactly one writes, the other is refused naming it; every record once', async () => {
    const rounds = Number(process.env.TWO_WRITERS_ROUNDS ?? 2);
    const started = Date.now();
    for (let round = 1; round <= rounds; round++) {
      const sandbox = await freshAccount();
      const dirs = await Promise.all([tempDir(`race${round}-a-`), tempDir(`race${round}-b-`)]);
      const results = await Promise.all(
        dirs.map((dir) => liveRun(sandbox, join(dir, 'state'), join(dir, 'out'))),
      );
      const won = results.flatMap((r, i) => (r.code === 0 ? [{ r, dir: dirs[i] ?? '' }] : []));
      const lost = results.filter((r) => r.code !== 0);
      expect({
        round,
        codes: results.map((r) => r.code),
        err: results.map((r) => r.err.slice(-800)),
      }).toMatchObject({
        codes: expect.arrayContaining([0, REFUSED]),
      });
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const winner = won[0];
      const loser = lost[0];
      if (!winner || !loser) throw new Error('no winner');
      expect(loser.code).toBe(REFUSED);
      const winnerReport = report(join(winner.dir, 'out'));
      // both passing the CLI's early check is the race proper: Preflight's lease decides it
      console.log(
        `two-writers: round ${round}: the loser was refused ${loser.out.includes('preflight failed') ? 'in Preflight' : 'before its pipeline started'}`,
      );
      expectNamesHolder(loser, new RegExp(winnerReport.runId));

      // Cliniko holds every record once: no source id twice, as many as the winner created
      expect(duplicatedPatients(sandbox)).toEqual([]);
      expect(winnerReport.entities.patients.created).toBe(PATIENTS);
      expect(activePatients(sandbox)).toHaveLength(winnerReport.entities.patients.created);
      expect(sandbox.state.count('individual_appointments', (a) => !a.archived_at)).toBe(
        winnerReport.entities.appointments.created,
      );
      // the lease markers (both runners made one) are no clinic contacts: not found, not counted
      const contacts = sandbox.state.all('contacts').filter((c) => !markerOf(c) && !c.archived_at);
      expect(winnerReport.entities.contacts.alreadyPresent).toBe(0);
      expect(contacts).toHaveLength(winnerReport.entities.contacts.created);
      expect(sandbox.state.all('contacts').filter(markerOf).length).toBeGreaterThanOrEqual(1);
      // both ended: neither left its marker live
      expect(liveMarkers(sandbox)).toEqual([]);
      if (round === 1)
        earlier = {
          sandbox,
          stateDir: join(winner.dir, 'state'),
          runId: winnerReport.runId,
          patients: activePatients(sandbox).length,
        };
    }
    console.log(`two-writers: ${rounds} races in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);
});

describe('a live run beside a rollback of an earlier run, in the same account', () => {
  it('the live run first: the rollback refuses and archives nothing; the run duplicates nothing', async () => {
    if (!earlier) throw new Error('the race above did not finish');
    const { sandbox, stateDir, runId, patients } = earlier;
    const dir = await tempDir('beside-live-');
    const live = liveRun(sandbox, join(dir, 'state'), join(dir, 'out'));
    await until(() => liveMarkers(sandbox).length > 0, 60_000);
    const rollback = await rollbackOf(sandbox, runId, stateDir);
    expect({ code: rollback.code, err: rollback.err }).toMatchObject({ code: REFUSED });
    expectNamesHolder(rollback, /run-[0-9a-f]+/);
    // refused before its first archive: nothing half rolled back
    expect(activePatients(sandbox)).toHaveLength(patients);
    const ran = await live;
    expect({ code: ran.code, err: ran.err.slice(-1500) }).toMatchObject({ code: 0 });
    expect(report(join(dir, 'out')).entities.patients).toMatchObject({
      created: 0,
      alreadyPresent: PATIENTS,
    });
    expect(duplicatedPatients(sandbox)).toEqual([]);
    expect(activePatients(sandbox)).toHaveLength(patients);
    expect(liveMarkers(sandbox)).toEqual([]);
  }, 120_000);

  it('the rollback first: the live run refuses and writes nothing; the rollback archives everything', async () => {
    if (!earlier) throw new Error('the race above did not finish');
    const { sandbox, stateDir, runId } = earlier;
    // slow answers, so the rollback still holds the account when the live run starts
    sandbox.faults = { ...NO_FAULTS, latencyMs: 150 };
    const rollback = rollbackOf(sandbox, runId, stateDir);
    await until(() => liveMarkers(sandbox).length > 0, 60_000);
    const dir = await tempDir('beside-rollback-');
    const live = await liveRun(sandbox, join(dir, 'state'), join(dir, 'out'));
    sandbox.faults = { ...NO_FAULTS };
    expect({ code: live.code, err: live.err.slice(-1500) }).toMatchObject({ code: REFUSED });
    expectNamesHolder(live, new RegExp(`rollback-of-${runId}-[0-9a-f]+`));
    const undone = await rollback;
    expect({ code: undone.code, err: undone.err }).toMatchObject({ code: 0, err: '' });
    // every record of the run archived, none written again beside it
    expect(activePatients(sandbox)).toEqual([]);
    expect(sandbox.state.count('individual_appointments', (a) => !a.archived_at)).toBe(0);
    expect(existsSync(join(dir, 'out', 'report.json'))).toBe(false);
    expect(liveMarkers(sandbox)).toEqual([]);
  }, 120_000);
});

describe('two processes on one state folder', () => {
  it('the second refuses within a second naming the first (pid, host, start), never waits; Ctrl-C releases the lease', async () => {
    const sandbox = await freshAccount();
    // slow answers, so the first run still holds the folder and the account when the others start
    sandbox.faults = { ...NO_FAULTS, latencyMs: 200 };
    const dir = await tempDir('one-folder-');
    const stateDir = join(dir, 'state');
    const first = liveRun(sandbox, stateDir, join(dir, 'first'));
    await until(() => liveMarkers(sandbox).length > 0, 60_000);

    // the refusal itself, timed without a process's start (tsx compiles the CLI: seconds on busy
    // cores): the command run in this process, beside the first
    process.env.CLINIKO_API_KEY = KEY;
    const asked = Date.now();
    const inProcess = await cli(
      ...['run', zip, '--mode', 'live', '--cliniko-url', sandbox.baseUrl, '--state-dir', stateDir],
      ...['--out', join(dir, 'second')],
    ).finally(() => delete process.env.CLINIKO_API_KEY);
    const refusedIn = Date.now() - asked;
    // and as an operator meets it: a second process, start to exit
    const spawned = Date.now();
    const second = await liveRun(sandbox, stateDir, join(dir, 'second'));
    const processElapsed = Date.now() - spawned;
    console.log(
      `two-writers: a second run on the state folder refused in ${refusedIn} ms (${processElapsed} ms as a process, start to exit)`,
    );
    const holder = new RegExp(
      `state folder \\S+ is in use by another cliniko-migrate run \\(pid ${first.child.pid} on ${hostname()}, started \\d{4}-\\d\\d-\\d\\dT`,
    );
    expect({ code: inProcess.code, err: inProcess.err }).toMatchObject({
      code: REFUSED,
      err: expect.stringMatching(holder),
    });
    expect({ code: second.code, err: second.err }).toMatchObject({
      code: REFUSED,
      err: expect.stringMatching(holder),
    });
    expect(refusedIn).toBeLessThan(5_000);
    // refused, never waiting on the first: no longer than a process takes to start, even on busy cores
    expect(processElapsed).toBeLessThan(20_000);
    // a rollback there is refused the same way
    const refusedRollback = await rollbackOf(sandbox, 'run-0', stateDir);
    expect({ code: refusedRollback.code, err: refusedRollback.err }).toMatchObject({ code: REFUSED });
    expect(refusedRollback.err).toContain(`(pid ${first.child.pid} on ${hostname()}, started `);

    // Ctrl-C: the run stops, recorded interrupted, and leaves no lease behind
    first.child.kill('SIGINT');
    const stopped = await first;
    expect({ code: stopped.code, err: stopped.err.slice(-1500) }).toMatchObject({ code: 130 });
    expect(liveMarkers(sandbox)).toEqual([]);

    // the same command resumes it; Ctrl-C twice stops it at once, and still leaves no lease
    const resumed = liveRun(sandbox, stateDir, join(dir, 'first'));
    await until(() => liveMarkers(sandbox).length > 0, 60_000);
    resumed.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    resumed.child.kill('SIGINT');
    const atOnce = await resumed;
    sandbox.faults = { ...NO_FAULTS };
    expect({ code: atOnce.code, err: atOnce.err.slice(-1500) }).toMatchObject({ code: 130 });
    expect(atOnce.err).toContain('stopped at once');
    expect(liveMarkers(sandbox)).toEqual([]);

    // a rollback of it, stopped by Ctrl-C while it holds the account, leaves no lease either
    const runId = /run (run-[0-9a-f]+) stopped/.exec(stopped.err)?.[1] ?? '';
    expect(runId).not.toBe('');
    sandbox.faults = { ...NO_FAULTS, latencyMs: 200 };
    const rollback = rollbackOf(sandbox, runId, stateDir);
    await until(() => liveMarkers(sandbox).some((m) => String(m.notes).includes('rollback-of-')), 60_000);
    rollback.child.kill('SIGINT');
    const undone = await rollback;
    sandbox.faults = { ...NO_FAULTS };
    expect({ code: undone.code, err: undone.err }).toMatchObject({ code: 130 });
    expect(undone.err).toContain('the same command again finishes the rest');
    expect(liveMarkers(sandbox)).toEqual([]);
  }, 150_000);
});
