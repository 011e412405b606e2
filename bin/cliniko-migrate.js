#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step): tsx registers a loader for .ts modules.
import { register } from 'tsx/esm/api';

register();
// Local runs support Node 20 on purpose (the Lambdas run Node 24): the SDK's notice that future
// versions will need Node 22 is for us, not for the clinic's operator reading the progress.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await import('./cliniko-migrate.ts');
