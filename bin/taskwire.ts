#!/usr/bin/env node
/**
 * The Taskwire CDK app (run by `cdk synth` / `cdk deploy` through cdk.json). Everything is built
 * in lib/app.ts so the tests synthesize exactly what the CLI deploys; the CLI synthesizes the app
 * when this script ends.
 */
import { createApp } from '../lib/app';

createApp();
