import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'socket.io-client';
import { ApiClient } from '../lib/api-client';
import { rssMb } from '../lib/processes';
import { connectMany } from '../lib/sockets';
import { percentile, round } from '../lib/stats';

export interface FanOutSettings {
  clients: number;
  maxSockets: number;
  broadcasts: number;
  warmupBroadcasts: number;
  apiPid: number;
}

interface Deliveries {
  broadcasts: number;
  /** Every client's delivery, from the POST being sent, in ms. */
  perClientMs: { p50: number; p99: number; max: number };
  /** The last client's delivery of each broadcast, in ms. */
  lastDeliveryMs: { p50: number; p99: number; max: number };
  /** Broadcasts some client had not received after 5 s. */
  incomplete: number;
}

export interface FanOutResult {
  clients: number;
  connectFailures: number;
  connectError?: string;
  connectMs: number;
  /** The API's RSS before any socket, then with `clients` sockets. */
  rssMbBefore: number;
  rssMbAtClients: number;
  deliveries: Deliveries;
  held: {
    target: number;
    connected: number;
    connectFailures: number;
    /** The API's own count (websocket_connections on /metrics). */
    serverGauge?: number;
    rssMb: number;
    deliveries: Deliveries;
  };
}

type Round = { tag: string; t0: number; times: number[] };

/** Broadcasts `count` times to every socket; each timed from its POST to each delivery. */
async function broadcastRounds(
  api: ApiClient,
  adminToken: string,
  sockets: Socket[],
  count: number,
  label: string,
): Promise<Deliveries> {
  let current: Round | undefined;
  const onBroadcast = (payload: { message: string }) => {
    if (current && payload.message === current.tag) current.times.push(performance.now());
  };
  for (const socket of sockets) socket.on('broadcast', onBroadcast);
  const all: number[] = [];
  const last: number[] = [];
  let incomplete = 0;
  try {
    for (let i = 0; i < count; i++) {
      const round: Round = { tag: `${label}-${i}`, t0: performance.now(), times: [] };
      current = round;
      await api.request('POST', '/v1/realtime/broadcast', {
        token: adminToken,
        body: { message: round.tag },
        expect: 202,
      });
      const deadline = round.t0 + 5000;
      while (round.times.length < sockets.length && performance.now() < deadline) await sleep(2);
      if (round.times.length < sockets.length) incomplete++;
      const latencies = round.times.map((t) => t - round.t0);
      all.push(...latencies);
      if (latencies.length > 0) last.push(Math.max(...latencies));
      await sleep(100);
    }
  } finally {
    current = undefined;
    for (const socket of sockets) socket.off('broadcast', onBroadcast);
  }
  return {
    broadcasts: count,
    perClientMs: {
      p50: round(percentile(all, 50)),
      p99: round(percentile(all, 99)),
      max: round(percentile(all, 100)),
    },
    lastDeliveryMs: {
      p50: round(percentile(last, 50)),
      p99: round(percentile(last, 99)),
      max: round(percentile(last, 100)),
    },
    incomplete,
  };
}

async function serverGauge(api: ApiClient): Promise<number | undefined> {
  const response = await fetch(`${api.baseUrl}/metrics`);
  if (!response.ok) return undefined;
  const match = /^websocket_connections (\d+)$/m.exec(await response.text());
  return match ? Number(match[1]) : undefined;
}

/**
 * `clients` Socket.IO clients (one user's token) receive `POST /v1/realtime/broadcast`; then the
 * API holds `maxSockets` and its RSS is read. Deliveries are timed in this process, so they
 * include this event loop's own work of receiving every client's frame.
 */
export async function fanOut(
  api: ApiClient,
  adminToken: string,
  userToken: string,
  settings: FanOutSettings,
): Promise<FanOutResult> {
  const sockets: Socket[] = [];
  try {
    const rssMbBefore = round(rssMb(settings.apiPid));
    const connectStart = performance.now();
    const first = await connectMany(api.baseUrl, userToken, settings.clients);
    const connectMs = round(performance.now() - connectStart, 0);
    sockets.push(...first.sockets);
    await sleep(1000);
    const rssMbAtClients = round(rssMb(settings.apiPid));
    await broadcastRounds(api, adminToken, sockets, settings.warmupBroadcasts, 'warmup');
    const deliveries = await broadcastRounds(api, adminToken, sockets, settings.broadcasts, 'fan');

    const more = await connectMany(
      api.baseUrl,
      userToken,
      Math.max(0, settings.maxSockets - sockets.length),
    );
    sockets.push(...more.sockets);
    await sleep(3000);
    const held = {
      target: settings.maxSockets,
      connected: sockets.filter((socket) => socket.connected).length,
      connectFailures: more.failed,
      serverGauge: await serverGauge(api),
      rssMb: round(rssMb(settings.apiPid)),
      deliveries: await broadcastRounds(api, adminToken, sockets, 5, 'held'),
    };
    return {
      clients: settings.clients,
      connectFailures: first.failed,
      connectError: first.firstError ?? more.firstError,
      connectMs,
      rssMbBefore,
      rssMbAtClients,
      deliveries,
      held,
    };
  } finally {
    for (const socket of sockets) socket.close();
  }
}
