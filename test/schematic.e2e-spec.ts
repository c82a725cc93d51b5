import { ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..');
/** Installed, built or local state: never copied (node_modules is linked instead). */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', '.data', 'coverage']);
/** A singular PascalCase name, so the run covers pluralizing (-y to -ies) and every case form. */
const FEATURE_NAME = 'AuditEntry';
const STEP_TIMEOUT = 5 * 60_000;

// The steps run the typecheck, ESLint and Jest over a copy of the repository: minutes on CI.
jest.setTimeout(STEP_TIMEOUT + 30_000);

/** What `feature AuditEntry` must write, besides its migration. */
const FEATURE_FILES = [
  'src/audit-entries/audit-entry.entity.ts',
  'src/audit-entries/audit-entries.module.ts',
  'src/audit-entries/audit-entries.controller.ts',
  'src/audit-entries/audit-entries.service.ts',
  'src/audit-entries/audit-entries.service.spec.ts',
  'src/audit-entries/dto/create-audit-entry.dto.ts',
  'src/audit-entries/dto/update-audit-entry.dto.ts',
  'src/audit-entries/dto/audit-entry-response.dto.ts',
  'src/audit-entries/dto/audit-entry-page.dto.ts',
  'src/audit-entries/dto/list-audit-entries.query.ts',
  'test/audit-entries.e2e-spec.ts',
];

interface Run {
  code: number | null;
  output: string;
}

interface JestResults {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { status: string }[] }[];
}

/** Steps still running; each leads a process group of its own, ended with it. */
const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs a command in `cwd` and resolves (never rejects) with its exit code and output, so a
 * failed step shows why. Past the timeout the whole process group is killed: npm and Jest
 * leave grandchildren that would outlive a kill of the direct child.
 */
function run(cwd: string, command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = `$ ${command} ${args.join(' ')}\n`;
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${STEP_TIMEOUT} ms]`;
      killGroup(child);
    }, STEP_TIMEOUT);
    child.once('error', (error) => (output += `\n${error.message}`));
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, output });
    });
  });
}

/** A tool of the repository (node_modules/.bin), run by this Node. */
function tool(copy: string, name: string, args: string[]): Promise<Run> {
  return run(copy, process.execPath, [join(copy, 'node_modules', '.bin', name), ...args]);
}

/** The run as it should have gone: compared with toEqual, a failure shows the output. */
function succeeded(result: Run): Run {
  return { code: 0, output: result.output };
}

/** The repository as it stands (work in progress included), without installs or builds. */
function copyRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), 'keel-schematic-'));
  cpSync(ROOT, copy, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(relative(ROOT, source).split(sep)[0]),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

/** Jest in the copy on exactly these files, with its --json report. */
async function runJest(
  copy: string,
  files: string[],
  extra: string[] = [],
): Promise<Run & { results?: JestResults }> {
  const outputFile = join(copy, `jest-${Date.now()}.json`);
  const result = await tool(copy, 'jest', [
    '--ci',
    '--runInBand',
    '--json',
    `--outputFile=${outputFile}`,
    ...extra,
    '--runTestsByPath',
    ...files,
  ]);
  if (!existsSync(outputFile)) return result;
  return { ...result, results: JSON.parse(readFileSync(outputFile, 'utf8')) as JestResults };
}

/**
 * What a test compares of a Jest run: exit code, failures, and the files that ran tests and
 * passed them all (not merely skipped them). The output rides along to explain a failure.
 */
function summary(copy: string, result: Run & { results?: JestResults }) {
  const statuses = (suite: JestResults['testResults'][number]) =>
    suite.assertionResults.map((test) => test.status);
  return {
    code: result.code,
    failed: result.results?.numFailedTests,
    passedSuites: (result.results?.testResults ?? [])
      .filter((suite) => statuses(suite).includes('passed') && !statuses(suite).includes('failed'))
      .map((suite) => relative(copy, suite.name).split(sep).join('/'))
      .sort(),
    output: result.output,
  };
}

function migrations(copy: string): string[] {
  return readdirSync(join(copy, 'migrations')).sort();
}

describe('Project schematics', () => {
  let copy: string;
  let migrationsBefore: string[];
  let generated: Run;

  beforeAll(async () => {
    copy = copyRepository();
    migrationsBefore = migrations(copy);
    // The documented command, `npx schematics ./schematics:feature <name> --no-debug`.
    generated = await tool(copy, 'schematics', [
      './schematics:feature',
      FEATURE_NAME,
      '--no-debug',
    ]);
  });

  afterAll(() => {
    for (const child of running) killGroup(child);
    rmSync(copy, { recursive: true, force: true });
  });

  it('generates the entity, DTOs, service, controller, module, migration and specs', () => {
    expect(generated).toEqual(succeeded(generated));
    expect(FEATURE_FILES.filter((file) => !existsSync(join(copy, file)))).toEqual([]);

    const added = migrations(copy).filter((file) => !migrationsBefore.includes(file));
    expect(added).toEqual([expect.stringMatching(/^\d{13}-CreateAuditEntries\.ts$/)]);
    const timestamp = (file: string) => Number(file.split('-')[0]);
    const newest = Math.max(...migrationsBefore.map(timestamp));
    expect(timestamp(added[0])).toBeGreaterThan(newest);
  });

  it('registers the module last in the imports of AppModule.forRoot', () => {
    const appModule = readFileSync(join(copy, 'src/app.module.ts'), 'utf8');
    expect(appModule).toContain(
      "import { AuditEntriesModule } from './audit-entries/audit-entries.module';",
    );
    expect(appModule).toMatch(/\n\s+AuditEntriesModule,\n\s+\],\n/);
    // Imported once and listed once: not also in the @Module() decorator, as `nest g module` does.
    expect(appModule.match(/\bAuditEntriesModule\b/g)).toHaveLength(2);
  });

  it('writes files that pass ESLint and Prettier as generated', async () => {
    const files = [
      ...FEATURE_FILES,
      `migrations/${migrations(copy).find((file) => file.endsWith('-CreateAuditEntries.ts'))}`,
      'src/app.module.ts',
    ];
    const eslint = await tool(copy, 'eslint', ['--max-warnings=0', ...files]);
    expect(eslint).toEqual(succeeded(eslint));
    const prettier = await tool(copy, 'prettier', ['--check', ...files]);
    expect(prettier).toEqual(succeeded(prettier));
  });

  it('lets plain `nest g service <name>` land the service and its spec in src/<name>/', async () => {
    const service = await tool(copy, 'nest', ['g', 'service', 'widgets']);
    expect(service).toEqual(succeeded(service));
    expect(readdirSync(join(copy, 'src/widgets')).sort()).toEqual([
      'widgets.service.spec.ts',
      'widgets.service.ts',
    ]);
  });

  it('typechecks, generated code included', async () => {
    const typecheck = await run(copy, 'npm', ['run', 'typecheck']);
    expect(typecheck).toEqual(succeeded(typecheck));
  });

  it('passes its unit and e2e specs on the real services, and so does the nest g spec', async () => {
    const specs = [
      'src/audit-entries/audit-entries.service.spec.ts',
      'src/widgets/widgets.service.spec.ts',
      'test/audit-entries.e2e-spec.ts',
    ];
    const result = await runJest(copy, specs);
    expect(summary(copy, result)).toEqual({
      code: 0,
      failed: 0,
      passedSuites: specs,
      output: result.output,
    });
    expect(result.results?.numPassedTests).toBeGreaterThan(0);
  });

  it("passes the database suite's drift test: its migration matches its entity", async () => {
    const result = await runJest(
      copy,
      ['test/database.e2e-spec.ts'],
      ['--testNamePattern', 'run, revert completely'],
    );
    expect(summary(copy, result)).toEqual({
      code: 0,
      failed: 0,
      passedSuites: ['test/database.e2e-spec.ts'],
      output: result.output,
    });
    expect(result.results?.numPassedTests).toBeGreaterThan(0);
  });
});
