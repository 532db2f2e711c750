/**
 * JSON that keeps what JSON cannot hold, for stored outcomes. The data stays plain JSON, object
 * keys included: a key named `__proto__`, `constructor` or `prototype` is data like any other, at
 * any depth. The values JSON cannot hold are listed beside it by path with a tag, and put back on
 * the way out with defineProperty, which never reaches a prototype.
 *
 * Tags: `bigint` and `date` (their string at the path, as every version of this format wrote
 * them); `bytes` (a Uint8Array), `buffer` (a Node.js Buffer) and `value:<name>` (a class
 * registered in `values`), whose JSON sits at the path wrapped in a one-element array. The wrapper
 * is there for servers older than those tags: they revive any tag from a string, so an unwrapped
 * string would come back to them as an Invalid Date; an array makes them refuse the record.
 */
type Path = (string | number)[];
type Tag = string;

interface Encoded {
  v: 1;
  data: unknown;
  types?: [Path, Tag][];
}

/**
 * A class whose instances an outcome may hold (a payload's field, or a stored error's property),
 * registered with `createIdempotency({ values: [...] })`: how one is told apart, written as JSON,
 * and made again on replay.
 *
 * @example
 * ```ts
 * const money: ValueClass<Money, string> = {
 *   name: "Money",
 *   is: (value) => value instanceof Money,
 *   toJSON: (money) => money.toString(),
 *   fromJSON: (text) => Money.parse(text),
 * };
 * createIdempotency({ driver, values: [money] });
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: a list of value classes holds classes of every type.
export interface ValueClass<T = any, Json = any> {
  /**
   * Stored with each value (as the tag `value:<name>`) to find this class again on replay: keep it
   * once outcomes hold it. Renaming it, or removing the class, makes the records that hold it
   * unreadable until they expire.
   */
  readonly name: string;
  /** Whether `value` (an object that is neither a plain object nor an array) is one of this class. */
  is(value: unknown): value is T;
  /**
   * What is stored: any value an outcome may hold (JSON, a BigInt, a Date, bytes, another
   * registered class), but not one of this class again.
   */
  toJSON(value: T): Json;
  /** Makes the value again from what `toJSON` gave, its BigInts, Dates and registered values revived. */
  fromJSON(json: Json): T;
}

const BUILT_IN: Record<string, (stored: unknown) => unknown> = {
  bigint: (stored) => BigInt(stringAt(stored, "bigint")),
  date: (stored) => new Date(stringAt(stored, "date")),
  bytes: (stored) => new Uint8Array(Buffer.from(stringAt(unwrap(stored, "bytes"), "bytes"), "base64")),
  buffer: (stored) => Buffer.from(stringAt(unwrap(stored, "buffer"), "buffer"), "base64"),
};

const VALUE_TAG = "value:";

/** Typed JSON over a set of registered value classes (none by default). */
export class TypedJson {
  private readonly values: readonly ValueClass[];
  private readonly byName: ReadonlyMap<string, ValueClass>;

  constructor(values: readonly ValueClass[] = []) {
    const byName = new Map<string, ValueClass>();
    for (const value of values) {
      if (typeof value?.name !== "string" || value.name === "") throw new TypeError("a value class in `values` needs a name");
      for (const method of ["is", "toJSON", "fromJSON"] as const) {
        if (typeof value[method] !== "function") throw new TypeError(`the value class ${value.name} in \`values\` has no ${method}`);
      }
      if (byName.has(value.name)) throw new TypeError(`two value classes in \`values\` are named ${value.name}`);
      byName.set(value.name, value);
    }
    this.values = values;
    this.byName = byName;
  }

  stringify(value: unknown): string {
    const types: [Path, Tag][] = [];
    const data = this.toJson(value, [], types);
    const encoded: Encoded = types.length ? { v: 1, data, types } : { v: 1, data };
    return JSON.stringify(encoded);
  }

  parse(text: string): unknown {
    const encoded = JSON.parse(text) as Encoded;
    let data = encoded.data;
    // Tags are listed inner first, so a registered class's fromJSON gets its own values revived.
    for (const [path, tag] of encoded.types ?? []) {
      if (path.length === 0) {
        data = this.revive(data, tag);
        continue;
      }
      let parent = data as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) parent = ownValue(parent, key) as Record<string | number, unknown>;
      const key = path[path.length - 1]!;
      Object.defineProperty(parent, key, {
        value: this.revive(ownValue(parent, key), tag),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return data;
  }

  /** `path` is one stack, pushed and popped on the way down; only a tagged value copies it. */
  private toJson(value: unknown, path: Path, types: [Path, Tag][]): unknown {
    if (typeof value === "bigint") {
      types.push([[...path], "bigint"]);
      return value.toString();
    }
    if (Array.isArray(value)) return value.map((item, index) => within(path, index, () => this.toJson(item, path, types)));
    if (value !== null && typeof value === "object") {
      const prototype = Object.getPrototypeOf(value);
      if (prototype === Object.prototype || prototype === null) {
        // Object.fromEntries defines each key as data: "__proto__" stays an ordinary key.
        return Object.fromEntries(
          Object.entries(value)
            .filter(([, item]) => item !== undefined)
            .map(([key, item]) => [key, within(path, key, () => this.toJson(item, path, types))]),
        );
      }
      return this.instanceToJson(value, path, types);
    }
    if (typeof value === "function" || typeof value === "symbol" || (typeof value === "number" && !Number.isFinite(value))) {
      throw new TypeError(`an outcome cannot hold ${String(value)} at ${where(path)}`);
    }
    return value;
  }

  private instanceToJson(value: object, path: Path, types: [Path, Tag][]): unknown {
    // Registered classes come first: an adopter's class may extend Date or Uint8Array.
    const registered = this.values.find((candidate) => candidate.is(value));
    if (registered) {
      const json = registered.toJSON(value);
      if (json !== null && typeof json === "object" && registered.is(json)) {
        throw new TypeError(`the value class ${registered.name}'s toJSON gave a ${registered.name} again, at ${where(path)}`);
      }
      const wrapped = [within(path, 0, () => this.toJson(json, path, types))];
      types.push([[...path], VALUE_TAG + registered.name]);
      return wrapped;
    }
    if (value instanceof Date) {
      types.push([[...path], "date"]);
      return value.toISOString();
    }
    if (value instanceof Uint8Array) {
      // A Buffer is given back as a Buffer and any other Uint8Array as a plain Uint8Array: what
      // went in, for the code that reads the payload (Buffer's methods, or Prisma's Uint8Array).
      const tag = Buffer.isBuffer(value) ? "buffer" : "bytes";
      types.push([[...path], tag]);
      return [Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")];
    }
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } }).constructor?.name;
    const className = typeof name === "string" && name ? name : "class instance";
    throw new TypeError(
      `an outcome holds JSON, BigInts, Dates, Uint8Arrays, Buffers and the classes registered in createIdempotency's \`values\`; ` +
        `found a ${className} at ${where(path)}. Register its class in \`values\` ({ name, is, toJSON, fromJSON })` +
        (/^Decimal\d*$/.test(className)
          ? ", or for Prisma's Decimal pass prismaValues() from @onceql/pothos-plugin-idempotency/prisma"
          : "") +
        ", or return plain data",
    );
  }

  private revive(stored: unknown, tag: Tag): unknown {
    const builtIn = Object.hasOwn(BUILT_IN, tag) ? BUILT_IN[tag] : undefined;
    if (builtIn) return builtIn(stored);
    if (typeof tag === "string" && tag.startsWith(VALUE_TAG)) {
      const name = tag.slice(VALUE_TAG.length);
      const registered = this.byName.get(name);
      if (!registered) {
        throw new Error(
          `stored outcome holds a ${name}, and no class named ${name} is registered in createIdempotency's \`values\` ` +
            "(register it again to replay what was stored with it)",
        );
      }
      return registered.fromJSON(unwrap(stored, tag));
    }
    throw new Error(`stored outcome is damaged: unknown tag ${String(tag)}`);
  }
}

const plain = new TypedJson();

/** Typed JSON of `value` with no registered classes. */
export function stringify(value: unknown): string {
  return plain.stringify(value);
}

/** Reads typed JSON with no registered classes. */
export function parse(text: string): unknown {
  return plain.parse(text);
}

/** Whether `text` is in this format (outcomes stored before it are superjson). */
export function isTypedJson(text: string): boolean {
  return text.startsWith('{"v":1,');
}

function within<T>(path: Path, key: string | number, work: () => T): T {
  path.push(key);
  try {
    return work();
  } finally {
    path.pop();
  }
}

function where(path: Path): string {
  return path.length ? path.join(".") : "the root";
}

function ownValue(parent: Record<string | number, unknown>, key: string | number): unknown {
  if (parent === null || typeof parent !== "object" || !Object.hasOwn(parent, key)) {
    throw new Error(`stored outcome is damaged: nothing at ${String(key)}`);
  }
  return parent[key];
}

function stringAt(stored: unknown, tag: Tag): string {
  if (typeof stored !== "string") throw new Error(`stored outcome is damaged: a ${tag} that is not a string`);
  return stored;
}

function unwrap(stored: unknown, tag: Tag): unknown {
  if (!Array.isArray(stored) || stored.length !== 1) throw new Error(`stored outcome is damaged: a ${tag} not wrapped in an array`);
  return stored[0];
}
