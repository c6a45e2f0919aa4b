/** One Server-Sent Event, as the HTML standard's event stream parser dispatches it. */
export interface SseEvent {
  /** `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** Last `id:` seen on the stream so far ("" if none). */
  id: string;
}

/**
 * Incremental parser for `text/event-stream` (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * Feed it decoded text in chunks of any size; it returns the events completed by each chunk.
 * Lines end with CRLF, LF or CR — a CR at the end of one chunk and an LF at the start of the next
 * are one line end. Comment lines (":" first, e.g. keep-alives) are skipped.
 */
export class SseParser {
  private buffer = '';
  private skipLeadingLf = false;
  private firstChunk = true;
  private eventType = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId = '';
  /** The server's `retry:` advice in milliseconds, once it gave one. */
  reconnectDelayMs: number | null = null;

  feed(chunk: string): SseEvent[] {
    if (this.firstChunk && chunk.length > 0) {
      this.firstChunk = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.skipLeadingLf && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.skipLeadingLf = false;
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (c === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          // The LF of a CRLF may come with the next chunk.
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.reconnectDelayMs = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the standard says.
        break;
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const event: SseEvent | null = this.hasData
      ? { event: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastId }
      : null;
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
    return event;
  }
}
