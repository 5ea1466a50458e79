//! The hub's schema on PostgreSQL: embedded, forward-only migrations, run in one transaction
//! under an advisory lock (two tills connecting to a new hub at once migrate it once), refusing
//! a database written by a newer Kassa or one that is not Kassa's hub.
//!
//! The journal's rules hold in the database itself, whoever connects: the `journal_link`
//! trigger accepts an entry only as its register's next one (`seq` = head + 1, `prev_hash` =
//! the head's hash), skips an entry the hub already holds with the same hash (a resend), and
//! refuses one that differs; `UPDATE` and `DELETE` are refused. The content hash itself is
//! recomputed by the receiving code with `kassa_core::journal` (`receive.rs`), which is one
//! implementation of the chain for till and hub.

use crate::HubError;

/// `MIGRATIONS[n]` takes the hub from version `n` to `n + 1`. Never edit a released entry.
pub const MIGRATIONS: &[&str] = &[
    // 1: registers and their chain heads, the journal, its public keys, sessions and
    // operations as each till last pushed them, the shared product list, refused entries.
    r#"CREATE TABLE registers (
        register_id text PRIMARY KEY,
        head_seq bigint NOT NULL CHECK (head_seq >= 0),
        head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE journal (
        register_id text NOT NULL,
        seq bigint NOT NULL CHECK (seq >= 1),
        kind text NOT NULL,
        event_code text NOT NULL,
        at_ms bigint NOT NULL,
        local_date text NOT NULL,
        local_time text NOT NULL,
        operator_id bigint,
        session_id text,
        operation_id text,
        ref_seq bigint,
        nr bigint,
        gross_minor bigint,
        net_minor bigint,
        signature text,
        key_version text,
        body text NOT NULL,
        prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (register_id, seq)
    );
    CREATE INDEX journal_by_date ON journal (local_date, register_id);
    CREATE FUNCTION journal_link() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        head registers%ROWTYPE;
        held bytea;
    BEGIN
        INSERT INTO registers (register_id, head_seq, head_hash)
            VALUES (NEW.register_id, 0, decode(repeat('00', 32), 'hex'))
            ON CONFLICT (register_id) DO NOTHING;
        SELECT * INTO head FROM registers WHERE register_id = NEW.register_id FOR UPDATE;
        IF NEW.seq <= head.head_seq THEN
            SELECT hash INTO held FROM journal
                WHERE register_id = NEW.register_id AND seq = NEW.seq;
            IF held = NEW.hash THEN
                RETURN NULL; -- a resend of an entry the hub holds: nothing to do
            END IF;
            RAISE EXCEPTION 'register %: entry % differs from the one the hub holds',
                NEW.register_id, NEW.seq USING ERRCODE = 'KH001';
        END IF;
        IF NEW.seq <> head.head_seq + 1 THEN
            RAISE EXCEPTION 'register %: entry % arrived after entry % (entries missing between)',
                NEW.register_id, NEW.seq, head.head_seq USING ERRCODE = 'KH002';
        END IF;
        IF NEW.prev_hash <> head.head_hash THEN
            RAISE EXCEPTION 'register %: entry % does not link to entry % (its previous hash differs)',
                NEW.register_id, NEW.seq, head.head_seq USING ERRCODE = 'KH003';
        END IF;
        UPDATE registers SET head_seq = NEW.seq, head_hash = NEW.hash, updated_at = now()
            WHERE register_id = NEW.register_id;
        RETURN NEW;
    END $$;
    CREATE TRIGGER journal_link BEFORE INSERT ON journal
        FOR EACH ROW EXECUTE FUNCTION journal_link();
    CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the journal is append-only';
    END $$;
    CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
        FOR EACH ROW EXECUTE FUNCTION journal_append_only();
    CREATE TABLE journal_keys (
        register_id text NOT NULL,
        key_version text NOT NULL,
        key_id text NOT NULL,
        public_key_pem text NOT NULL CHECK (public_key_pem LIKE '-----BEGIN PUBLIC KEY-----%'),
        created_ms bigint NOT NULL,
        PRIMARY KEY (register_id, key_version)
    );
    CREATE TABLE sessions (
        id text PRIMARY KEY,
        register_id text NOT NULL,
        provider text NOT NULL,
        demo boolean NOT NULL,
        merchant_reference text NOT NULL,
        currency text NOT NULL,
        gross_minor bigint NOT NULL,
        status text NOT NULL,
        created_ms bigint NOT NULL,
        updated_ms bigint NOT NULL,
        operator_id bigint,
        record jsonb NOT NULL,
        order_json text NOT NULL,
        version bigint NOT NULL
    );
    CREATE INDEX sessions_by_created ON sessions (created_ms DESC, id);
    CREATE TABLE operations (
        id text PRIMARY KEY,
        session_id text NOT NULL,
        register_id text NOT NULL,
        kind text NOT NULL,
        state text NOT NULL,
        amount bigint NOT NULL,
        updated_ms bigint NOT NULL,
        record jsonb NOT NULL,
        version bigint NOT NULL
    );
    CREATE INDEX operations_by_session ON operations (session_id);
    CREATE TABLE products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        unit_price bigint NOT NULL CHECK (unit_price >= 0),
        vat_rate text NOT NULL,
        removed boolean NOT NULL DEFAULT false,
        changed_by text NOT NULL,
        changed_seq bigint NOT NULL
    );
    CREATE TABLE refusals (
        register_id text NOT NULL,
        seq bigint NOT NULL,
        reason text NOT NULL,
        first_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (register_id, seq)
    );"#,
    // 2: each till's last push that reached the hub and what still waited in its outbox
    // after it, so a shop-wide report can say which registers may be behind.
    r#"CREATE TABLE till_pushes (
        register_id text PRIMARY KEY,
        pushed_at timestamptz NOT NULL DEFAULT now(),
        waiting bigint NOT NULL CHECK (waiting >= 0)
    );"#,
];

/// Brings the hub's schema up to date, or refuses.
pub fn migrate(client: &mut postgres::Client) -> Result<(), HubError> {
    let mut tx = client.transaction()?;
    // One migrator at a time; the lock ends with the transaction. ("KASS" as a number.)
    tx.execute("SELECT pg_advisory_xact_lock(1262572371)", &[])?;
    let has_version_table: bool = tx
        .query_one("SELECT to_regclass('kassa_hub_schema') IS NOT NULL", &[])?
        .get(0);
    let version: i64 = if has_version_table {
        tx.query_one("SELECT version FROM kassa_hub_schema", &[])?
            .get(0)
    } else {
        let tables: i64 = tx
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                &[],
            )?
            .get(0);
        if tables > 0 {
            return Err(HubError::NotKassa);
        }
        tx.batch_execute(
            "CREATE TABLE kassa_hub_schema (version bigint NOT NULL);
             INSERT INTO kassa_hub_schema VALUES (0);",
        )?;
        0
    };
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(HubError::NewerHub {
            found: version,
            supported,
        });
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "UPDATE kassa_hub_schema SET version = $1",
            &[&(from as i64 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}
