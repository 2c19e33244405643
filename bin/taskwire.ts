#!/usr/bin/env node
/**
 * The Taskwire CDK app (run by `cdk synth` / `cdk deploy` through cdk.json). Everything is built
 * in lib/app.ts so the tests synthesize exactly what the CLI deploys; the CLI synthesizes the app
 * when this script ends. One stage per run: `-c stage=dev` gives the stack `Taskwire-dev`, no
 * stage the stack `Taskwire-prod` (docs/operations.md: Stages).
 */
import { createApp } from '../lib/app';

createApp();
