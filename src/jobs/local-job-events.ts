import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { JobEvent, JobEvents } from './job-events';

/** Embedded mode: the worker runs in this process, so events never leave it. */
@Injectable()
export class LocalJobEvents extends JobEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(event: JobEvent): Promise<void> {
    this.emitter.emit('event', event);
    return Promise.resolve();
  }

  subscribe(listener: (event: JobEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
