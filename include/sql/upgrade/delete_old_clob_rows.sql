-- After their re-keyed copies are stored: remove the CLOB rows that still carry an old-style id.
ALTER TABLE {db:Identifier}.{fills_table:Identifier}
    DELETE WHERE source = 'clob' AND NOT match(fill_id, '^[0-9a-f]{32}$')
SETTINGS mutations_sync = 2;
