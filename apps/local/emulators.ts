import { createServer, type Server } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { Worker } from 'node:worker_threads';
import { interceptLocalhostDns } from 'fauxqs';
import { z } from 'zod';
import { parseAt } from '../../src/core/boundary.js';
import { THREAD_ENTRY } from './handler-thread.js';
import { startS3Front } from './s3-front.js';

/** What the emulators' thread answers once dynalite and fauxqs listen. */
const EmulatorPorts = z.object({ dynamoPort: z.number(), fauxqsPort: z.number() });

/**
 * The AWS services the pipeline uses, on this machine: dynalite (DynamoDB), fauxqs (S3 and SQS)
 * and small Secrets Manager and CloudFormation stand-ins (no npm emulator exists for them; the
 * CLI's `--stack` reads a stack's outputs). Handlers and the CLI use the real AWS SDK clients,
 * pointed here through AWS_ENDPOINT_URL_<SERVICE>.
 */
export interface Emulators {
  readonly endpoints: {
    dynamodb: string;
    s3: string;
    sqs: string;
    secretsManager: string;
    cloudFormation: string;
  };
  readonly secrets: Map<string, string>;
  /** Stacks by name, with their outputs (`BucketName`, `StatusTableName`), as DescribeStacks answers. */
  readonly stacks: Map<string, Record<string, string>>;
  readonly env: Record<string, string>;
  /**
   * Makes the object `bucket`/`key` the file at `path`, read in place (s3-front.ts): the export,
   * whatever its size, is never put into fauxqs nor held in memory.
   */
  serveFile(bucket: string, key: string, path: string): void;
  stop(): Promise<void>;
}

/** Listens on a free port of the loopback interface; resolves to the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** GetSecretValue and DescribeSecret in the AWS JSON 1.1 protocol, from an in-memory map. */
function secretsServer(secrets: Map<string, string>): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      const value = SecretId ? secrets.get(SecretId) : undefined;
      res.setHeader('Content-Type', 'application/x-amz-json-1.1');
      if (value === undefined) {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          }),
        );
        return;
      }
      const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}`;
      res.end(
        JSON.stringify(
          target.endsWith('GetSecretValue')
            ? { ARN: arn, Name: SecretId, SecretString: value, VersionId: 'local' }
            : { ARN: arn, Name: SecretId },
        ),
      );
    });
  });
}

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * DescribeStacks in CloudFormation's query protocol (form-encoded request, XML answer), from an
 * in-memory map of stacks and their outputs; an unknown stack is CloudFormation's ValidationError.
 */
function cloudFormationServer(stacks: Map<string, Record<string, string>>): Server {
  const ns = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const name = form.get('StackName') ?? '';
      const outputs = stacks.get(name);
      res.setHeader('Content-Type', 'text/xml');
      if (form.get('Action') !== 'DescribeStacks' || !outputs) {
        res.statusCode = 400;
        res.end(
          `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xml(name)} does not exist</Message></Error><RequestId>local</RequestId></ErrorResponse>`,
        );
        return;
      }
      const members = Object.entries(outputs)
        .map(
          ([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`,
        )
        .join('');
      res.end(
        `<DescribeStacksResponse xmlns="${ns}"><DescribeStacksResult><Stacks><member><StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${xml(name)}/local</StackId><CreationTime>2024-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      );
    });
  });
}

/**
 * Starts a server whose library binds every interface (fauxqs listens on 0.0.0.0 whatever its
 * `host` option says) on the loopback interface instead: the emulators hold the clinic's export
 * and notes PDFs, which nobody else on the network may read (issue 14, docs/DATA-PROTECTION.md).
 * A wildcard host passed to `listen` while `start` runs becomes 127.0.0.1.
 */
export async function onLoopback<T>(start: () => Promise<T>): Promise<T> {
  const original = NetServer.prototype.listen;
  const wildcard = new Set(['0.0.0.0', '::', '']);
  NetServer.prototype.listen = function (this: NetServer, ...args: unknown[]) {
    const [first] = args;
    if (first && typeof first === 'object' && 'host' in first) {
      const host = (first as { host?: unknown }).host;
      if (typeof host === 'string' && wildcard.has(host)) args[0] = { ...first, host: '127.0.0.1' };
    }
    return Reflect.apply(original, this, args) as NetServer;
  } as typeof original;
  try {
    return await start();
  } finally {
    NetServer.prototype.listen = original;
  }
}

let dnsIntercepted = false;

/**
 * Starts the emulators. dynalite and fauxqs run on a thread of their own (their answers to the
 * writers' and mappers' requests are work a thread apart, as the services are apart on AWS); the
 * two small stand-ins answer from this one. With `statePath`, the status table lives on disk
 * there: a later run knows what earlier ones wrote.
 */
export async function startEmulators(options: { statePath?: string } = {}): Promise<Emulators> {
  // fauxqs answers with queue URLs on sqs.<region>.localhost, which this machine's resolver does not know.
  if (!dnsIntercepted) {
    interceptLocalhostDns();
    dnsIntercepted = true;
  }
  const thread = new Worker(THREAD_ENTRY, {
    env: { ...process.env },
    workerData: {
      module: new URL('./emulator-thread-serve.ts', import.meta.url).href,
      data: options.statePath ? { statePath: options.statePath } : {},
    },
  });
  const ports = await new Promise<z.output<typeof EmulatorPorts>>((resolve, reject) => {
    thread.once('message', (m: unknown) => resolve(parseAt('emulators thread answer', EmulatorPorts, m)));
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the emulators thread stopped (exit ${code})`)));
  });
  thread.removeAllListeners('error').removeAllListeners('exit');
  let threadExited = false;
  thread.once('exit', () => {
    threadExited = true;
  });
  // Should the emulators fail later, the steps' calls to them fail and the run ends in a report
  // naming the step; the thread's own error is said here rather than ending the process.
  thread.on('error', (err) => process.emitWarning(`the local AWS emulators failed: ${err.message}`));
  const secrets = new Map<string, string>();
  const secretsHttp = secretsServer(secrets);
  const secretsPort = await listen(secretsHttp);
  const stacks = new Map<string, Record<string, string>>();
  const cloudFormationHttp = cloudFormationServer(stacks);
  const cloudFormationPort = await listen(cloudFormationHttp);
  const s3Front = await startS3Front(ports.fauxqsPort);
  const endpoints = {
    dynamodb: `http://127.0.0.1:${ports.dynamoPort}`,
    s3: s3Front.url,
    sqs: `http://sqs.us-east-1.localhost:${ports.fauxqsPort}`,
    secretsManager: `http://127.0.0.1:${secretsPort}`,
    cloudFormation: `http://127.0.0.1:${cloudFormationPort}`,
  };
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: s3Front.url,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_ENDPOINT_URL_CLOUDFORMATION: endpoints.cloudFormation,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_SDK_LOAD_CONFIG: '0',
  };
  return {
    endpoints,
    secrets,
    stacks,
    env,
    serveFile: (bucket, key, path) => s3Front.serveFile(bucket, key, path),
    stop: async () => {
      await s3Front.close();
      // dynalite closes its store on disk before the thread ends (a thread that failed has ended)
      if (!threadExited) {
        const stopped = new Promise<void>((resolve) => {
          thread.once('message', () => resolve());
          thread.once('exit', () => resolve());
        });
        thread.postMessage('stop');
        await stopped;
      }
      await thread.terminate();
      await new Promise<void>((r) => secretsHttp.close(() => r()));
      await new Promise<void>((r) => cloudFormationHttp.close(() => r()));
    },
  };
}
