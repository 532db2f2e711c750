-- A ledger address names its account in one spelling only: ids in canonical form (lower case,
-- hyphenated), so no balance can have a second account under another spelling of its wallet id.
-- NOT VALID: rows written before this check are not refused here (the migration would fail on
-- them), and ledger verify (the CLI) reports them.
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_address_canonical" CHECK (
  "address" ~ '^(world|wallet:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[A-Za-z0-9_-]{1,64}|hold:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'
) NOT VALID;

ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_addresses_canonical" CHECK (
  "source" ~ '^(world|wallet:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[A-Za-z0-9_-]{1,64}|hold:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'
  AND "destination" ~ '^(world|wallet:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[A-Za-z0-9_-]{1,64}|hold:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'
) NOT VALID;
