import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The lock file CDK derives the project root from, found beside this code and never from the
 * working directory, so the stack synthesizes from any folder (`run` from ~/exports). An installed
 * package has no lock file (npm does not publish one); it never bundles (the local runner runs
 * the sources), so its package.json stands in.
 */
export function depsLockFile(root = ROOT): string {
  const lock = join(root, 'package-lock.json');
  return existsSync(lock) ? lock : join(root, 'package.json');
}

/** CloudFormation metadata naming the handler's source, so the local runner runs the same file. */
export const HANDLER_METADATA = 'cliniko-migrate:handler';

export interface MigrationFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts`. */
  readonly name: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  readonly key: IKey;
  /** Days to keep logs. */
  readonly logRetention: RetentionDays;
  /** Where failed asynchronous invocations go (functions invoked by EventBridge). */
  readonly deadLetterQueue?: IQueue;
  /** Files the code reads at run time (fonts), copied into the bundle's `folder`. */
  readonly files?: { readonly folder: string; readonly paths: readonly string[] };
  /** Instances reserved for it (and at most that many at once). */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One place for what every Lambda shares: Node.js 24 on ARM (Node 20 is past its end of life;
 * the same code still runs locally on 20), JSON logs, X-Ray tracing, an encrypted log group with a
 * retention, and esbuild bundling with the local esbuild (no Docker).
 */
export class MigrationFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: MigrationFunctionProps) {
    const entry = join(ROOT, 'lambdas', props.name, 'handler.ts');
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry,
      depsLockFilePath: depsLockFile(),
      projectRoot: ROOT,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 512,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.reservedConcurrentExecutions
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'cliniko-migrate',
        ...props.environment,
      },
      bundling: {
        // ESM sources, CommonJS bundle: the SDK and Powertools both ship it, and it needs no require shim.
        format: OutputFormat.CJS,
        target: 'node24',
        sourceMap: true,
        minify: true,
        // esbuild's size summary flags every bundle over 1 MB (the SDK is bundled on purpose, above):
        // noise at every synth, so only its warnings and errors are shown.
        logLevel: LogLevel.WARNING,
        // The SDK v3 is in the runtime; bundling our pinned version keeps behaviour identical to tests.
        externalModules: [],
        loader: { '.json': 'json' },
        // pdfkit's ESM build finds its data by import.meta.url, which a CommonJS bundle lacks.
        // Code that finds files by import.meta.url (fonts outside a bundle) is not reached in one:
        // bundles name their files' folder in the environment.
        esbuildArgs: {
          '--alias:pdfkit': join(ROOT, 'node_modules', 'pdfkit', 'js', 'pdfkit.js'),
          '--log-override:empty-import-meta': 'silent',
        },
        ...(props.files ? { commandHooks: copyFiles(props.files) } : {}),
      },
    });
    (this.node.defaultChild as { addMetadata?: (k: string, v: unknown) => void }).addMetadata?.(
      HANDLER_METADATA,
      `lambdas/${props.name}/handler.ts`,
    );
  }
}

function copyFiles(files: { readonly folder: string; readonly paths: readonly string[] }) {
  const q = (p: string) => `'${p.replace(/'/g, "'\\''")}'`;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_input: string, output: string) => [
      `mkdir -p ${q(join(output, files.folder))}`,
      ...files.paths.map((p) => `cp ${q(p)} ${q(join(output, files.folder))}/`),
    ],
  };
}
