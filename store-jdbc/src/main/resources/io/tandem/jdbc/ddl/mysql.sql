-- Tandem offsets table, MySQL 8.0+. ${table} is the configured name, checked and quoted.
-- utf8mb4_0900_bin is byte-exact and NO PAD: 'g', 'g ' and 'G' are three groups.
CREATE TABLE IF NOT EXISTS ${table} (
  group_id     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin NOT NULL,
  topic        VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin NOT NULL,
  partition_id INT    NOT NULL CHECK (partition_id >= 0),
  next_offset  BIGINT NOT NULL CHECK (next_offset >= 0),
  PRIMARY KEY (group_id, topic, partition_id)
) ENGINE = InnoDB;
