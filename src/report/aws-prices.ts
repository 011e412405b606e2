/**
 * AWS list prices the run projection (run-projection.ts) costs a run with: the only place a price
 * is written. USD, on-demand, without the free tier (a clinic's account may have used it up).
 *
 * Read on 2026-12-04 from AWS's pricing pages (`source` of each price). The regional pages could
 * not be read from here: every region below carries the well-known **us-east-1** list prices,
 * which is what `regional: false` says; a region's own prices may be a little higher (outside
 * us-east-1 they often are, for DynamoDB, S3 and SQS). To correct a region, replace its entry
 * with the figures of the pages below read with that region selected, set `regional: true`, and
 * change `AWS_PRICES_READ`.
 */
export interface AwsPrices {
  /** Step Functions Standard: per state transition (parent and Distributed Map child executions). */
  readonly stepFunctionsTransition: number;
  /** Lambda on Arm (Graviton, the stack's architecture): per GB-second of billed duration. */
  readonly lambdaGbSecond: number;
  /** Lambda: per invocation. */
  readonly lambdaRequest: number;
  /** SQS standard queue: per request (each 64 KiB of a request's payload is one request). */
  readonly sqsRequest: number;
  /** DynamoDB on-demand, Standard table class: per write request unit (1 KB of item written). */
  readonly dynamoWriteRequestUnit: number;
  /** DynamoDB on-demand: per read request unit (a strongly consistent read of up to 4 KB). */
  readonly dynamoReadRequestUnit: number;
  /** S3 Standard: per PUT, COPY, POST or LIST request. */
  readonly s3PutRequest: number;
  /** S3 Standard: per GET (and every other) request. */
  readonly s3GetRequest: number;
  /** S3 Standard: per GB-month stored (first 50 TB). */
  readonly s3GbMonth: number;
  /** Secrets Manager: per API call (the secret's own $0.40 a month is the deployment's, not a run's). */
  readonly secretsManagerApiCall: number;
  /** KMS: per request to a customer managed key (the key's $1 a month is the deployment's). */
  readonly kmsRequest: number;
  /** CloudWatch Logs: per GB ingested (the functions' and the state machine's logs). */
  readonly logsGbIngested: number;
}

/** When the prices below were read. */
export const AWS_PRICES_READ = '2026-12-04';

/** Where each price comes from. */
export const AWS_PRICE_SOURCES: Readonly<Record<keyof AwsPrices, string>> = {
  stepFunctionsTransition: 'https://aws.amazon.com/step-functions/pricing/',
  lambdaGbSecond: 'https://aws.amazon.com/lambda/pricing/',
  lambdaRequest: 'https://aws.amazon.com/lambda/pricing/',
  sqsRequest: 'https://aws.amazon.com/sqs/pricing/',
  dynamoWriteRequestUnit: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  dynamoReadRequestUnit: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  s3PutRequest: 'https://aws.amazon.com/s3/pricing/',
  s3GetRequest: 'https://aws.amazon.com/s3/pricing/',
  s3GbMonth: 'https://aws.amazon.com/s3/pricing/',
  secretsManagerApiCall: 'https://aws.amazon.com/secrets-manager/pricing/',
  kmsRequest: 'https://aws.amazon.com/kms/pricing/',
  logsGbIngested: 'https://aws.amazon.com/cloudwatch/pricing/',
};

/** us-east-1 (N. Virginia) list prices, as read on {@link AWS_PRICES_READ}. */
const US_EAST_1: AwsPrices = {
  stepFunctionsTransition: 0.025 / 1000,
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  sqsRequest: 0.4 / 1_000_000,
  dynamoWriteRequestUnit: 0.625 / 1_000_000,
  dynamoReadRequestUnit: 0.125 / 1_000_000,
  s3PutRequest: 0.005 / 1000,
  s3GetRequest: 0.0004 / 1000,
  s3GbMonth: 0.023,
  secretsManagerApiCall: 0.05 / 10_000,
  kmsRequest: 0.03 / 10_000,
  logsGbIngested: 0.5,
};

export interface RegionPrices {
  readonly region: string;
  readonly prices: AwsPrices;
  /** False: the region carries us-east-1's list prices (see the file's note). */
  readonly regional: boolean;
}

/** The regions the README deploys to (the Cliniko shards' countries), with their prices. */
export const AWS_PRICES: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': { region: 'us-east-1', prices: US_EAST_1, regional: true },
  'ap-southeast-2': { region: 'ap-southeast-2', prices: US_EAST_1, regional: false },
  'eu-west-2': { region: 'eu-west-2', prices: US_EAST_1, regional: false },
  'ca-central-1': { region: 'ca-central-1', prices: US_EAST_1, regional: false },
};

/** The region a projection assumes when none is known (the README's first example). */
export const DEFAULT_PRICE_REGION = 'ap-southeast-2';

/**
 * The prices of `region` (an AWS region code, e.g. `eu-west-2`); a region not listed gets
 * us-east-1's, with `regional: false`. Never throws.
 */
export function pricesFor(region: string | undefined): RegionPrices {
  const r = region || DEFAULT_PRICE_REGION;
  return AWS_PRICES[r] ?? { region: r, prices: US_EAST_1, regional: false };
}
