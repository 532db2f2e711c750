/**
 * JSON that keeps BigInts and Dates, for stored outcomes. The data stays plain JSON, object keys
 * included: a key named `__proto__`, `constructor` or `prototype` is data like any other, at any
 * depth. The values JSON cannot hold are listed beside it by path, and put back on the way out
 * with defineProperty, which never reaches a prototype.
 */
type Path = (string | number)[];
type Tag = "bigint" | "date";

interface Encoded {
  v: 1;
  data: unknown;
  types?: [Path, Tag][];
}

export function stringify(value: unknown): string {
  const types: [Path, Tag][] = [];
  const data = toJson(value, [], types);
  const encoded: Encoded = types.length ? { v: 1, data, types } : { v: 1, data };
  return JSON.stringify(encoded);
}

/** Whether `text` is in this format (outcomes stored before it are superjson). */
export function isTypedJson(text: string): boolean {
  return text.startsWith('{"v":1,');
}

export function parse(text: string): unknown {
  const encoded = JSON.parse(text) as Encoded;
  let data = encoded.data;
  for (const [path, tag] of encoded.types ?? []) {
    if (path.length === 0) {
      data = revive(data, tag);
      continue;
    }
    let parent = data as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = ownValue(parent, key) as Record<string | number, unknown>;
    const key = path[path.length - 1]!;
    Object.defineProperty(parent, key, { value: revive(ownValue(parent, key), tag), writable: true, enumerable: true, configurable: true });
  }
  return data;
}

/** `path` is one stack, pushed and popped on the way down; only a tagged value copies it. */
function toJson(value: unknown, path: Path, types: [Path, Tag][]): unknown {
  if (typeof value === "bigint") {
    types.push([[...path], "bigint"]);
    return value.toString();
  }
  if (value instanceof Date) {
    types.push([[...path], "date"]);
    return value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item, index) => within(path, index, () => toJson(item, path, types)));
  if (value !== null && typeof value === "object") {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new TypeError(
        `an outcome holds only plain data; found a ${prototype?.constructor?.name ?? "class instance"} at ${path.join(".")}`,
      );
    }
    // Object.fromEntries defines each key as data: "__proto__" stays an ordinary key.
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, within(path, key, () => toJson(item, path, types))]),
    );
  }
  if (typeof value === "function" || typeof value === "symbol" || (typeof value === "number" && !Number.isFinite(value))) {
    throw new TypeError(`an outcome cannot hold ${String(value)} at ${path.join(".")}`);
  }
  return value;
}

function within<T>(path: Path, key: string | number, work: () => T): T {
  path.push(key);
  try {
    return work();
  } finally {
    path.pop();
  }
}

function ownValue(parent: Record<string | number, unknown>, key: string | number): unknown {
  if (parent === null || typeof parent !== "object" || !Object.hasOwn(parent, key)) {
    throw new Error(`stored outcome is damaged: nothing at ${String(key)}`);
  }
  return parent[key];
}

function revive(value: unknown, tag: Tag): bigint | Date {
  if (typeof value !== "string") throw new Error(`stored outcome is damaged: a ${tag} that is not a string`);
  return tag === "bigint" ? BigInt(value) : new Date(value);
}
