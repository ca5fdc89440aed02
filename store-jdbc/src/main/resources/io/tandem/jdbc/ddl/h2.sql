-- Tandem offsets table, H2 2.x. ${table} is the configured name, checked and quoted.
CREATE TABLE IF NOT EXISTS ${table} (
  group_id     CHARACTER VARYING NOT NULL,
  topic        CHARACTER VARYING NOT NULL,
  partition_id INTEGER NOT NULL CHECK (partition_id >= 0),
  next_offset  BIGINT  NOT NULL CHECK (next_offset >= 0),
  PRIMARY KEY (group_id, topic, partition_id)
);
