/** Runs one memory figure (`idle`, `pending` or `pending-floor`) in this fresh process and prints it as JSON. */
import { type MemoryFigure, memoryFigures } from './memory.js';

const figure = process.argv[2];
if (figure === undefined || !(figure in memoryFigures)) throw new Error(`Unknown figure ${String(figure)}`);
console.log(JSON.stringify(await memoryFigures[figure as MemoryFigure]()));
