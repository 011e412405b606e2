import { createApp } from '../lib/app.js';
import { ResidencyError } from '../lib/residency.js';

// `cdk synth` / `cdk deploy`: the stack, checked against where the clinics' data may live.
try {
  createApp().synth();
} catch (err) {
  if (!(err instanceof ResidencyError)) throw err;
  console.error(`cliniko-migrate: ${err.message}`);
  process.exit(1);
}
