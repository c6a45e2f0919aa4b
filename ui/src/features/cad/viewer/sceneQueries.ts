import { IndexHost, type FromWorker, type IndexAnswers, type IndexInfo, type IndexRequest, type ToWorker } from './indexHost';

/**
 * The page's side of the scene index: feed it the scene's bytes as they download, then ask it.
 * Backed by a Web Worker where one can start, else by the same code in the page.
 */
export interface SceneQueries {
  /** Starts a new scene (any previous one is forgotten). */
  begin(total: number | null): void;
  /** A downloaded piece; its buffer may be handed over (do not use `chunk` afterwards). */
  chunk(chunk: Uint8Array): void;
  /** All bytes are in: decode and index. Rejects with the reason when the scene is bad. */
  end(): Promise<IndexInfo>;
  ask<K extends IndexRequest['type']>(request: Extract<IndexRequest, { type: K }>): Promise<IndexAnswers[K]>;
  dispose(): void;
}

class WorkerQueries implements SceneQueries {
  private readonly worker: Worker;
  private scene = 0;
  private nextId = 1;
  private ready: { resolve: (info: IndexInfo) => void; reject: (error: Error) => void } | null = null;
  private readonly pending = new Map<number, (answer: unknown) => void>();

  constructor(worker: Worker) {
    this.worker = worker;
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.scene !== this.scene) return;
      if (message.type === 'ready') this.ready?.resolve(message.info);
      else if (message.type === 'failed') this.ready?.reject(new Error(message.message));
      else {
        this.pending.get(message.id)?.(message.answer);
        this.pending.delete(message.id);
      }
    };
    worker.onerror = (event) => {
      this.ready?.reject(new Error(`the scene index stopped: ${event.message}`));
    };
  }

  private post(message: ToWorker, transfer: Transferable[] = []) {
    this.worker.postMessage(message, transfer);
  }

  begin(total: number | null): void {
    this.scene += 1;
    this.ready = null;
    // Questions about the previous scene are answered with nothing.
    for (const resolve of this.pending.values()) resolve(null);
    this.pending.clear();
    this.post({ type: 'begin', scene: this.scene, total });
  }

  chunk(chunk: Uint8Array): void {
    // A whole buffer of its own (as fetch's chunks are) is handed over; a view into a larger one is copied.
    const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    this.post({ type: 'chunk', scene: this.scene, chunk }, own ? [chunk.buffer] : []);
  }

  end(): Promise<IndexInfo> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject };
      this.post({ type: 'end', scene: this.scene });
    });
  }

  ask<K extends IndexRequest['type']>(request: Extract<IndexRequest, { type: K }>): Promise<IndexAnswers[K]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, (answer) => resolve(answer as IndexAnswers[K]));
      this.post({ type: 'ask', scene: this.scene, id, request });
    });
  }

  dispose(): void {
    this.worker.terminate();
    for (const resolve of this.pending.values()) resolve(null);
    this.pending.clear();
  }
}

class InPageQueries implements SceneQueries {
  private readonly host = new IndexHost();

  begin(total: number | null): void {
    this.host.begin(total);
  }

  chunk(chunk: Uint8Array): void {
    this.host.chunk(chunk);
  }

  end(): Promise<IndexInfo> {
    try {
      return Promise.resolve(this.host.end());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  ask<K extends IndexRequest['type']>(request: Extract<IndexRequest, { type: K }>): Promise<IndexAnswers[K]> {
    return Promise.resolve(this.host.answer(request) as IndexAnswers[K]);
  }

  dispose(): void {
    // Nothing runs in the background.
  }
}

/** A worker-backed index where workers exist, else one in the page. */
export function createSceneQueries(): SceneQueries {
  if (typeof Worker !== 'undefined') {
    try {
      return new WorkerQueries(new Worker(new URL('./scene.worker.ts', import.meta.url), { type: 'module', name: 'scene-index' }));
    } catch {
      // A policy that forbids workers: build the index in the page instead.
    }
  }
  return new InPageQueries();
}
