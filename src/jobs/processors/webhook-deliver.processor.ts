import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHmac } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { request as httpRequest, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LookupFunction } from 'node:net';
import { AppConfig } from '../../config/app-config';
import { JobPayloads, JobResults } from '../job-payloads';
import { PermanentJobError } from '../job-queue';
import { JobContext, JobProcessor } from './job-processor';
import { isPublicAddress } from './public-address';

/**
 * POSTs `{id, event, data, createdAt}` with `X-Signature: sha256=<hex HMAC of the body>`; 2xx is
 * done, anything else is retried. The host is resolved and every address checked before
 * connecting, and the connection goes to the checked address (no DNS rebinding in between).
 */
@Injectable()
export class WebhookDeliverProcessor extends JobProcessor<'webhook.deliver'> {
  readonly type = 'webhook.deliver';
  private readonly secret: string;
  private readonly allowPrivate: boolean;
  private readonly timeoutMs: number;

  constructor(config: ConfigService<AppConfig, true>) {
    super();
    ({
      signingSecret: this.secret,
      allowPrivate: this.allowPrivate,
      timeoutMs: this.timeoutMs,
    } = config.get('webhooks', { infer: true }));
  }

  async process(
    payload: JobPayloads['webhook.deliver'],
    context: JobContext,
  ): Promise<JobResults['webhook.deliver']> {
    const url = new URL(payload.url);
    const address = await this.resolve(url.hostname.replace(/^\[|\]$/g, ''));
    // The job id and creation time are the same on every attempt, so receivers can dedupe.
    const body = JSON.stringify({
      id: context.id,
      event: payload.event,
      data: payload.data ?? null,
      createdAt: context.createdAt.toISOString(),
    });
    const signature = createHmac('sha256', this.secret).update(body).digest('hex');
    const status = await this.post(url, address, body, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'User-Agent': 'Keel-Webhooks/1',
      'X-Signature': `sha256=${signature}`,
      'X-Webhook-Id': context.id,
    });
    if (status < 200 || status >= 300) throw new Error(`The webhook target answered ${status}.`);
    return { status, attempts: context.attempt };
  }

  private async resolve(host: string): Promise<LookupAddress> {
    let addresses: LookupAddress[];
    try {
      addresses = await lookup(host, { all: true });
    } catch {
      throw new Error(`The webhook host ${host} could not be resolved.`);
    }
    if (!this.allowPrivate && addresses.some((entry) => !isPublicAddress(entry.address))) {
      throw new PermanentJobError(
        `The webhook host ${host} resolves to a private or loopback address; refused.`,
      );
    }
    return addresses[0];
  }

  private post(
    url: URL,
    address: LookupAddress,
    body: string,
    headers: Record<string, string>,
  ): Promise<number> {
    const pinned: LookupFunction = (_host, options, callback) => {
      if (options.all) callback(null, [address]);
      else callback(null, address.address, address.family);
    };
    const options: RequestOptions = {
      method: 'POST',
      headers,
      lookup: pinned,
      signal: AbortSignal.timeout(this.timeoutMs),
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<number>((resolve, reject) => {
      const req = send(url, options, (res) => {
        res.resume(); // the answer's body is not needed
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', (error) =>
        reject(
          new Error(
            error.name === 'AbortError'
              ? `The webhook target did not answer within ${this.timeoutMs} ms.`
              : `The webhook target could not be reached: ${error.message}`,
          ),
        ),
      );
      req.end(body);
    });
  }
}
