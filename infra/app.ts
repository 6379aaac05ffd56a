// The CDK app the CLI runs (`npx cdk synth`, `npx cdk deploy`): both stacks, held to cdk-nag on every synth.

import { App } from 'aws-cdk-lib';
import { addNagChecks, buildCuLedger } from './cu-ledger-app';
import { InvalidContextError } from './deployment-config';

const app = new App();
try {
  buildCuLedger(app);
} catch (error) {
  // A bad -c value is the deployer's to fix: one line naming the key, not a stack trace.
  if (!(error instanceof InvalidContextError)) throw error;
  console.error(error.message);
  process.exit(1);
}
addNagChecks(app);
app.synth();
