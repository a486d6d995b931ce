-- Indexes PostgreSQL can use for the filters FerretDB v1.24.2 pushes down. Installed by
-- deploy/local/backends.sh into the fresh "ferretdb" database of the LOCAL test cluster only
-- (production runs on a real MongoDB; see deploy/local/README.md, "Lookup indexes").
--
-- FerretDB's PostgreSQL handler (internal/backends/postgresql/query.go) turns an equality on a top-level
-- field into `_jsonb -> $1 @> $2` (key and value bound as parameters), but every index it creates is a btree
-- on `((_jsonb -> 'field'))` (metadata/registry.go), which cannot serve `@>`: every find, count, update and
-- delete — a get by _id and the compare-and-set {_id, _v} included — reads the whole table.
--
-- After each CREATE INDEX, this trigger looks at the new index: when it is a btree whose every column is
-- `_jsonb -> '<field>'` (a top-level field: FerretDB does not push dotted paths down), it adds a GIN index
-- (jsonb_path_ops, which serves exactly `@>`) over the same expressions, named <index>_gin. FerretDB's own
-- index stays: a unique one is what makes FerretDB's uniqueness, and its UPDATE/DELETE find rows by
-- `_jsonb -> '_id' = $n`, which the btree serves. Replacing a non-unique btree by the GIN under the same
-- name would spare writes one index, but DROP INDEX needs an ACCESS EXCLUSIVE lock, which waits for FerretDB's
-- open cursors on the table while FerretDB holds its metadata lock for the createIndexes: a deadlock across
-- Go and PostgreSQL that neither can see. CREATE INDEX takes the SHARE lock FerretDB's statement already holds.
-- When FerretDB drops an index, the second trigger drops its GIN sibling (the table's lock is already held).
--
-- The planner matches the expression only in a custom plan (the field name is a bound parameter);
-- backends.sh therefore runs the cluster with plan_cache_mode = force_custom_plan.

CREATE FUNCTION griddesk_add_lookup_index() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    command record;
    ix record;
    columns text[];
    expression text;
BEGIN
    FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
        SELECT i.indexrelid, i.indrelid, i.indnkeyatts, c.relname, am.amname
          INTO ix
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam
         WHERE i.indexrelid = command.objid;
        CONTINUE WHEN NOT FOUND OR ix.amname <> 'btree';   -- the GIN this function adds fires it too
        columns := '{}';
        FOR k IN 1 .. ix.indnkeyatts LOOP
            expression := pg_get_indexdef(ix.indexrelid, k, false);   -- e.g. ((_jsonb -> 'state'::text))
            IF expression !~ '^\(*_jsonb -> ''[^'']+''::text\)*$' THEN
                columns := NULL;   -- a plain column, a nested path or anything else: nothing to add
                EXIT;
            END IF;
            columns := columns || format('%s jsonb_path_ops', expression);
        END LOOP;
        CONTINUE WHEN columns IS NULL OR cardinality(columns) = 0;
        EXECUTE format('CREATE INDEX %I ON %s USING gin (%s)', left(ix.relname, 59) || '_gin',
                       ix.indrelid::regclass, array_to_string(columns, ', '));
    END LOOP;
END
$$;

CREATE FUNCTION griddesk_drop_lookup_index() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN SELECT * FROM pg_event_trigger_dropped_objects()
                    WHERE object_type = 'index' AND original AND object_name !~ '_gin$' LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I.%I', dropped.schema_name, left(dropped.object_name, 59) || '_gin');
    END LOOP;
END
$$;

CREATE EVENT TRIGGER griddesk_add_lookup_index ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
    EXECUTE FUNCTION griddesk_add_lookup_index();
CREATE EVENT TRIGGER griddesk_drop_lookup_index ON sql_drop WHEN TAG IN ('DROP INDEX')
    EXECUTE FUNCTION griddesk_drop_lookup_index();
