/** Runs one memory figure in this fresh process and prints it as JSON: `idle`, `pending` or `pending-floor`. */
import { benchIdleManagers, benchPending, benchPendingFloor } from './memory.js';

const figures = { idle: benchIdleManagers, pending: benchPending, 'pending-floor': benchPendingFloor };
const figure = process.argv[2] as keyof typeof figures | undefined;
const result = figure !== undefined && figure in figures ? await figures[figure]() : undefined;
if (result === undefined) throw new Error(`Unknown figure ${String(figure)}`);
console.log(JSON.stringify(result));
