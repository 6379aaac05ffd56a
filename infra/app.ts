// The CDK app the CLI runs (`npx cdk synth`, `npx cdk deploy`): both stacks, held to cdk-nag on every synth.

import { App } from 'aws-cdk-lib';
import { addNagChecks, buildCuLedger } from './cu-ledger-app';

const app = new App();
buildCuLedger(app);
addNagChecks(app);
app.synth();
