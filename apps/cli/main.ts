import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { ApiKeyError } from '../../src/cliniko/api-key.js';
import { ClinikoAuthError, ClinikoPermissionError } from '../../src/cliniko/errors.js';
import { ConfigError } from '../../src/config/migration-config.js';
import { ArchiveError } from '../../src/source/archive.js';
import { ExportRefusedError } from '../../src/source/export-checks.js';
import { approveCommand } from './approve-command.js';
import { UsageError } from './errors.js';
import { generateCommand } from './generate-command.js';
import { ApprovalError } from './local-registry.js';
import {
  ApproveOptions,
  DEFAULT_SANDBOX_RATE_LIMIT,
  GenerateOptions,
  RedriveOptions,
  RollbackOptions,
  RunIdOptions,
  RunOptions,
  SandboxOptions,
  StateDirOptions,
} from './options.js';
import { redriveCommand } from './redrive-command.js';
import { reportCommand } from './report-command.js';
import { rollbackCommand } from './rollback-command.js';
import { runCommand } from './run-command.js';
import { parseDuration, sandboxCommand } from './sandbox-command.js';
import { LEGACY_STATE_DIR, STATE_DIR_ENV, USER_STATE_DIR_WORDS } from './state-dir.js';
import { statusCommand } from './status-command.js';

/** Unusable input or configuration: a message that names what to fix, and exit 2 (docs/RUNNING.md). */
const UNUSABLE = [
  UsageError,
  ApprovalError,
  ApiKeyError,
  ConfigError,
  ArchiveError,
  ExportRefusedError,
  ClinikoAuthError,
  ClinikoPermissionError,
];

/** The package's own version, read beside the code so it is right from any working directory. */
function packageVersion(): string {
  const pkg = z
    .object({ version: z.string() })
    .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));
  return pkg.version;
}

/** Commander argument parser for a whole number of at least `min`. */
function whole(min: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`"${text}" is not a whole number of at least ${min}.`);
    return n;
  };
}

function duration(text: string): number {
  try {
    return parseDuration(text, 'duration');
  } catch {
    throw new InvalidArgumentError(`"${text}" is not a duration such as 60s, 500ms or 1m.`);
  }
}

/** The OS user, the default signer of an approval (`approve --by` names someone else). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'operator';
  }
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

const stateDirOption = () =>
  new Option(
    '--state-dir <dir>',
    `folder holding this machine's runs, approvals and sandbox account (default: $${STATE_DIR_ENV}, else ${LEGACY_STATE_DIR}/ if the working directory has one, else ${USER_STATE_DIR_WORDS})`,
  );
/** Where the deployed stack is (README "Deploy": how the region is found). */
const regionOption = () =>
  new Option(
    '--region <region>',
    "with --stack: the stack's AWS region, e.g. ap-southeast-2 (default: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region)",
  );
const profileOption = () =>
  new Option(
    '--profile <name>',
    'with --stack: the AWS profile (in ~/.aws/config) whose credentials and region are used (default: AWS_PROFILE, then default)',
  );
/** --region and --profile say where a deployed stack is: without --stack they are a mistake. */
function stackFlags<
  T extends { stack?: string | undefined; region?: string | undefined; profile?: string | undefined },
>(options: T): T {
  for (const flag of ['region', 'profile'] as const)
    if (options[flag] && !options.stack)
      throw new UsageError(
        `--${flag} applies to a deployed stack: add --stack <name>, or leave --${flag} out`,
      );
  return options;
}
const stackOption = () =>
  new Option(
    '--stack <name>',
    'read the run from the deployed stack of this name (its DynamoDB table and S3 bucket) instead of this machine',
  );

/**
 * The command line docs/RUNNING.md describes, on commander: every command answers `--help` with
 * each option's meaning, default and an example; `--version`; an unknown option is refused with a
 * hint. `onCode` receives the exit code a command's action decided.
 */
export function buildProgram(out: (line: string) => void, onCode: (code: number) => void): Command {
  const program = new Command('cliniko-migrate')
    .description(
      "Moves a clinic's history from a Gensolve Practice Manager export into Cliniko: a dry run to check, sign-off, then the live run.",
    )
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'describe a command and its options')
    .showSuggestionAfterError(true)
    .showHelpAfterError("(add --help to see the command's options)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => out(text.replace(/\n$/, '')),
      writeErr: (text) => console.error(text.replace(/\n$/, '')),
      outputError: (text, write) => write(`cliniko-migrate: ${text.replace(/^error: /, '')}`),
    })
    .addHelpText(
      'after',
      `\nExit codes: 0 finished (the report lists rows to decide on), 1 a live run left records failed,\n2 unusable input, configuration or arguments, 130 interrupted (run the same command again to resume).\n${examples(
        'cliniko-migrate run export.zip --config migration.json',
        'cliniko-migrate approve <runId> --by "Jo Manager"',
        'cliniko-migrate run export.zip --config migration.json --mode live --require-approval',
      )}`,
    );
  // Subcommands inherit the output settings and the error handling above.
  program.configureHelp({ showGlobalOptions: false });

  program
    .command('run')
    .summary('migrate an export on this machine (dry run by default)')
    .description(
      'Runs the whole pipeline on this machine: the same handlers and state machine as on AWS, on local emulators.\nA dry run reads the export and Cliniko and writes nothing to Cliniko; a live run writes.\nThe report (report.json, report.html, problems.csv) is written into --out.\nCliniko: the keys in CLINIKO_API_KEY or CLINIKO_API_KEYS (comma-separated, one per Cliniko user); without keys, an embedded sandbox.',
    )
    .argument('<export>', 'the Gensolve export: its .zip, or the folder it was unpacked into')
    .option('--config <file>', "the clinic's migration.json (default: none, defaults plus matching by name)")
    .addOption(
      new Option('--mode <mode>', 'dry-run checks and writes nothing to Cliniko; live writes')
        .choices(['dry-run', 'live'])
        .default('dry-run'),
    )
    .option('--out <dir>', 'where the report files go (default: out/<runId>/ in the working directory)')
    .option(
      '--cliniko-url <url>',
      'Cliniko API base URL overriding https://api.<shard>.cliniko.com/v1 (needs a key: CLINIKO_API_KEY)',
    )
    .option(
      '--sandbox',
      'migrate into an embedded Cliniko sandbox account, kept in the state folder between runs (the first run seeds it from the export)',
      false,
    )
    .addOption(
      new Option('--sandbox-rate-limit <n>', "the embedded sandbox's requests per minute per user")
        .argParser(whole(1))
        .default(DEFAULT_SANDBOX_RATE_LIMIT),
    )
    .option('--fresh', 'with --sandbox: discard the kept sandbox account and start a new one', false)
    .option(
      '--require-approval',
      'refuse a live run unless a dry run of the same export was approved (`approve`)',
      false,
    )
    .addOption(stateDirOption())
    .option('--keep-work', "keep the working copy of an unpacked export's zip after the run", false)
    .option(
      '--take-over',
      'remove the lease of the run holding the Cliniko account (after a confirmation)',
      false,
    )
    .option('--yes', 'confirm --take-over without asking', false)
    .option(
      '--in-process',
      "dry run of the pipeline's steps in one process, without its emulators (quick check of a big export)",
      false,
    )
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate run ~/exports/clinic.zip --config migration.json',
        'cliniko-migrate run ./clinic-export/ --sandbox --out report/',
        'CLINIKO_API_KEY=… cliniko-migrate run clinic.zip --config migration.json --mode live --require-approval',
      ),
    )
    .action(async (exportPath: string, options: unknown) => {
      onCode(await runCommand(exportPath, RunOptions.parse(options), out));
    });

  program
    .command('generate')
    .summary('write a synthetic Gensolve export (demos, benchmarks)')
    .description(
      'Writes a synthetic Gensolve Practice Manager export in the documented format, the same bytes for the same seed.',
    )
    .addOption(
      new Option('--patients <n>', 'how many patients (clients)').argParser(whole(1)).makeOptionMandatory(),
    )
    .addOption(new Option('--years <y>', 'years of appointment history').argParser(whole(1)).default(3))
    .addOption(
      new Option('--seed <s>', 'random seed: the same seed gives the same export')
        .argParser(whole(0))
        .default(1),
    )
    .option(
      '--clean',
      'no deliberately malformed rows (by default some rows are messy, as real exports are)',
      false,
    )
    .addOption(
      new Option(
        '--documents-mb <n>',
        'megabytes of letters and uploads, of realistic sizes (50 KB to 40 MB, PDF/JPEG/PNG-looking bytes); their number follows from it (default: a few hundred bytes each, 10 of each per 100 patients)',
      ).argParser(whole(0)),
    )
    .addOption(new Option('--out <file>', 'the zip to write').makeOptionMandatory())
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate generate --patients 500 --years 3 --out export.zip',
        'cliniko-migrate generate --patients 2000 --documents-mb 1024 --out export-1gb.zip',
      ),
    )
    .action(async (options: unknown) => {
      onCode(await generateCommand(GenerateOptions.parse(options), out));
    });

  program
    .command('sandbox')
    .summary('serve the Cliniko sandbox alone on 127.0.0.1')
    .description(
      'Starts the Cliniko sandbox server on 127.0.0.1 and prints its base URL; it serves the API under /v1 as the Cliniko API documentation describes. Ctrl-C stops it.',
    )
    .addOption(new Option('--port <n>', 'TCP port (0 picks a free one)').argParser(whole(0)).default(4010))
    .option('--shard <shard>', 'the Cliniko shard the API keys name (au1, uk2, …)', 'au1')
    .addOption(
      new Option('--rate-limit <n>', 'requests per window per user (0: no limit)')
        .argParser(whole(0))
        .default(200),
    )
    .addOption(
      new Option('--rate-window <duration>', 'the rate-limit window')
        .argParser(duration)
        .default(60_000, '60s'),
    )
    .option(
      '--faults <spec>',
      'inject failures, e.g. 5xx=0.05,429=0.02,drop-after-commit=0.01,latency=50ms (default: none)',
    )
    .addOption(
      new Option('--fault-seed <n>', 'seed of the fault injection, for repeatable failures')
        .argParser(whole(0))
        .default(1),
    )
    .option(
      '--seed <file>',
      'JSON of what a clinic creates by hand: users (with api_key), businesses, practitioners (default: one admin user, one business)',
    )
    .option(
      '--api-key <key>',
      "the first seeded user's API key (default: the sandbox key in docs/ARCHITECTURE.md)",
    )
    .option('--state <file>', 'keep the sandbox data in this JSON file between starts (default: in memory)')
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate sandbox --port 4010',
        'cliniko-migrate sandbox --rate-limit 200 --faults 5xx=0.05,429=0.02 --seed seed.json',
      ),
    )
    .action(async (options: unknown) => {
      onCode(await sandboxCommand(SandboxOptions.parse(options), out));
    });

  program
    .command('status')
    .summary("a run's state and per-entity counts")
    .description(
      'Shows whether a run is running, interrupted, failed or finished, and its counts by entity: from this machine, or with --stack from the deployed stack. Without a run id, lists the runs in the state folder on this machine, newest first.',
    )
    .argument('[runId]', 'the run id (run-…) printed when the run started; without it, the list of runs')
    .addOption(stateDirOption())
    .addOption(stackOption())
    .addOption(regionOption())
    .addOption(profileOption())
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate status',
        'cliniko-migrate status run-0123abcd…',
        'cliniko-migrate status run-0123abcd… --stack ClinikoMigrate --region ap-southeast-2 --profile clinic',
      ),
    )
    .action(async (runId: string | undefined, options: unknown) => {
      onCode(await statusCommand(runId, stackFlags(RunIdOptions.parse(options)), out));
    });

  program
    .command('report')
    .summary("a run's summary and its report files, with report.html made again")
    .description(
      "Prints a finished run's summary (counts by entity, problems, Cliniko requests) and where its report files are, and makes report.html again from report.json with this version's page: for a report lost from the terminal, or to see one again after an upgrade. Without a run id, the run started last. Reads this machine's state folder.",
    )
    .argument('[runId]', 'the run id (run-…); default: the run started last')
    .addOption(stateDirOption())
    .addHelpText(
      'after',
      examples('cliniko-migrate report', 'cliniko-migrate report run-0123abcd… --state-dir ~/clinic-state'),
    )
    .action(async (runId: string | undefined, options: unknown) => {
      onCode(await reportCommand(runId, StateDirOptions.parse(options), out));
    });

  program
    .command('approve')
    .summary('sign off a dry run so its live run may proceed')
    .description(
      'Records sign-off of a dry run and who gave it. A live run of the same export (same sha256) with the same configuration into the same Cliniko account then proceeds. A blocked dry run cannot be approved. With --stack it drops the approval marker beside the export, which starts the live run there.',
    )
    .argument('<runId>', 'the dry run to approve')
    .addOption(
      new Option('--by <name>', 'who signs off, recorded with the approval').default(osUser(), 'the OS user'),
    )
    .addOption(stateDirOption())
    .addOption(stackOption())
    .addOption(regionOption())
    .addOption(profileOption())
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate approve run-0123abcd… --by "Jo Manager"',
        'cliniko-migrate approve run-0123abcd… --stack ClinikoMigrate --region ap-southeast-2 --by "Jo Manager"',
      ),
    )
    .action(async (runId: string, options: unknown) => {
      onCode(await approveCommand(runId, stackFlags(ApproveOptions.parse(options)), out));
    });

  program
    .command('rollback')
    .summary('archive in Cliniko what a live run created')
    .description(
      "Archives in Cliniko every record a live run created, and nothing else, newest dependants first (treatment notes and attachments, appointments, patients, contacts, appointment types). A record changed in Cliniko after the run wrote it is left and listed unless --force. Running it again archives nothing more. Writes rollback-<n>.json and rollback-<n>.csv beside the run's report (numbered, none overwritten). The key (CLINIKO_API_KEY, or the clinic's secret with --stack) must belong to the run's Cliniko account.",
    )
    .argument('<runId>', 'the live run to roll back')
    .addOption(stateDirOption())
    .addOption(stackOption())
    .addOption(regionOption())
    .addOption(profileOption())
    .option('--dry-run', 'list what would be archived, archive nothing', false)
    .option('--force', 'also archive records changed in Cliniko after the run wrote them', false)
    .option(
      '--take-over',
      'remove the lease of the run holding the Cliniko account (after a confirmation)',
      false,
    )
    .option('--yes', 'confirm --take-over without asking', false)
    .option(
      '--sandbox',
      'roll back in the embedded sandbox account kept in the state folder (the default for a run made with --sandbox when no key is set)',
      false,
    )
    .option(
      '--cliniko-url <url>',
      'Cliniko API base URL overriding https://api.<shard>.cliniko.com/v1 (as the run used)',
    )
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate rollback run-0123abcd… --dry-run',
        'cliniko-migrate rollback run-0123abcd… --state-dir .cliniko-migrate',
        'cliniko-migrate rollback run-0123abcd… --stack ClinikoMigrate --profile clinic --force',
      ),
    )
    .action(async (runId: string, options: unknown) => {
      onCode(await rollbackCommand(runId, stackFlags(RollbackOptions.parse(options)), out));
    });

  program
    .command('redrive')
    .summary("send a live run's dead-lettered writes again, once the cause is fixed")
    .description(
      "Sends a live run's dead-lettered write commands (records Cliniko did not take after every retry) back to the writers, then makes the run's report again so it and `status` count them. Fix the cause first (Cliniko down, a key revoked, a refused value fixed in Cliniko). Running it again writes nothing twice: each record is looked for in Cliniko before it is created. On this machine the run's dead letters are kept in the state folder and written with the same export and Cliniko (CLINIKO_API_KEY) as the run; with --stack, the stack's dead-letter queue (only this run's messages).",
    )
    .argument('<runId>', 'the live run whose dead letters to send again')
    .addOption(stateDirOption())
    .addOption(stackOption())
    .addOption(regionOption())
    .addOption(profileOption())
    .addOption(
      new Option(
        '--wait-minutes <n>',
        'with --stack: how long to wait for the writers before remaking the report',
      )
        .argParser(whole(1))
        .default(30),
    )
    .addHelpText(
      'after',
      examples(
        'cliniko-migrate redrive run-0123abcd… --state-dir .cliniko-migrate',
        'cliniko-migrate redrive run-0123abcd… --stack ClinikoMigrate --profile clinic',
      ),
    )
    .action(async (runId: string, options: unknown) => {
      onCode(await redriveCommand(runId, stackFlags(RedriveOptions.parse(options)), out));
    });

  return program;
}

/**
 * Runs one command line (without `node` and the script). Returns the process exit code:
 * 0 done (and `--help`, `--version`), 1 a live run left records failed, 2 unusable input,
 * configuration or arguments (docs/RUNNING.md).
 */
export async function main(
  argv: string[],
  out: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  // Owner-only files (0600) and folders (0700) for all the CLI creates: state folders, the status
  // table's database files (written by its storage library, so only the umask reaches them),
  // reports (issue 23: they were 644/755, readable by every account on the machine).
  if (isMainThread) process.umask(0o077);
  let code = 0;
  const program = buildProgram(out, (c) => {
    code = c;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // Commander has already printed its message (with a hint for a mistyped option or command).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (UNUSABLE.some((E) => err instanceof E)) {
      console.error(`cliniko-migrate: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}
