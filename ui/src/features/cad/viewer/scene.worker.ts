/// <reference lib="webworker" />
import { IndexHost, type FromWorker, type ToWorker } from './indexHost';

// The scene index off the main thread: the page forwards the downloaded chunks as they arrive (their
// buffers transferred, not copied), then asks for picks, snaps, searches and highlights.

const scope = self as unknown as DedicatedWorkerGlobalScope;
const host = new IndexHost();
let current = -1;

function post(message: FromWorker, transfer: Transferable[] = []) {
  scope.postMessage(message, transfer);
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'begin':
      current = message.scene;
      host.begin(message.total);
      break;
    case 'chunk':
      if (message.scene === current) host.chunk(message.chunk);
      break;
    case 'end':
      if (message.scene !== current) break;
      try {
        const info = host.end();
        const transfer: Transferable[] = [
          ...info.textOutlines.flatMap((o) => [o.lines.buffer, o.pieces.buffer]),
          ...info.trees.flatMap((tree) => [tree.indices.buffer, tree.nodes.buffer]),
        ];
        if (info.glyphTrees) transfer.push(info.glyphTrees.records, ...info.glyphTrees.runs.map((run) => run.nodes.buffer));
        post({ type: 'ready', scene: message.scene, info }, transfer);
      } catch (error) {
        post({ type: 'failed', scene: message.scene, message: error instanceof Error ? error.message : String(error) });
      }
      break;
    case 'ask': {
      const answer = message.scene === current ? host.answer(message.request) : null;
      const transfer =
        answer && typeof answer === 'object' && 'lines' in answer ? [answer.lines.buffer, answer.triangles.buffer, answer.boxes.buffer] : [];
      post({ type: 'answer', scene: message.scene, id: message.id, answer }, transfer);
      break;
    }
  }
};
