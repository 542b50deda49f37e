// `edgeflow decode` and `edgeflow encode`: BGP messages as hex lines <-> NDJSON.
// decode: one message per input line (whole message with marker; "0x", spaces and
// colons allowed) → one JSON object per line; a malformed message gives {"error": …}
// and the process goes on. encode: the inverse; `decode | encode` reproduces the bytes.
import { createInterface } from 'node:readline';
import { decodeMessage, encodeMessage, type CodecContext, type Family, afiSafi, EncodeError, type Message } from '../bgp/codec/index.js';

export interface CodecOptions {
  ctx: CodecContext;
}

/** Parses --add-path FAMILY (repeatable), --as2, --extended-message. */
export function parseCodecArgs(args: string[]): CodecOptions {
  const addPath = new Set<Family>();
  let as4 = true;
  let extendedMessage = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--add-path') {
      const f = args[++i];
      if (!f) throw new Error('--add-path needs a family, e.g. ipv4-unicast');
      afiSafi(f);
      addPath.add(f as Family);
    } else if (a.startsWith('--add-path=')) {
      const f = a.slice('--add-path='.length);
      afiSafi(f);
      addPath.add(f as Family);
    } else if (a === '--as2') as4 = false;
    else if (a === '--extended-message') extendedMessage = true;
    else throw new Error(`unknown option ${a}`);
  }
  return { ctx: { as4, addPath, extendedMessage } };
}

/** Hex text → bytes; tolerates 0x, whitespace and colons. */
export function parseHexLine(line: string): Uint8Array | string {
  const clean = line.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0) return 'odd number of hex digits';
  if (!/^[0-9a-fA-F]*$/.test(clean)) return 'not hex';
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function decodeLine(line: string, ctx: CodecContext): string {
  const bytes = parseHexLine(line);
  if (typeof bytes === 'string') {
    return JSON.stringify({ error: { code: 1, subcode: 2, data: '', action: 'session-reset', message: `input is ${bytes}` } });
  }
  const d = decodeMessage(bytes, ctx);
  if (!d.ok) return JSON.stringify({ error: d.error });
  return JSON.stringify(d.error ? { ...d.message, error: d.error } : d.message);
}

export function encodeLine(line: string, ctx: CodecContext): string {
  const m = JSON.parse(line) as Message & { error?: unknown };
  if (!m || typeof m !== 'object' || !('type' in m)) throw new EncodeError('type', 'each line must be a message object with a "type"');
  return encodeMessage(m, ctx).toString('hex');
}

async function eachLine(fn: (line: string) => void): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    fn(line);
  }
}

export async function runDecode(args: string[]): Promise<number> {
  const { ctx } = parseCodecArgs(args);
  const out: string[] = [];
  await eachLine((line) => {
    out.push(decodeLine(line, ctx));
    if (out.length >= 256) process.stdout.write(out.splice(0).join('\n') + '\n');
  });
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  return 0;
}

export async function runEncode(args: string[]): Promise<number> {
  const { ctx } = parseCodecArgs(args);
  let failed = 0;
  await eachLine((line) => {
    try {
      process.stdout.write(encodeLine(line, ctx) + '\n');
    } catch (err) {
      failed++;
      process.stdout.write(JSON.stringify({ error: { message: (err as Error).message } }) + '\n');
    }
  });
  return failed ? 1 : 0;
}
