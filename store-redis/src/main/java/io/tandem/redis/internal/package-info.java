/**
 * Internal: may change in any release. Key layout, error mapping and parsing for the Redis store.
 */
package io.tandem.redis.internal;
