/**
 * A syntax pass over a JSON text before JSON.parse reads it, for three things
 * JSON.parse cannot give: kube-apiserver's wording of a syntax error (Go's
 * encoding/json scanner: `invalid character '}' looking for beginning of
 * object key string`, `unexpected end of JSON input`), a nesting bound
 * enforced before anything recursive sees the value (Go's scanner stops at
 * `exceeded max depth`), and the paths of duplicate keys, which Kubernetes'
 * strict decoding reports (`duplicate field "metadata.name"`) and JSON.parse
 * silently resolves to the last one.
 *
 * Iterative over an explicit stack, so no input can overflow the call stack.
 */

export interface JsonSyntax {
  /** Go's error text when the text is not JSON (or nests deeper than allowed). */
  error?: string;
  /** Paths of keys that repeat within one object, as strict decoding names them (`spec.containers[0].name`). */
  duplicates: string[];
}

interface Frame {
  array: boolean;
  /** Object keys seen so far (objects only). */
  keys?: Set<string>;
  /** Index of the current element (arrays only). */
  index: number;
  /** Path of this container. */
  path: string;
  /** Path of the member being read (objects: set by its key). */
  member: string;
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Go's quoteChar: how its scanner shows the offending byte. */
function quoteChar(text: string, i: number): string {
  let c = text.charCodeAt(i);
  // Go scans bytes: a non-ASCII character shows as the rune of its first UTF-8 byte.
  if (c >= 0x80) c = Buffer.from(String.fromCodePoint(text.codePointAt(i)!), 'utf8')[0]!;
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const named: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x5c: '\\\\' };
  if (named[c]) return `'${named[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if ((c >= 0x80 && c < 0xa0) || c === 0xad) return `'\\u00${c.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(c)}'`;
}

class SyntaxFailure extends Error {
  override name = 'SyntaxFailure';
}

/** Checks `text` is one JSON value nested at most `maxDepth` deep; see the module doc. */
export function scanJson(text: string, maxDepth: number): JsonSyntax {
  const n = text.length;
  const duplicates: string[] = [];
  const stack: Frame[] = [];
  let i = 0;

  const fail = (context: string): never => {
    throw new SyntaxFailure(i >= n ? 'unexpected end of JSON input' : `invalid character ${quoteChar(text, i)} ${context}`);
  };
  const skipSpace = () => {
    while (i < n && SPACE.has(text.charCodeAt(i))) i++;
  };
  /** Reads a string literal starting at its quote; returns its raw text (quotes included). */
  const readString = (): string => {
    const start = i++;
    for (;;) {
      if (i >= n) fail('');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return text.slice(start, i);
      }
      if (c === 0x5c) {
        i++;
        if (i >= n) fail('');
        const e = text[i]!;
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= n) fail('');
            if (!/[0-9a-fA-F]/.test(text[i]!)) fail('in \\u hexadecimal character escape');
          }
        } else if (!'"\\/bfnrt'.includes(e)) fail('in string escape code');
        i++;
        continue;
      }
      if (c < 0x20) fail('in string literal');
      i++;
    }
  };
  const digits = () => {
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  };
  const isDigit = () => i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39;
  const readNumber = () => {
    if (text[i] === '-') {
      i++;
      if (!isDigit()) fail('in numeric literal');
    }
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      if (!isDigit()) fail('after decimal point in numeric literal');
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit()) fail('in exponent of numeric literal');
      digits();
    }
  };
  const readLiteral = (word: string) => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
  };
  const childPath = (top: Frame | undefined): string => (top ? (top.array ? `${top.path}[${top.index}]` : top.member) : '');
  /** Reads `"key":` inside the object on top of the stack. */
  const readKey = () => {
    skipSpace();
    if (text[i] !== '"') fail('looking for beginning of object key string');
    const raw = readString();
    const top = stack[stack.length - 1]!;
    const key = JSON.parse(raw) as string;
    top.member = top.path ? `${top.path}.${key}` : key;
    if (top.keys!.has(key)) duplicates.push(top.member);
    else top.keys!.add(key);
    skipSpace();
    if (text[i] !== ':') fail('after object key');
    i++;
  };

  try {
    let wantValue = true;
    for (;;) {
      skipSpace();
      if (wantValue) {
        if (i >= n) fail('');
        const c = text[i]!;
        if (c === '{' || c === '[') {
          const path = childPath(stack[stack.length - 1]);
          if (stack.length >= maxDepth) fail('exceeded max depth');
          stack.push({ array: c === '[', index: 0, path, member: path, ...(c === '{' ? { keys: new Set<string>() } : {}) });
          i++;
          skipSpace();
          if (text[i] === (c === '{' ? '}' : ']')) {
            stack.pop();
            i++;
            wantValue = false;
          } else if (c === '{') readKey();
          continue;
        }
        if (c === '"') readString();
        else if (c === '-' || (c >= '0' && c <= '9')) readNumber();
        else if (c === 't') readLiteral('true');
        else if (c === 'f') readLiteral('false');
        else if (c === 'n') readLiteral('null');
        else fail('looking for beginning of value');
        wantValue = false;
        continue;
      }
      const top = stack[stack.length - 1];
      if (!top) {
        if (i < n) fail('after top-level value');
        return { duplicates };
      }
      const c = text[i];
      if (c === ',') {
        i++;
        if (top.array) top.index++;
        else readKey();
        wantValue = true;
      } else if (c === (top.array ? ']' : '}')) {
        stack.pop();
        i++;
      } else fail(top.array ? 'after array element' : 'after object key:value pair');
    }
  } catch (err) {
    if (err instanceof SyntaxFailure) return { error: err.message, duplicates };
    throw err;
  }
}
