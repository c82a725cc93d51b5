import 'reflect-metadata';
import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment, IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import {
  HorizontalPodAutoscaler,
  IHorizontalPodAutoscaler,
} from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { IJob, Job } from 'kubernetes-models/batch/v1/Job';
import {
  IPodDisruptionBudget,
  PodDisruptionBudget,
} from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { ISecret, Secret } from 'kubernetes-models/v1/Secret';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { IService, Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { MetricsController } from '../src/common/metrics/metrics.controller';
import { ConfigValidationError, loadConfig, SECRET_VARIABLES } from '../src/config/load-config';
import { HealthController } from '../src/health/health.controller';

const root = join(__dirname, '..');
const K8S = 'deploy/k8s';
const read = (file: string) => readFileSync(join(root, file), 'utf8');

const DATA_SOURCE = 'dist/src/database/data-source.js';
const SECRET_NAME = 'keel-secrets';
/** Files beside the kustomization that it must not apply (see its header). */
const NOT_APPLIED = ['secret.example.yaml', 'migration-job.yaml'];
/** The API's cold start (Nest boot, database and Redis connections) on a small node. */
const COLD_START_S = 2;
/** PostgreSQL's default max_connections, which every pool together must stay under. */
const POSTGRES_MAX_CONNECTIONS = 100;

/** Validators from the official Kubernetes OpenAPI schemas, by `apiVersion/kind`. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

/*
 * The schemas let unknown fields through (as the API server does by default, with a warning), so
 * a misspelt field would pass unnoticed. These are the fields the manifests may use, each checked
 * by the compiler against the official types: add one here when a manifest needs it.
 */
const CONTAINER_FIELDS = [
  'name',
  'image',
  'command',
  'ports',
  'envFrom',
  'env',
  'startupProbe',
  'livenessProbe',
  'readinessProbe',
  'lifecycle',
  'resources',
  'securityContext',
  'volumeMounts',
] as const satisfies readonly (keyof IContainer)[];
const POD_SPEC_FIELDS = [
  'containers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'automountServiceAccountToken',
  'enableServiceLinks',
  'securityContext',
  'topologySpreadConstraints',
  'volumes',
] as const satisfies readonly (keyof IPodSpec)[];
const PROBE_FIELDS = [
  'httpGet',
  'periodSeconds',
  'timeoutSeconds',
  'failureThreshold',
] as const satisfies readonly (keyof IProbe)[];
const SECURITY_CONTEXT_FIELDS = [
  'runAsNonRoot',
  'runAsUser',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'capabilities',
  'seccompProfile',
] as const satisfies readonly (keyof ISecurityContext)[];

interface Manifest {
  file: string;
  object: { apiVersion?: string; kind?: string; metadata?: { name?: string } };
}

/** Every YAML document under deploy/k8s except the kustomization, with its file name. */
function loadManifests(): Manifest[] {
  const files = readdirSync(join(root, K8S)).filter(
    (file) => file.endsWith('.yaml') && file !== 'kustomization.yaml',
  );
  return files.flatMap((file) =>
    parseAllDocuments(read(join(K8S, file))).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.join('; ')}`);
      return { file, object: document.toJS() as Manifest['object'] };
    }),
  );
}

/** GET routes of a controller as full paths (the app has no global prefix; these are unversioned). */
function routesOf(controller: Type): string[] {
  const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype).flatMap((name) => {
    const handler = prototype[name];
    if (typeof handler !== 'function') return [];
    if (Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.GET) return [];
    const path = Reflect.getMetadata(PATH_METADATA, handler) as string;
    return [`/${[base, path].filter((part) => part !== '/').join('/')}`];
  });
}

function unknownFields(object: object | undefined, allowed: readonly string[]): string[] {
  return Object.keys(object ?? {}).filter((key) => !allowed.includes(key));
}

function labelsMatch(selector: Record<string, string> | undefined, labels = {}): boolean {
  return Object.entries(selector ?? {}).every(
    ([key, value]) => (labels as Record<string, string>)[key] === value,
  );
}

/** The container port a probe or Service names, by name or number. */
function portNumber(container: IContainer, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** CPU in cores, memory in bytes. */
function quantity(value: string | number | undefined): number {
  const [, amount, unit = ''] = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(value)) ?? [];
  expect(amount).toBeDefined();
  const scale: Record<string, number> = { '': 1, m: 0.001, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  return Number(amount) * scale[unit];
}

/** `sleep N` in a preStop hook, as an exec command or the native sleep action; 0 without one. */
function preStopSleepSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const [program, seconds] = preStop?.exec?.command ?? [];
  return program === 'sleep' ? Number(seconds) : 0;
}

describe('deploy/k8s', () => {
  const manifests = loadManifests();
  /** The one object of a kind (and name): a missing or duplicated one fails the whole suite. */
  const find = <T>(kind: string, name?: string): T => {
    const found = manifests.filter(
      (m) => m.object.kind === kind && (name === undefined || m.object.metadata?.name === name),
    );
    if (found.length !== 1)
      throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length}`);
    return found[0].object as T;
  };

  const api = find<IDeployment>('Deployment', 'keel-api');
  const worker = find<IDeployment>('Deployment', 'keel-worker');
  const job = find<IJob>('Job');
  const service = find<IService>('Service', 'keel-api');
  const hpa = find<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler', 'keel-api');
  const pdb = find<IPodDisruptionBudget>('PodDisruptionBudget', 'keel-api');
  const workerPdb = find<IPodDisruptionBudget>('PodDisruptionBudget', 'keel-worker');
  const configMap = find<IConfigMap>('ConfigMap', 'keel-config');
  const secretExample = find<ISecret>('Secret', SECRET_NAME);

  const apiPod = api.spec?.template.spec ?? { containers: [] };
  const workerPod = worker.spec?.template.spec ?? { containers: [] };
  const jobPod = job.spec?.template.spec ?? { containers: [] };
  const pods: [string, IPodSpec][] = [
    ['api', apiPod],
    ['worker', workerPod],
    ['migration', jobPod],
  ];
  const containers = pods.flatMap(([, pod]) =>
    pod.containers.map((c): [IPodSpec, IContainer] => [pod, c]),
  );
  const [apiContainer] = apiPod.containers;
  const [workerContainer] = workerPod.containers;
  const [migrateContainer] = jobPod.containers;
  const secretValues = { ...secretExample.stringData };
  const strongSecrets = {
    ...secretValues,
    JWT_SECRET: randomBytes(48).toString('base64'),
    WEBHOOK_SIGNING_SECRET: randomBytes(48).toString('base64'),
  };

  let secretsDir: string;
  beforeAll(() => {
    secretsDir = mkdtempSync(join(tmpdir(), 'keel-k8s-'));
  });
  afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

  /**
   * A container's environment as the app reads it: the ConfigMaps of envFrom and the env values,
   * each <NAME>_FILE checked to point into the mounted Secret and redirected to a local file
   * holding `secrets[NAME]`.
   */
  function appEnvironment(
    pod: IPodSpec,
    container: IContainer,
    secrets: Record<string, string>,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      expect(source.configMapRef?.name).toBe(configMap.metadata?.name);
      Object.assign(env, configMap.data);
    }
    for (const variable of container.env ?? []) {
      expect(variable.valueFrom).toBeUndefined();
      env[variable.name] = variable.value ?? '';
    }
    const volume = pod.volumes?.find((v) => v.secret?.secretName === SECRET_NAME);
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    for (const name of Object.keys(env).filter((n) => n.endsWith('_FILE'))) {
      const secret = name.slice(0, -'_FILE'.length);
      expect(env[name]).toBe(`${mount?.mountPath}/${secret}`);
      env[name] = join(secretsDir, `${container.name}-${secret}`);
      writeFileSync(env[name], secrets[secret] ?? '');
    }
    return env;
  }

  it('has only objects that are valid against the official Kubernetes schemas', () => {
    const problems = manifests.flatMap(({ file, object }) => {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (!Model) return [`${file}: no schema for ${object.apiVersion} ${object.kind}`];
      try {
        new Model(object as never).validate();
        return [];
      } catch (error) {
        return [`${file}: ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  it('uses only the listed, type-checked fields in pods, containers, probes and security contexts', () => {
    const unknown = pods.flatMap(([component, pod]) => [
      ...unknownFields(pod, POD_SPEC_FIELDS).map((f) => `${component} pod: ${f}`),
      ...pod.containers.flatMap((c) => [
        ...unknownFields(c, CONTAINER_FIELDS).map((f) => `${c.name}: ${f}`),
        ...unknownFields(c.securityContext, SECURITY_CONTEXT_FIELDS).map(
          (f) => `${c.name} securityContext: ${f}`,
        ),
        ...[c.startupProbe, c.livenessProbe, c.readinessProbe].flatMap((probe) =>
          unknownFields(probe, PROBE_FIELDS).map((f) => `${c.name} probe: ${f}`),
        ),
      ]),
    ]);
    expect(unknown).toEqual([]);
  });

  describe('kustomization.yaml', () => {
    const kustomization = parse(read(join(K8S, 'kustomization.yaml'))) as {
      resources?: string[];
      images?: { name: string; newName?: string; newTag?: string }[];
    };

    it('applies every manifest but the Secret example and the migration Job', () => {
      const expected = [...new Set(manifests.map((m) => m.file))].filter(
        (file) => !NOT_APPLIED.includes(file),
      );
      expect([...(kustomization.resources ?? [])].sort()).toEqual(expected.sort());
      for (const file of NOT_APPLIED) expect(existsSync(join(root, K8S, file))).toBe(true);
    });

    it('names the image every container runs, so one entry sets the release', () => {
      const [image] = kustomization.images ?? [];
      expect(kustomization.images).toHaveLength(1);
      for (const [, container] of containers) {
        expect(container.image?.split(':')[0]).toBe(image.name);
      }
    });
  });

  describe('API Deployment', () => {
    it('runs node dist/src/main.js, as the image and npm run start:prod do', () => {
      const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
      expect(apiContainer.command).toEqual(['node', 'dist/src/main.js']);
      expect(apiContainer.command?.join(' ')).toBe(pkg.scripts['start:prod']);
      const imageCmd = read('Dockerfile')
        .match(/^CMD (.+)$/gm)
        ?.at(-1)
        ?.slice('CMD '.length);
      expect(JSON.parse(imageCmd ?? 'null')).toEqual(apiContainer.command);
    });

    it('probes /health/live and /health/ready, routes of the app, on its PORT', () => {
      const routes = routesOf(HealthController);
      const { port } = loadConfig(appEnvironment(apiPod, apiContainer, strongSecrets)).http;
      expect(apiContainer.startupProbe?.httpGet?.path).toBe('/health/live');
      expect(apiContainer.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(apiContainer.readinessProbe?.httpGet?.path).toBe('/health/ready');
      for (const probe of [
        apiContainer.startupProbe,
        apiContainer.livenessProbe,
        apiContainer.readinessProbe,
      ]) {
        expect(routes).toContain(probe?.httpGet?.path);
        expect(portNumber(apiContainer, probe?.httpGet?.port)).toBe(port);
      }
    });

    it('gives the startup probe well over a cold start before liveness takes over', () => {
      const probe = apiContainer.startupProbe;
      const budget = (probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3);
      expect(budget).toBeGreaterThanOrEqual(10 * COLD_START_S);
    });

    it('outlasts the preStop sleep, the shutdown delay and the drain before SIGKILL', () => {
      const pod = apiPod;
      const { delayMs, timeoutMs } = loadConfig(
        appEnvironment(pod, apiContainer, strongSecrets),
      ).shutdown;
      const preStop = preStopSleepSeconds(apiContainer);
      expect(preStop).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(
        (delayMs + timeoutMs) / 1000 + preStop,
      );
    });

    it('leaves the replica count to the HorizontalPodAutoscaler', () => {
      expect(api.spec?.replicas).toBeUndefined();
    });
  });

  describe('worker Deployment', () => {
    it('runs node dist/src/worker.js, compiled from src/worker.ts, as npm run start:worker does', () => {
      const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
      expect(workerContainer.command).toEqual(['node', 'dist/src/worker.js']);
      expect(workerContainer.command?.join(' ')).toBe(pkg.scripts['start:worker']);
      expect(existsSync(join(root, 'src/worker.ts'))).toBe(true);
    });

    it('probes /health/live and /health/ready on WORKER_PORT', () => {
      const { port } = loadConfig(appEnvironment(workerPod, workerContainer, strongSecrets)).worker;
      expect(workerContainer.startupProbe?.httpGet?.path).toBe('/health/live');
      expect(workerContainer.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(workerContainer.readinessProbe?.httpGet?.path).toBe('/health/ready');
      for (const probe of [
        workerContainer.startupProbe,
        workerContainer.livenessProbe,
        workerContainer.readinessProbe,
      ]) {
        expect(portNumber(workerContainer, probe?.httpGet?.port)).toBe(port);
      }
    });

    it('outlasts the shutdown delay and the drain before SIGKILL', () => {
      const pod = workerPod;
      const { delayMs, timeoutMs } = loadConfig(
        appEnvironment(pod, workerContainer, strongSecrets),
      ).shutdown;
      expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(
        (delayMs + timeoutMs) / 1000 + preStopSleepSeconds(workerContainer),
      );
    });
  });

  describe('every pod', () => {
    it('runs as the image user node (uid 1000), non-root, read-only, unprivileged', () => {
      expect(read('Dockerfile')).toMatch(/^USER node$/m);
      for (const [pod, container] of containers) {
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 1000,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 1000,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    });

    it('writes only to an emptyDir at /tmp: services mode keeps no data on disk', () => {
      for (const [pod, container] of containers) {
        const writable = (container.volumeMounts ?? []).filter((m) => m.readOnly !== true);
        expect(writable.map((m) => m.mountPath)).toEqual(['/tmp']);
        const tmp = pod.volumes?.find((v) => v.name === writable[0].name);
        expect(tmp?.emptyDir).toBeDefined();
        // DATA_DIR is only written by embedded PGlite, which a DATABASE_URL turns off.
        expect(
          loadConfig(appEnvironment(pod, container, strongSecrets)).database.url,
        ).toBeDefined();
      }
    });

    it('loads a valid production configuration from the ConfigMap and the secret files', () => {
      for (const [pod, container] of containers) {
        const env = appEnvironment(pod, container, strongSecrets);
        expect(env.APP_ENV).toBe('production');
        const config = loadConfig(env);
        expect(config.app.env).toBe('production');
        expect(config.database.migrateOnBoot).toBe(false);
        expect(config.redis.url).toBeDefined();
      }
    });

    it('runs jobs in the worker Deployment, not in the API', () => {
      const config = loadConfig(appEnvironment(apiPod, apiContainer, strongSecrets));
      expect(config.worker.inProcess).toBe(false);
    });

    it('requests and limits CPU and memory, requests within limits', () => {
      for (const [, container] of containers) {
        const { requests = {}, limits = {} } = container.resources ?? {};
        for (const resource of ['cpu', 'memory']) {
          expect(quantity(requests[resource])).toBeGreaterThan(0);
          expect(quantity(requests[resource])).toBeLessThanOrEqual(quantity(limits[resource]));
        }
      }
    });

    it("caps the API's and the worker's heap well under their memory limit", () => {
      for (const container of [apiContainer, workerContainer]) {
        const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
        const [, heapMb] = /--max-old-space-size=(\d+)\b/.exec(options) ?? [];
        expect(heapMb).toBeDefined();
        const limit = quantity(container.resources?.limits?.memory);
        expect(Number(heapMb) * 2 ** 20).toBeLessThanOrEqual(limit * 0.8);
      }
    });

    it('runs the same image as the others', () => {
      expect(new Set(containers.map(([, c]) => c.image)).size).toBe(1);
    });
  });

  describe('Prometheus', () => {
    it.each([
      ['API', () => api, () => apiContainer],
      ['worker', () => worker, () => workerContainer],
    ])('scrapes the %s pods on /metrics at their container port', (_, deployment, container) => {
      const annotations = deployment().spec?.template.metadata?.annotations ?? {};
      const ports = (container().ports ?? []).map((p) => String(p.containerPort));
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(ports).toContain(annotations['prometheus.io/port']);
      expect(annotations['prometheus.io/path']).toBe('/metrics');
      expect(routesOf(MetricsController)).toContain('/metrics');
    });
  });

  describe('configuration', () => {
    const documented = new Set(
      [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map(([, name]) => name),
    );
    const fileVariables = SECRET_VARIABLES.map((name) => `${name}_FILE`);

    it('names only variables the app documents in .env.example, secrets as <NAME>_FILE', () => {
      const named = [
        ...Object.keys(configMap.data ?? {}),
        ...containers.flatMap(([, c]) => (c.env ?? []).map((e) => e.name)),
      ];
      const unknown = named.filter((n) => !documented.has(n) && !fileVariables.includes(n));
      expect(named.length).toBeGreaterThan(0);
      expect(unknown).toEqual([]);
    });

    it('keeps every secret out of the ConfigMap', () => {
      for (const name of SECRET_VARIABLES) expect(configMap.data).not.toHaveProperty(name);
    });

    it('mounts a file for every <NAME>_FILE, and every Secret key is a secret the app reads', () => {
      const files = Object.keys(configMap.data ?? {}).filter((n) => n.endsWith('_FILE'));
      const keys = Object.keys({ ...secretExample.data, ...secretExample.stringData });
      expect(files.sort()).toEqual(keys.map((k) => `${k}_FILE`).sort());
      for (const key of keys) expect(SECRET_VARIABLES).toContain(key);
      for (const [pod] of containers) {
        expect(pod.volumes).toContainEqual(
          expect.objectContaining({ secret: expect.objectContaining({ secretName: SECRET_NAME }) }),
        );
      }
    });

    it('ships a Secret example the app refuses to start with', () => {
      const env = appEnvironment(apiPod, apiContainer, secretValues);
      let problems: string[] = [];
      try {
        loadConfig(env);
      } catch (error) {
        problems = error instanceof ConfigValidationError ? error.problems : [];
      }
      expect(problems).toContainEqual(expect.stringMatching(/^JWT_SECRET:/));
      expect(problems).toContainEqual(expect.stringMatching(/^WEBHOOK_SIGNING_SECRET:/));
    });
  });

  describe('labels and selectors', () => {
    const apiSelector = api.spec?.selector.matchLabels;
    const workerLabels = worker.spec?.template.metadata?.labels;
    const apiPodLabels = api.spec?.template.metadata?.labels;
    const migrationLabels = job.spec?.template.metadata?.labels;

    it('each Deployment selects its own pods and not the other one', () => {
      expect(labelsMatch(apiSelector, api.spec?.template.metadata?.labels)).toBe(true);
      expect(labelsMatch(worker.spec?.selector.matchLabels, workerLabels)).toBe(true);
      expect(labelsMatch(apiSelector, workerLabels)).toBe(false);
      expect(
        labelsMatch(worker.spec?.selector.matchLabels, api.spec?.template.metadata?.labels),
      ).toBe(false);
    });

    it('the Service sends port 80 to the API pods only, on their http port', () => {
      const [port] = service.spec?.ports ?? [];
      expect(service.spec?.selector).toEqual(apiSelector);
      expect(labelsMatch(service.spec?.selector, workerLabels)).toBe(false);
      expect(labelsMatch(service.spec?.selector, migrationLabels)).toBe(false);
      expect(port.port).toBe(80);
      expect(portNumber(apiContainer, port.targetPort)).toBe(
        loadConfig(appEnvironment(apiPod, apiContainer, strongSecrets)).http.port,
      );
    });

    it('the HorizontalPodAutoscaler scales the API Deployment on CPU from two replicas', () => {
      expect(hpa.spec?.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: api.metadata?.name,
      });
      expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec?.maxReplicas).toBeGreaterThan(hpa.spec?.minReplicas ?? 1);
      expect(hpa.spec?.metrics).toContainEqual(
        expect.objectContaining({
          type: 'Resource',
          resource: expect.objectContaining({ name: 'cpu' }),
        }),
      );
    });

    it('the PodDisruptionBudget covers the API pods and lets a drain take one at a time', () => {
      expect(pdb.spec?.selector?.matchLabels).toEqual(apiSelector);
      expect(labelsMatch(pdb.spec?.selector?.matchLabels, workerLabels)).toBe(false);
      expect(pdb.spec?.maxUnavailable).toBe(1);
      expect(pdb.spec?.minAvailable).toBeUndefined();
    });

    it('a PodDisruptionBudget lets a drain take one worker pod at a time, and only workers', () => {
      expect(workerPdb.spec?.selector?.matchLabels).toEqual(worker.spec?.selector.matchLabels);
      expect(labelsMatch(workerPdb.spec?.selector?.matchLabels, workerLabels)).toBe(true);
      expect(labelsMatch(workerPdb.spec?.selector?.matchLabels, apiPodLabels)).toBe(false);
      expect(workerPdb.spec?.maxUnavailable).toBe(1);
      expect(worker.spec?.replicas).toBeGreaterThan(1);
    });

    it('at full scale, every database pool together fits under max_connections', () => {
      const { poolSize } = loadConfig(appEnvironment(apiPod, apiContainer, strongSecrets)).database;
      const processes = (hpa.spec?.maxReplicas ?? 0) + (worker.spec?.replicas ?? 1) + 1;
      expect(processes * poolSize).toBeLessThan(POSTGRES_MAX_CONNECTIONS);
    });
  });

  describe('migration Job', () => {
    it('runs the TypeORM CLI of the image on the compiled data source, as npm run migration:run', () => {
      const pkg = JSON.parse(read('package.json')) as {
        scripts: Record<string, string>;
        dependencies: Record<string, string>;
      };
      expect(migrateContainer.command).toEqual([
        'node',
        'node_modules/typeorm/cli.js',
        'migration:run',
        '-d',
        DATA_SOURCE,
      ]);
      expect(pkg.scripts['migration:run']).toBe(`typeorm migration:run -d ${DATA_SOURCE}`);
      // The image installs production dependencies only.
      expect(pkg.dependencies).toHaveProperty('typeorm');
      expect(existsSync(join(root, 'src/database/data-source.ts'))).toBe(true);
    });

    it('runs once per creation, retries little, and cleans up after itself', () => {
      expect(job.metadata?.generateName).toBeTruthy();
      expect(jobPod.restartPolicy).toBe('Never');
      expect(job.spec?.backoffLimit).toBeLessThanOrEqual(2);
      expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
      expect(job.spec?.ttlSecondsAfterFinished).toBeGreaterThan(0);
    });
  });
});
