package io.tandem.bench;

/**
 * One small keyed result: what every benchmark writes, per record or per slot.
 *
 * @param key the result's key (upserted: a later write with the same key overwrites)
 * @param value a short text value
 */
public record Row(String key, String value) {}
