import { join, resolve } from 'node:path';

/** The repository root: this file runs as dist/bench/lib/paths.js. */
export const ROOT = resolve(__dirname, '..', '..', '..');
export const API_SCRIPT = join(ROOT, 'dist', 'src', 'main.js');
export const WORKER_SCRIPT = join(ROOT, 'dist', 'src', 'worker.js');
export const BARE_SCRIPT = join(ROOT, 'dist', 'bench', 'bare-app.js');
export const DATA_SOURCE = join(ROOT, 'dist', 'src', 'database', 'data-source.js');
export const TYPEORM_CLI = join(ROOT, 'node_modules', 'typeorm', 'cli.js');
