-- Tandem offsets table, MariaDB. ${table} is the configured name, checked and quoted.
-- utf8mb4_nopad_bin: byte-exact comparison without trailing-space padding, so 'g' and 'g ' and
-- 'G' are three groups (the default collations fold case and ignore trailing spaces).
-- 255 characters is above Kafka's topic limit (249); the key stays under InnoDB's 3072 bytes.
CREATE TABLE IF NOT EXISTS ${table} (
  group_id     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
  topic        VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
  partition_id INT    NOT NULL CHECK (partition_id >= 0),
  next_offset  BIGINT NOT NULL CHECK (next_offset >= 0),
  PRIMARY KEY (group_id, topic, partition_id)
) ENGINE = InnoDB;
