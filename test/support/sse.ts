/** One Server-Sent Events message, as a client dispatches it. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * A hand-written SSE client over fetch (the EventSource parsing rules: `field: value`
 * lines, a blank line dispatches, `:` starts a comment). It keeps every message and
 * comment, so tests await what they expect with a deadline.
 */
export async function openSse(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let ended: 'open' | 'done' | 'error' = 'open';
  let error: unknown;

  const consume = async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let current: SseMessage = { data: '' };
    let data: string[] = [];
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length > 0) messages.push({ ...current, data: data.join('\n') });
          current = { data: '' };
          data = [];
        } else if (line.startsWith(':')) {
          comments.push(line.slice(1).trim());
        } else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(value);
          else if (field === 'id') current.id = value;
          else if (field === 'event') current.event = value;
        }
        newline = buffer.indexOf('\n');
      }
    }
  };
  const done =
    res.status === 200
      ? consume().then(
          () => {
            ended = 'done';
          },
          (e: unknown) => {
            ended = 'error';
            error = e;
          },
        )
      : Promise.resolve();

  return {
    status: res.status,
    headers: res.headers,
    /** The body of an answer that is not a stream (an error). */
    text: () => res.text(),
    messages,
    comments,
    /** The messages' data, parsed. */
    events: <T>() => messages.map((m) => JSON.parse(m.data) as T),
    /** `open` while streaming; `done` when the server ended it; `error` when it broke. */
    state: () => ({ ended, error }),
    /** Settles when the stream is over, whoever ended it. */
    done,
    close: () => abort.abort(),
  };
}

export type SseClient = Awaited<ReturnType<typeof openSse>>;
