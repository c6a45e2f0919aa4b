import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse';

function parseAll(chunks: string[]): SseEvent[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.feed(chunk));
}

const pairs = (events: SseEvent[]) => events.map((e) => [e.event, e.data]);

describe('SseParser', () => {
  it('parses named events and defaults the name to "message"', () => {
    expect(pairs(parseAll(['event: ready\ndata: {}\n\ndata: plain\n\n']))).toEqual([
      ['ready', '{}'],
      ['message', 'plain'],
    ]);
  });

  it('gives the same events whatever the chunking, down to one character at a time', () => {
    const text = 'event: task\ndata: {"id":1,"progress":50}\n\n: keep-alive\n\nevent: resync\ndata: 3\n\n';
    const whole = parseAll([text]);
    expect(pairs(whole)).toEqual([
      ['task', '{"id":1,"progress":50}'],
      ['resync', '3'],
    ]);
    expect(parseAll(text.split(''))).toEqual(whole);
    expect(parseAll([text.slice(0, 17), text.slice(17, 40), text.slice(40)])).toEqual(whole);
  });

  it('accepts CRLF and CR line ends, including a CRLF split between chunks', () => {
    expect(pairs(parseAll(['data: a\r\n\r\ndata: b\r\r']))).toEqual([
      ['message', 'a'],
      ['message', 'b'],
    ]);
    expect(pairs(parseAll(['data: x\r', '\ndata: y\r', '\n\r', '\n']))).toEqual([['message', 'x\ny']]);
  });

  it('joins multi-line data with \\n and strips only one space after the colon', () => {
    expect(pairs(parseAll(['data:  two spaces\ndata:none\ndata\n\n']))).toEqual([['message', ' two spaces\nnone\n']]);
  });

  it('skips comments, unknown fields and events without data; keeps the last id and the retry advice', () => {
    const parser = new SseParser();
    const events = parser.feed(': comment\nfoo: bar\nevent: lonely\n\nid: 7\nretry: 2500\ndata: x\n\n');
    expect(events).toEqual([{ event: 'message', data: 'x', id: '7' }]);
    expect(parser.reconnectDelayMs).toBe(2500);
  });

  it('does not dispatch an event until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.feed('event: task\ndata: {}')).toEqual([]);
    expect(parser.feed('\n')).toEqual([]);
    expect(pairs(parser.feed('\n'))).toEqual([['task', '{}']]);
  });

  it('ignores a byte order mark at the start of the stream', () => {
    expect(pairs(parseAll(['\uFEFFdata: ok\n\n']))).toEqual([['message', 'ok']]);
  });
});
