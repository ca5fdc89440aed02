-- Tandem offsets table, PostgreSQL. ${table} is the configured name, checked and quoted.
-- One row per (group, topic, partition); next_offset is the consumer position (next offset to read).
-- TEXT compares byte-exact under deterministic collations, so group and topic are kept as given.
CREATE TABLE IF NOT EXISTS ${table} (
  group_id     TEXT    NOT NULL,
  topic        TEXT    NOT NULL,
  partition_id INTEGER NOT NULL CHECK (partition_id >= 0),
  next_offset  BIGINT  NOT NULL CHECK (next_offset >= 0),
  PRIMARY KEY (group_id, topic, partition_id)
);
