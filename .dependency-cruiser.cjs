// Layering rules (issue 12, docs/ARCHITECTURE.md), run by `npm run lint:layers` inside `npm test`.
// A module may import from its own layer's folder and from lower layers, never from a higher one.
// Layers, lowest first; folders on one line share a rank and may import each other (no cycles).
const LAYERS = [
  ['src/core'], // vocabulary every layer shares; imports nothing of ours
  ['src/source', 'src/config', 'src/cliniko'], // reading the export; migration.json; the Cliniko API client
  ['src/translate', 'src/documents', 'src/lease'], // rows to the canonical model; notes PDFs; the account's lease
  ['src/resolve', 'src/mapping', 'src/ports'], // references; canonical to Cliniko bodies; the pipeline's ports
  ['src/report', 'src/reconcile'], // report files and aids; reading what the account holds
  ['src/batch', 'src/rollback'], // the one batch core (dry run and MapBatch); rollback
  ['src/adapters'], // AWS SDK adapters of the ports
  ['lambdas'], // thin handlers over the cores
  ['lib'], // the CDK stack
  ['apps', 'bin'], // the CLI, the local runtime, the Cliniko sandbox, the export generator
  ['bench', 'tools'],
];

const folder = (f) => `^${f.replace(/[/.]/g, '\\$&')}/`;
const higher = (rank) =>
  LAYERS.slice(rank + 1)
    .flat()
    .map(folder);

const upward = LAYERS.flatMap((group, rank) =>
  rank === LAYERS.length - 1
    ? []
    : [
        {
          name: `layer-${group.join('+').replace(/src\//g, '')}`,
          comment: `${group.join(', ')} may import only from lower layers (see LAYERS in .dependency-cruiser.cjs)`,
          severity: 'error',
          from: { path: group.map(folder) },
          to: { path: higher(rank) },
        },
      ],
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'A cycle hides which module is the lower one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lambda-imports-another-lambda',
      comment: 'Each Lambda folder is one function; what two share lives in src/ (or lambdas/shared).',
      severity: 'error',
      from: { path: '^lambdas/([^/]+)/' },
      to: { path: '^lambdas/([^/]+)/', pathNot: ['^lambdas/$1/', '^lambdas/shared/'] },
    },
    {
      name: 'domain-imports-aws',
      comment: 'Domain code never imports the AWS SDK, Powertools or the CDK; adapters do.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/adapters/' },
      to: { path: ['@aws-sdk/', '@aws-lambda-powertools/', 'aws-cdk-lib', 'constructs'] },
    },
    {
      name: 'apps-stay-apart',
      comment:
        'The sandbox is a stand-in for Cliniko and the local runtime a stand-in for AWS: neither knows the CLI.',
      severity: 'error',
      from: { path: ['^apps/sandbox/', '^apps/local/', '^apps/generate/'] },
      to: { path: '^apps/cli/' },
    },
    {
      name: 'sandbox-knows-no-pipeline',
      comment:
        'The sandbox honours the Cliniko contract only; it imports no pipeline code but the client constants.',
      severity: 'error',
      from: { path: '^apps/sandbox/' },
      to: { path: ['^apps/(local|generate)/', '^lambdas/', '^lib/', '^src/(?!core/|cliniko/)'] },
    },
    {
      name: 'not-to-test',
      comment: 'Production code never imports test code.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['src/cliniko/generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
