/**
 * Quoted strings ('...', E'...', $tag$...$tag$): what a statement sent as text carries its values
 * in. The idempotency driver's own round trip is one such text (BEGIN; EXECUTE onceql_read(...);
 * ...; COMMIT), with the key, the fingerprint and the stored outcome quoted in it.
 */
const LITERALS = /[Ee]'(?:[^'\\]|\\[\s\S]|'')*'|'(?:[^']|'')*'|\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g;

/** The statement as a trace may show it: every quoted string replaced with `?`; $1 placeholders stay. */
export function withoutLiterals(sql: string): string {
  return sql.replace(LITERALS, "?");
}
