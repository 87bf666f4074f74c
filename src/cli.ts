#!/usr/bin/env node
/**
 * The `restart-manager` bin.
 *
 * @packageDocumentation
 */
import { runCli } from './cli/run.js';

process.exitCode = await runCli(process.argv.slice(2));
