-- The tables of @onceql/pothos-plugin-idempotency, as createIdempotency(...).ensureSchema() creates them.
CREATE TABLE IF NOT EXISTS onceql_idempotency_records (
  scope text NOT NULL,
  client_mutation_id text NOT NULL,
  mutation text NOT NULL,
  fingerprint text NOT NULL,
  status text NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED')),
  outcome text,
  input text,
  encrypted boolean NOT NULL DEFAULT false,
  replay_count integer NOT NULL DEFAULT 0,
  conflict_count integer NOT NULL DEFAULT 0,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  completed_at timestamptz(3),
  expires_at timestamptz(3) NOT NULL,
  PRIMARY KEY (scope, client_mutation_id)
);
CREATE INDEX IF NOT EXISTS onceql_idempotency_records_expires_at_idx ON onceql_idempotency_records (expires_at);
CREATE TABLE IF NOT EXISTS onceql_idempotency_daily_stats (
  scope text NOT NULL,
  day date NOT NULL,
  mutation text NOT NULL,
  executions integer NOT NULL DEFAULT 0,
  replays integer NOT NULL DEFAULT 0,
  conflicts integer NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, day, mutation)
);
CREATE INDEX IF NOT EXISTS onceql_idempotency_daily_stats_day_idx ON onceql_idempotency_daily_stats (day);
